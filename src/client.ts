/**
 * The Cerberus client: authentication through an {@link AuthProvider}, the token kept by a
 * {@link TokenStore}, and the secrets API on top.
 *
 * @module
 */
import * as v from "valibot";
import type { AuthProvider } from "./auth/provider.ts";
import { TokenStore } from "./auth/token-store.ts";
import type { TokenInfo } from "./auth/token.ts";
import { cerberusRequest, parseJsonBody, type CerberusConnection, type CerberusRequest } from "./cerberus-http.ts";
import { systemClock, type Clock } from "./clock.ts";
import { CerberusApiError, CerberusEdgeError, InvalidInputError } from "./errors.ts";
import type { EventListener } from "./events.ts";
import { encodeSecretPath } from "./paths.ts";
import { edgeRuntime } from "./runtime/edge.ts";
import type { RuntimeEnvironment } from "./runtime/types.ts";
import type { ReadResponse, HttpTransport } from "./transport.ts";
import { CLIENT_HEADER } from "./version.ts";
import type { ClockSkew } from "./aws/kms.ts";

/** Options of {@link createClient}. */
export interface CerberusClientOptions {
  /** Cerberus base URL. `https:`, or `http:` on a loopback host only (unless `allowInsecureHttp`). */
  url: string | URL;
  /** How to authenticate, e.g. `kmsAuth()`. */
  auth: AuthProvider;
  /** Runtime seam (env, files, default transport); default `edgeRuntime()` in the core entry. */
  runtime?: RuntimeEnvironment;
  /** Transport for every request; default the runtime's. */
  transport?: HttpTransport;
  /** Clock; default the system clock. */
  clock?: Clock;
  /** Timeout of each Cerberus request in ms (default 10 000). */
  timeoutMs?: number;
  /** Progress events (never carry a token or secret). */
  onEvent?: EventListener;
  /** Allow `http:` to a host that is not loopback. Tokens then cross the network in clear text. */
  allowInsecureHttp?: boolean;
  /** Appended to `X-Cerberus-Client` (e.g. `my-tool/1.2`), for the server's audit log. */
  userAgent?: string;
}

/** A secret's key/value map. Values are JSON values; Cerberus's own UI stores strings. */
export type SecretData = Record<string, unknown>;

/** Options of a read. */
export interface ReadOptions {
  /** Read this version (ids from the version listing) instead of the current one. */
  versionId?: string;
  /** Aborts the call. */
  signal?: AbortSignal;
}

/** The Cerberus client. Create it with {@link createClient} (or `createCerberusClient` from `mod.ts`). */
export interface CerberusClient {
  /** Reads the key/value map stored at `path` (`<category>/<sdb>/<name>`). Throws `NOT_FOUND` on 404. */
  readSecret(path: string, options?: ReadOptions): Promise<SecretData>;
  /** Reads one key of the secret at `path`; throws `NOT_FOUND` when the secret or key is absent. */
  readKey(path: string, key: string, options?: ReadOptions): Promise<unknown>;
  /** Lists the keys under `path`; a key ending in `/` is a folder. An absent path lists as `[]`. */
  listKeys(path: string, options?: { signal?: AbortSignal }): Promise<string[]>;
  /** Authenticates if needed and returns the facts about the token (never the token). */
  whoami(options?: { signal?: AbortSignal }): Promise<TokenInfo>;
}

// Not v.record: it skips keys such as "constructor" and "__proto__", which are legal secret keys.
const SecretMap = v.pipe(
  v.unknown(),
  v.check((map) => typeof map === "object" && map !== null && !Array.isArray(map), "is not a key/value map"),
  v.transform((map) => Object.fromEntries(Object.entries(map as object)) as Record<string, unknown>),
);
const SecretResponse = v.object({ data: v.optional(v.nullable(SecretMap), {}) });
const ListResponse = v.object({
  data: v.nullable(v.object({ keys: v.optional(v.nullable(v.array(v.string())), []) })),
});

const DEFAULT_TIMEOUT_MS = 10_000;
/** Timers clamp anything longer than this to 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** Checks the Cerberus URL: http(s), no credentials/query/fragment, `http:` only to loopback. */
export function checkCerberusUrl(input: string | URL, allowInsecureHttp = false): URL {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new InvalidInputError("url", "is not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new InvalidInputError("url", `${url.protocol} is not https: or http:`);
  if (url.username || url.password) throw new InvalidInputError("url", "must not carry a user name or password");
  if (url.href.includes("?") || url.href.includes("#")) throw new InvalidInputError("url", "must not have a query or fragment");
  if (url.protocol === "http:" && !allowInsecureHttp && !isLoopback(url.hostname)) {
    throw new InvalidInputError("url", `http: is allowed for loopback hosts only (got ${url.hostname}); use https:`);
  }
  return url;
}

/** True for `localhost`, 127.0.0.0/8 and `[::1]`. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** Creates a client. The pure core: with no `runtime` it uses `edgeRuntime()` (no env, no files). */
export function createClient(options: CerberusClientOptions): CerberusClient {
  if (!options || typeof options !== "object") throw new InvalidInputError("options", "must be an object");
  if (!options.auth || typeof options.auth.authenticate !== "function") {
    throw new InvalidInputError("options.auth", "must be an auth provider such as kmsAuth()");
  }
  const baseUrl = checkCerberusUrl(options.url, options.allowInsecureHttp);
  const runtime = options.runtime ?? edgeRuntime();
  const transport = options.transport ?? runtime.transport;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0) || timeoutMs > MAX_TIMER_MS) {
    throw new InvalidInputError("options.timeoutMs", `must be a number of milliseconds from 1 to ${MAX_TIMER_MS}`);
  }
  const clientHeader = options.userAgent ? `${CLIENT_HEADER} ${options.userAgent}` : CLIENT_HEADER;
  const connection: CerberusConnection = { baseUrl, transport, clock, timeoutMs, clientHeader };
  const skew: ClockSkew = { offsetMs: 0 };
  const auth = options.auth;
  const store = new TokenStore({
    clock,
    onEvent: options.onEvent,
    authenticate: (signal) =>
      auth.authenticate({
        cerberus: connection,
        transport,
        clock,
        env: (name) => runtime.env(name),
        readTextFile: (path) => runtime.readTextFile(path),
        skew,
        onEvent: options.onEvent,
        signal,
      }),
  });

  /** Sends an authenticated request; on 401/99105 re-authenticates once and retries. */
  async function authorized(request: Omit<CerberusRequest, "token">): Promise<ReadResponse> {
    const token = await store.get(request.signal);
    try {
      return await cerberusRequest(connection, { ...request, token: token.reveal() });
    } catch (error) {
      if (!(error instanceof CerberusApiError && error.status === 401 && error.codes.includes(99105))) throw error;
      store.invalidate(token);
      const fresh = await store.get(request.signal);
      return cerberusRequest(connection, { ...request, token: fresh.reveal() });
    }
  }

  async function readSecret(path: string, readOptions?: ReadOptions | null): Promise<SecretData> {
    readOptions ??= {};
    const encoded = encodeSecretPath(path, { minSegments: 3 });
    const versionId = readOptions.versionId;
    if (versionId !== undefined && (typeof versionId !== "string" || !/^[\w-]{1,64}$/.test(versionId))) {
      throw new InvalidInputError("versionId", "must be a version id such as CURRENT or a UUID");
    }
    const res = await authorized({
      method: "GET",
      path: `/v1/secret/${encoded}`,
      query: { versionId },
      step: "request",
      signal: readOptions.signal,
    });
    const body = parseJsonBody(res, SecretResponse, `secret ${path}`, "response");
    return body.data ?? {};
  }

  return {
    readSecret,
    async readKey(path, key, readOptions) {
      if (typeof key !== "string" || key === "") throw new InvalidInputError("key", "must be a non-empty string");
      const data = await readSecret(path, readOptions);
      if (!Object.hasOwn(data, key)) {
        throw new CerberusEdgeError("NOT_FOUND", `secret ${path} has no key "${key.slice(0, 100)}"`, { step: "response" });
      }
      return data[key];
    },
    async listKeys(path, listOptions) {
      listOptions ??= {};
      const encoded = encodeSecretPath(path, { folder: true, minSegments: 2 });
      const res = await authorized({
        method: "GET",
        path: `/v1/secret/${encoded}`,
        query: { list: "true" },
        step: "request",
        allow: [404],
        signal: listOptions.signal,
      });
      if (res.status === 404) return [];
      const body = parseJsonBody(res, ListResponse, `listing of ${path}`, "response");
      return [...(body.data?.keys ?? [])];
    },
    async whoami(whoamiOptions) {
      const token = await store.get(whoamiOptions?.signal);
      return token.info;
    },
  };
}
