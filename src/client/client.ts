/**
 * The Cerberus client: authentication through an {@link AuthProvider}, the token kept and
 * refreshed by the token store, and the authorised call the data API (`src/api/`) is built on.
 *
 * @module
 */
import * as v from "valibot";
import type { AuthContext, AuthProvider, ClientState } from "../auth/provider.ts";
import { createTokenStore } from "../auth/token-store.ts";
import type { CerberusToken, TokenInfo } from "../auth/token.ts";
import { type Clock, systemClock } from "../clock.ts";
import { AbortedError, CerberusApiError, InvalidInputError, TransportError } from "../errors.ts";
import type { EventListener } from "../events.ts";
import { endpointUrl } from "../internal/endpoint.ts";
import type { Answer } from "../internal/http.ts";
import { sanitize } from "../internal/text.ts";
import type { RuntimeEnvironment } from "../runtime/types.ts";
import type { HttpTransport } from "../transport.ts";
import { CLIENT_HEADER } from "../version.ts";
import { encodeSecretPath } from "./paths.ts";
import { callCerberus, type CerberusCall, type CerberusSession, decodeAnswer } from "./request.ts";
import {
  type CacheStats,
  checkCacheOptions,
  createSecretCache,
  type SecretCache,
  type SecretCacheOptions,
} from "./secret-cache.ts";

/** Options of `createCerberusClient`. */
export interface CerberusClientOptions {
  /** Cerberus base URL: `https:`, or `http:` to a loopback host only (unless `allowInsecureHttp`). */
  url: string | URL;
  /** How to authenticate, e.g. `kmsAuth()`. */
  auth: AuthProvider;
  /**
   * The environment variables the client reads (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, …) instead of
   * the runtime's own environment. In a Worker, pass its bindings; in a test,
   * the local stack's `env`.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Transport for every request (`fetch` is one); default the runtime's. */
  transport?: HttpTransport;
  /** Clock; default the system clock. */
  clock?: Clock;
  /** Timeout of each Cerberus request in ms (default 10 000). */
  timeoutMs?: number;
  /**
   * Time budget in ms (default 30 000) of each operation, its retries and its wait for a token
   * included, and of each authentication, every principal, region and retry included.
   */
  budgetMs?: number;
  /** Attempts per request for the failures worth another (see README, "Failure behaviour"); default 3, 1 to 10. */
  attempts?: number;
  /** Largest file `readFile` accepts, in bytes (default 16 MiB). */
  maxFileBytes?: number;
  /**
   * Keep what `readSecret`, `readKey` and `listKeys` read in this client's memory (and files, when
   * `maxBytes` is set): `true` for the defaults, or the settings to change (README, "Caching").
   */
  cache?: boolean | SecretCacheOptions;
  /** Progress events (never carry a token or secret). */
  onEvent?: EventListener;
  /** Allow `http:` to a host that is not loopback. Tokens then cross the network in clear text. */
  allowInsecureHttp?: boolean;
  /** Appended to `X-Cerberus-Client` (e.g. `my-tool/1.2`), for the server's audit log. */
  userAgent?: string;
  /** The runtime adapter (environment, files, default transport); `mod.ts` detects it. */
  runtime?: RuntimeEnvironment;
}

/**
 * A Cerberus client: who it authenticates as and its session. The data API (`readSecret`,
 * `writeFile`, `listSdbs`, …) is a set of functions that take the client as their first argument,
 * so that a program's bundle carries only the operations it calls.
 */
export interface CerberusClient {
  /** Authenticates if needed and returns the facts about the token (never the token). */
  whoami(options?: { signal?: AbortSignal }): Promise<TokenInfo>;
  /** Revokes the current token on the server (`DELETE /v1/auth`) and forgets it; the next call authenticates anew. */
  logout(options?: { signal?: AbortSignal }): Promise<void>;
  /** The cache, when the client was made with `cache`. */
  readonly cache?: CacheControl;
}

/** What a user can do with a client's cache. */
export interface CacheControl {
  /** Forgets everything. */
  clear(): void;
  /** Forgets the secret (every version), the file and the listing at `path`. */
  delete(path: string): void;
  /** Counts of hits, misses, refreshes, stale answers and evictions, and what is held now. */
  stats(): CacheStats;
}

/** What the data API reaches through a client: calls with its token, re-authenticating once on a revoked token. */
export interface ClientCore {
  /** Transport, clock and Cerberus endpoint. */
  readonly session: CerberusSession;
  /** Sends a call with the token; a 401 with code 99105 (token revoked or expired) re-authenticates and sends it once more. */
  call(call: CerberusCall): Promise<Answer>;
  /** The current token itself, authenticating if needed: only for `cerberus-edge login --print-token`. */
  token(signal?: AbortSignal): Promise<string>;
  /** The secret cache, when enabled (`files`: files too); emptied when the token's principal changes. */
  readonly cache?: (SecretCache & { readonly files: boolean }) | undefined;
}

// Kept out of the client object, so that no inspection of a client reaches the token store.
const cores = new WeakMap<CerberusClient, ClientCore>();

/** The internals of a client made by `createCerberusClient`; anything else is an `INVALID_INPUT` error. */
export function clientCore(client: CerberusClient): ClientCore {
  const core = typeof client === "object" && client !== null ? cores.get(client) : undefined;
  if (!core) throw new InvalidInputError("must be a client made by createCerberusClient()", { field: "client" });
  return core;
}

const SdbPaths = v.array(v.object({ path: v.string() }));

const MAX_TIMER_MS = 2_147_483_647;

function checkNumber(value: unknown, fallback: number, min: number, max: number, name: string, unit: string): number {
  const n = value ?? fallback;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new InvalidInputError(`must be a whole number of ${unit} from ${min} to ${max}`, {
      field: `options.${name}`,
    });
  }
  return n;
}

const noFiles = (path: string) =>
  Promise.reject(
    new InvalidInputError(`cannot read ${sanitize(path, 200)}: this runtime has no file system`, { field: "file" }),
  );

/** Creates a client on the runtime given in `options.runtime` (none: no environment, no files, `fetch`). */
export function createCerberusClient(options: CerberusClientOptions): CerberusClient {
  if (!options || typeof options !== "object") throw new InvalidInputError("must be an object", { field: "options" });
  if (!options.auth || typeof options.auth.authenticate !== "function") {
    throw new InvalidInputError("must be an auth provider such as kmsAuth()", { field: "options.auth" });
  }
  const baseUrl = endpointUrl(options.url, "url", options.allowInsecureHttp ? "any" : "loopback").href.replace(
    /\/$/,
    "",
  );
  const timeoutMs = checkNumber(options.timeoutMs, 10_000, 1, MAX_TIMER_MS, "timeoutMs", "milliseconds");
  const budgetMs = checkNumber(options.budgetMs, 30_000, 1, MAX_TIMER_MS, "budgetMs", "milliseconds");
  const attempts = checkNumber(options.attempts, 3, 1, 10, "attempts", "attempts");
  const maxFileBytes = checkNumber(options.maxFileBytes, 16 * 1024 * 1024, 1, 2 ** 31, "maxFileBytes", "bytes");
  if (options.userAgent !== undefined && !/^[\x20-\x7e]{1,200}$/.test(options.userAgent)) {
    throw new InvalidInputError("must be 1 to 200 printable ASCII characters", { field: "options.userAgent" });
  }
  const runtime = options.runtime;
  const vars = options.env;
  const env = vars
    ? (name: string) => (Object.hasOwn(vars, name) && typeof vars[name] === "string" ? vars[name] : undefined)
    : (name: string) => runtime?.env(name);
  const session: CerberusSession = {
    http: {
      transport: options.transport ?? runtime?.transport ?? ((url, init) => fetch(url, init)),
      clock: options.clock ?? systemClock,
    },
    cerberus: {
      baseUrl,
      timeoutMs,
      attempts,
      maxFileBytes,
      clientHeader: options.userAgent ? `${CLIENT_HEADER} ${options.userAgent}` : CLIENT_HEADER,
    },
    onEvent: options.onEvent,
  };
  const cacheOptions = checkCacheOptions(options.cache);
  const state: ClientState = { skew: { offsetMs: 0 } };
  const auth = options.auth;
  const store = createTokenStore(
    () => {
      const context: AuthContext = {
        ...session,
        env,
        readTextFile: runtime ? (path) => runtime.readTextFile(path) : noFiles,
        host: runtime?.aws,
        state,
        onEvent: options.onEvent,
        deadline: session.http.clock.now() + budgetMs,
      };
      return auth.authenticate(context).then((token) => {
        samePrincipal(token);
        return token;
      });
    },
    session.http.clock,
    options.onEvent,
  );

  let principal: string | undefined;
  /** Empties the cache when a new token stands for another principal than the one before. */
  const samePrincipal = (token: CerberusToken) => {
    if (token.info.principal === principal) return;
    if (principal !== undefined) raw?.clear();
    principal = token.info.principal;
  };
  const raw = cacheOptions
    ? createSecretCache(cacheOptions, {
      clock: session.http.clock,
      onEvent: options.onEvent,
      aborted: (reason) =>
        new AbortedError("reading from the cache was aborted by the caller", { step: "request", cause: reason }),
      timedOut: () =>
        new TransportError("the operation's time budget ran out while waiting for a read in progress", {
          step: "request",
          timedOut: true,
        }),
    })
    : undefined;
  const cache: (SecretCache & { files: boolean }) | undefined = raw && {
    ...raw,
    files: cacheOptions?.maxBytes !== undefined,
  };

  async function call(call: CerberusCall): Promise<Answer> {
    call.deadline ??= session.http.clock.now() + budgetMs;
    const token: CerberusToken = await store.get(call.signal, call.deadline);
    call.token = token.reveal();
    try {
      return await callCerberus(session, call);
    } catch (error) {
      // A 401 means the server refused before doing anything: sending a write again is safe.
      if (!(error instanceof CerberusApiError && error.status === 401 && error.codes.includes(99105))) throw error;
      store.invalidate(token);
      call.token = (await store.get(call.signal, call.deadline)).reveal();
      return callCerberus(session, call);
    }
  }

  const client: CerberusClient = {
    async whoami(whoamiOptions) {
      const info = (await store.get(whoamiOptions?.signal)).info;
      if (info.method !== "token") return info;
      // A pasted token comes with no facts. Cerberus has no lookup route, but the SDBs the token
      // reaches are what it can tell, and asking proves that it accepts the token.
      const check: CerberusCall = {
        method: "GET",
        path: "/v2/safe-deposit-box",
        what: "checking the pasted token",
        step: "token",
        signal: whoamiOptions?.signal,
      };
      const sdbs = decodeAnswer(await call(check), SdbPaths, check).map((sdb) => sanitize(sdb.path, 200));
      return Object.freeze({ ...info, metadata: Object.freeze({ ...info.metadata, sdbs: sdbs.join(",") }) });
    },
    async logout(logoutOptions) {
      const token = store.peek();
      if (!token) return void cache?.clear();
      try {
        // A 401 means the token was already invalid: logged out all the same.
        await callCerberus(session, {
          method: "DELETE",
          path: "/v1/auth",
          token: token.reveal(),
          what: "logout",
          step: "request",
          allow: [401],
          signal: logoutOptions?.signal,
        });
      } finally {
        store.invalidate(token);
        state.user = undefined;
        cache?.clear();
      }
    },
  };
  if (cache) {
    Object.defineProperty(client, "cache", {
      enumerable: true,
      value: Object.freeze({
        clear: () => cache.clear(),
        delete: (path: string) => forget(cache, path),
        stats: () => cache.stats(),
      }),
    });
  }
  cores.set(client, { session, call, token: async (signal) => (await store.get(signal)).reveal(), cache });
  return client;
}

/** The cache keys of a secret path (every version), of its file, and of its own listing. */
export const cacheKeys = {
  secret: (encoded: string, query = "") => `secret:${encoded}${query}`,
  list: (encodedFolder: string) => `list:${encodedFolder.replace(/\/?$/, "/")}`,
  file: (encoded: string, query = "") => `file:${encoded}${query}`,
};

/**
 * Forgets a path in `cache` (nothing without one): its secret (every version), its file, its
 * listing, and its folders' listings.
 */
export function forget(cache: SecretCache | undefined, path: string): void {
  if (!cache) return;
  const encoded = encodeSecretPath(path, { folder: true }).replace(/\/$/, "");
  cache.delete(cacheKeys.secret(encoded));
  cache.deletePrefix(cacheKeys.secret(encoded, "?"));
  cache.delete(cacheKeys.file(encoded));
  cache.deletePrefix(cacheKeys.file(encoded, "?"));
  cache.delete(cacheKeys.list(encoded));
  const segments = encoded.split("/");
  for (let i = 1; i < segments.length; i++) cache.delete(cacheKeys.list(segments.slice(0, i).join("/")));
}
