/**
 * Secrets (docs/wire.md#secrets): key/value maps at `<category>/<sdb>/<path>`, read, listed,
 * walked, written, merged and deleted.
 *
 * @module
 */
import * as v from "valibot";
import { cacheKeys, type CerberusClient, type ClientCore, clientCore, forget } from "../client/client.ts";
import { encodeSecretPath } from "../client/paths.ts";
import { type CerberusCall, decodeAnswer } from "../client/request.ts";
import { AbortedError, InvalidInputError, NotFoundError } from "../errors.ts";
import { isRecord, kindOf } from "../internal/decode.ts";
import { limiter } from "../internal/limit.ts";
import { sanitize } from "../internal/text.ts";

/** A secret: key → value, values as Cerberus stores them (strings). */
export type SecretData = Record<string, string>;

/** Options of a read. */
export interface ReadOptions {
  /** A version id from {@link listVersions} (`CURRENT` is the current one). */
  versionId?: string;
  /** Stops the read. */
  signal?: AbortSignal;
}

/** Options of a call that takes nothing but a signal. */
export interface CallOptions {
  /** Stops the call. */
  signal?: AbortSignal;
}

// Not v.record: that skips keys such as "constructor" and "__proto__", which are legal secret keys.
const isSecretData = (value: unknown): value is SecretData =>
  isRecord(value) && Object.values(value).every((item) => typeof item === "string");
const SecretAnswer = v.object({
  data: v.nullish(v.pipe(v.unknown(), v.check(isSecretData, "data is not a map of string values")), {}),
});
const ListAnswer = v.object({ data: v.nullish(v.object({ keys: v.nullish(v.array(v.string()), []) })) });

/** Checks a version id and returns it as a query (empty when there is none). */
export function versionQuery(versionId: unknown): string {
  if (versionId === undefined) return "";
  if (typeof versionId !== "string" || !/^[\w-]{1,64}$/.test(versionId)) {
    throw new InvalidInputError("must be a version id such as CURRENT or a UUID", { field: "versionId" });
  }
  return `?versionId=${versionId}`;
}

/**
 * Reads the secret at `path` (`<category>/<sdb>/<name>`). `T` names the keys you expect; every
 * value is checked to be a string, but which keys are present is not. A 404 throws a
 * {@link NotFoundError}.
 *
 * @example const { password } = await readSecret<{ password: string }>(client, "app/demo/db");
 */
export async function readSecret<T extends SecretData = SecretData>(
  client: CerberusClient,
  path: string,
  options?: ReadOptions,
): Promise<T> {
  const core = clientCore(client);
  const encoded = encodeSecretPath(path, { minSegments: 3 });
  const query = versionQuery(options?.versionId);
  const signal = options?.signal;
  if (!core.cache) return (await fetchSecret(core, encoded, query, path, signal)) as T;
  const data = await core.cache.read(cacheKeys.secret(encoded, query), () => fetchSecret(core, encoded, query, path), {
    signal,
    absent: (error) => error instanceof NotFoundError,
    size: secretSize,
  });
  // Each caller its own copy, frozen: no caller's change reaches another.
  return Object.freeze({ ...data }) as T;
}

/** The bytes a cached secret holds, roughly (UTF-16 code units of its keys and values). */
const secretSize = (data: SecretData) => Object.entries(data).reduce((n, [k, v]) => n + k.length + v.length, 0);

/** Reads a secret from Cerberus, never from the cache. */
async function fetchSecret(
  core: ClientCore,
  encoded: string,
  query: string,
  path: string,
  signal?: AbortSignal,
): Promise<SecretData> {
  const call: CerberusCall = {
    method: "GET",
    path: `/v1/secret/${encoded}${query}`,
    what: `reading ${path}`,
    step: "request",
    signal,
  };
  return (decodeAnswer(await core.call(call), SecretAnswer, call).data ?? {}) as SecretData;
}

/** Reads one key of the secret at `path`; a missing secret or key throws a {@link NotFoundError}. */
export async function readKey(
  client: CerberusClient,
  path: string,
  key: string,
  options?: ReadOptions,
): Promise<string> {
  if (typeof key !== "string" || key === "") {
    throw new InvalidInputError("must be a non-empty string", { field: "key" });
  }
  const data = await readSecret(client, path, options);
  if (!Object.hasOwn(data, key)) {
    throw new NotFoundError(`secret ${sanitize(path, 120)} has no key "${sanitize(key, 100)}"`, {
      step: "response",
      status: 0,
    });
  }
  return data[key]!;
}

/** Lists the keys under `path`; a key ending in `/` is a folder. A path with nothing under it lists as `[]`. */
export async function listKeys(client: CerberusClient, path: string, options?: CallOptions): Promise<string[]> {
  const core = clientCore(client);
  const encoded = encodeSecretPath(path, { folder: true });
  const load = async (signal?: AbortSignal) => {
    const call: CerberusCall = {
      method: "GET",
      path: `/v1/secret/${encoded}?list=true`,
      what: `listing ${path}`,
      step: "request",
      allow: [404],
      signal,
    };
    const answer = await core.call(call);
    if (answer.status === 404) return [];
    return [...(decodeAnswer(answer, ListAnswer, call).data?.keys ?? [])];
  };
  if (!core.cache) return load(options?.signal);
  const keys = await core.cache.read(cacheKeys.list(encoded), () => load(), {
    signal: options?.signal,
    size: (list) => list.reduce((n, key) => n + key.length, 0),
  });
  return [...keys];
}

/** Options of {@link walk}. */
export interface WalkOptions extends CallOptions {
  /** Listings in flight at once (default 4, at most 32). */
  concurrency?: number;
}

/**
 * Every secret path below `path` (an SDB such as `app/demo/`, or a folder in it), depth first, in
 * the order Cerberus lists keys. Folders are listed ahead, at most `concurrency` at once; leaving
 * the loop early stops the listings still queued.
 *
 * @example for await (const path of walk(client, "app/demo/")) paths.push(path);
 */
export async function* walk(
  client: CerberusClient,
  path: string,
  options?: WalkOptions,
): AsyncGenerator<string, void, undefined> {
  const concurrency = options?.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new InvalidInputError("must be a whole number from 1 to 32", { field: "concurrency" });
  }
  encodeSecretPath(path, { folder: true });
  const root = path.replace(/^\//, "").replace(/\/?$/, "/");
  const stop = new AbortController();
  const caller = options?.signal;
  const onAbort = () => stop.abort(caller?.reason);
  caller?.addEventListener("abort", onAbort, { once: true });
  const limit = limiter(concurrency);
  const list = (folder: string) => {
    const listing = limit(() => listKeys(client, folder, { signal: stop.signal }));
    listing.catch(() => {}); // awaited in order below; a walk left early never reads it
    return listing;
  };
  async function* visit(folder: string, listing: Promise<string[]>): AsyncGenerator<string, void, undefined> {
    const children = (await listing).map((key) => folder + key);
    const ahead = children.map((child) => (child.endsWith("/") ? list(child) : undefined));
    for (const [index, child] of children.entries()) {
      const pending = ahead[index];
      if (pending) yield* visit(child, pending);
      else yield child;
    }
  }
  try {
    if (caller?.aborted) throw new AbortedError("walking was aborted by the caller", { step: "request" });
    yield* visit(root, list(root));
  } finally {
    caller?.removeEventListener("abort", onAbort);
    stop.abort();
  }
}

/** Checks a secret to write: an object of string values. */
function secretData(data: unknown): SecretData {
  if (!isRecord(data)) {
    throw new InvalidInputError(`must be an object of string values, got ${kindOf(data)}`, { field: "data" });
  }
  for (const [key, value] of Object.entries(data)) {
    if (key === "") throw new InvalidInputError("has an empty key", { field: "data" });
    if (typeof value !== "string") {
      throw new InvalidInputError(`must be a string, got ${kindOf(value)}`, { field: `data.${sanitize(key, 100)}` });
    }
  }
  return data as SecretData;
}

/** Writes `data` at `path`, replacing every key there (Cerberus stores the map whole). */
export async function writeSecret(
  client: CerberusClient,
  path: string,
  data: SecretData,
  options?: CallOptions,
): Promise<void> {
  const core = clientCore(client);
  const encoded = encodeSecretPath(path, { minSegments: 3 });
  const json = secretData(data);
  try {
    await core.call({
      method: "POST",
      path: `/v1/secret/${encoded}`,
      json,
      what: `writing ${path}`,
      step: "request",
      signal: options?.signal,
    });
  } finally {
    // Even a failed write may have reached the server: what was cached is no longer known good.
    forget(core.cache, path);
  }
  core.cache?.set(cacheKeys.secret(encoded), Object.freeze({ ...json }), secretSize(json));
}

/**
 * Reads the secret at `path` (none: `{}`), sets the keys of `data` on it, and writes the result,
 * which it returns. Cerberus has no compare-and-set: two merges at once can lose a key.
 */
export async function mergeSecret(
  client: CerberusClient,
  path: string,
  data: SecretData,
  options?: CallOptions,
): Promise<SecretData> {
  const changes = secretData(data);
  const core = clientCore(client);
  let current: SecretData;
  try {
    // From Cerberus itself: a cached copy may be older than what the merge must keep.
    current = await fetchSecret(core, encodeSecretPath(path, { minSegments: 3 }), "", path, options?.signal);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    current = {};
  }
  const merged: SecretData = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
  }
  await writeSecret(client, path, merged, options);
  return merged;
}

/** Deletes the secret at `path`; an absent one throws a {@link NotFoundError}. */
export async function deleteSecret(client: CerberusClient, path: string, options?: CallOptions): Promise<void> {
  const core = clientCore(client);
  try {
    await core.call({
      method: "DELETE",
      path: `/v1/secret/${encodeSecretPath(path, { minSegments: 3 })}`,
      what: `deleting ${path}`,
      step: "request",
      signal: options?.signal,
    });
  } finally {
    forget(core.cache, path);
  }
}
