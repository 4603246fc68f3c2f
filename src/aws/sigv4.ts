/**
 * SigV4 signing with aws4fetch's signer, reduced to plain header records. aws4fetch's `AwsClient`
 * is never used: it would send through the global `fetch` and retry on its own.
 *
 * @module
 */
import { AwsV4Signer } from "aws4fetch";
import { CerberusEdgeError, type Step } from "../errors.ts";
import { foreignCause } from "../internal/failure.ts";
import type { AwsCredentials } from "./credentials.ts";

/** What to sign. */
export interface SignInput {
  /** The request URL. */
  url: string;
  /** Headers to send (and sign, unless `signedHeaders` narrows them). */
  headers: Record<string, string>;
  /** The exact body. */
  body: string;
  /** Sealed credentials. */
  credentials: AwsCredentials;
  /** `kms`, `sts`. */
  service: string;
  /** The signature's region. */
  region: string;
  /** Signing time, ms since the epoch (the local clock plus the known skew). */
  time: number;
  /** Step a failure reports. */
  step: Step;
}

/** Formats a time as SigV4's `YYYYMMDD'T'HHMMSS'Z'`. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

/** Signs a POST and returns every header to send, `Authorization` and `X-Amz-Date` included. */
export async function signPost(input: SignInput): Promise<Record<string, string>> {
  try {
    const signed = await withPlainHeaders(() =>
      new AwsV4Signer({
        method: "POST",
        url: input.url,
        headers: input.headers,
        body: input.body,
        accessKeyId: input.credentials.accessKeyId,
        secretAccessKey: input.credentials.secretAccessKey,
        sessionToken: input.credentials.sessionToken,
        service: input.service,
        region: input.region,
        datetime: amzDate(input.time),
      })
    ).sign();
    const headers: Record<string, string> = {};
    signed.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return headers;
  } catch (error) {
    // aws4fetch and Headers may quote the offending value in their messages: keep only the name.
    throw new CerberusEdgeError(`signing the ${input.service.toUpperCase()} request failed`, {
      step: input.step,
      cause: foreignCause(error),
    });
  }
}

/**
 * Runs `build` (synchronous: the signer's constructor, the only place aws4fetch makes its
 * `Headers`) with {@link PlainHeaders} as the global `Headers` when the runtime has not made its
 * own yet. On Node the first touch of the global `Headers` loads the whole built-in fetch library
 * (about 40 ms of a cold start), of which signing needs nothing; Bun and Workers have `Headers`
 * ready and keep it. The global is put back before `build` returns, exactly as it was.
 */
export function withPlainHeaders<T>(build: () => T): T {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "Headers");
  // A lazy getter not called yet (Node, Deno); a value, or a property that cannot be redefined, stays.
  if (!descriptor?.get || !descriptor.configurable) return build();
  Object.defineProperty(globalThis, "Headers", { value: PlainHeaders, configurable: true, writable: true });
  try {
    return build();
  } finally {
    Object.defineProperty(globalThis, "Headers", descriptor);
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// The HTTP whitespace `Headers` strips from both ends of a value.
const EDGES = /^[\t\n\r ]+|[\t\n\r ]+$/g;

/**
 * The part of `Headers` aws4fetch's signer uses, over a plain map: names are case-insensitive and
 * listed in lower case, values are trimmed, and a name or value `Headers` would refuse is refused
 * with a `TypeError`, so a signature is byte for byte what it is with the runtime's `Headers`.
 */
export class PlainHeaders {
  readonly #map = new Map<string, string>();

  /** @param init a record of headers (a repeated name in another case is joined with ", "). */
  constructor(init: Record<string, string> = {}) {
    for (const [name, value] of Object.entries(init)) {
      const key = PlainHeaders.#name(name);
      const clean = PlainHeaders.#value(value);
      const existing = this.#map.get(key);
      this.#map.set(key, existing === undefined ? clean : `${existing}, ${clean}`);
    }
  }

  static #name(name: string): string {
    if (!TOKEN.test(name)) throw new TypeError("invalid header name");
    return name.toLowerCase();
  }

  static #value(value: unknown): string {
    const text = String(value).replace(EDGES, "");
    if (/[\0\r\n]|[^\0-\xff]/.test(text)) throw new TypeError("invalid header value");
    return text;
  }

  /** The value, or `null`. */
  get(name: string): string | null {
    return this.#map.get(PlainHeaders.#name(name)) ?? null;
  }

  /** Replaces the value. */
  set(name: string, value: string): void {
    this.#map.set(PlainHeaders.#name(name), PlainHeaders.#value(value));
  }

  /** Whether the header is present. */
  has(name: string): boolean {
    return this.#map.has(PlainHeaders.#name(name));
  }

  /** Removes the header. */
  delete(name: string): void {
    this.#map.delete(PlainHeaders.#name(name));
  }

  /** The names, lower case, sorted as `Headers` lists them. */
  keys(): IterableIterator<string> {
    return [...this.#map.keys()].sort()[Symbol.iterator]();
  }

  /** Calls `callback(value, name)` for each header, in `keys()` order. */
  forEach(callback: (value: string, name: string) => void): void {
    for (const name of this.keys()) callback(this.#map.get(name)!, name);
  }
}
