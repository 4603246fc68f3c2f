/**
 * The Cerberus token and the auth payload it comes in (docs/wire.md#token-header-and-lifetime).
 *
 * @module
 */
import * as v from "valibot";
import { PayloadError, type Step } from "../errors.ts";
import { check, isRecord, kindOf, matching, parseJson } from "../internal/decode.ts";
import { sanitize } from "../internal/text.ts";

// Node, Bun and Deno all honour this symbol in console.log and util.inspect.
const inspect = Symbol.for("nodejs.util.inspect.custom");

/** Public facts about a token: everything but the token itself. */
export interface TokenInfo {
  /** How the token was obtained, e.g. `kms`, `kms-v1`. */
  method: string;
  /** The principal (IAM ARN or user name) the token stands for. */
  principal: string;
  /** Region used for authentication, when one was. */
  region?: string | undefined;
  /** Policies granted (may be `["_truncated"]` for large KMS payloads). */
  policies: readonly string[];
  /** Metadata from Cerberus (may be `{ _truncated: "true" }`). */
  metadata: Readonly<Record<string, string>>;
  /** Lease in seconds, as Cerberus granted it. */
  leaseDurationSeconds: number;
  /** When the token was issued, by the local clock. */
  issuedAt: Date;
  /** When the lease ends, by the local clock. */
  expiresAt: Date;
  /** Whether Cerberus says it can be renewed. */
  renewable: boolean;
}

/** A Cerberus client token. The value stays out of logs, JSON and string conversion. */
export class CerberusToken {
  readonly #value: string;
  /** Public facts about the token. */
  readonly info: Readonly<TokenInfo>;

  /** @param value the `client_token`; @param info the rest of the auth payload. */
  constructor(value: string, info: TokenInfo) {
    this.#value = value;
    this.info = Object.freeze({ ...info });
  }

  /** The token, to put in `X-Cerberus-Token`. Do not log it. */
  reveal(): string {
    return this.#value;
  }

  /** Redacted form for `JSON.stringify`. */
  toJSON(): Readonly<TokenInfo> & { token: string } {
    return { token: "[redacted]", ...this.info };
  }

  /** Redacted form for string conversion. */
  toString(): string {
    return `[CerberusToken ${this.info.principal}]`;
  }

  /** Redacted form for `util.inspect`/`console.log` (Node, Bun and Deno). */
  [inspect](): unknown {
    return this.toJSON();
  }
}

const AuthPayload = v.object({
  // Visible ASCII only: anything else could not go into a header.
  client_token: matching(/^[\x21-\x7e]+$/, "client_token is empty or has characters a header cannot carry"),
  policies: v.nullish(v.array(v.string()), []),
  metadata: v.nullish(v.pipe(v.unknown(), v.check(isRecord, "metadata is not an object")), {}),
  lease_duration: v.pipe(
    v.number(),
    v.check(
      (n) => Number.isInteger(n) && n >= 1 && n <= 31_536_000,
      "lease_duration is not a whole number of seconds from 1 to a year",
    ),
  ),
  renewable: v.nullish(v.boolean(), false),
});

/** When and how a token was obtained. */
export interface TokenFacts {
  /** `kms`, `kms-v1`, … */
  method: string;
  /** The principal. */
  principal: string;
  /** The authentication region, if any. */
  region?: string | undefined;
  /** When the authentication started (the lease counts from then), ms. */
  startedAt: number;
}

/**
 * Builds a token from an auth payload object, accepting the server's truncated form. Errors
 * name the field, never a value.
 */
export function tokenFromPayload(value: unknown, facts: TokenFacts, step: Step, what: string): CerberusToken {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PayloadError(`${what} is ${kindOf(value)}, not a JSON object`, { step });
  }
  const parsed = check(AuthPayload, value);
  if (!parsed.ok) throw new PayloadError(`${what} is invalid: ${parsed.problem}`, { step });
  const payload = parsed.value;
  const metadata: Record<string, string> = {};
  for (const [key, item] of Object.entries((payload.metadata ?? {}) as Record<string, unknown>)) {
    if (item === null || item === undefined) continue;
    metadata[sanitize(key, 100)] = sanitize(typeof item === "string" ? item : JSON.stringify(item), 500);
  }
  return new CerberusToken(payload.client_token, {
    method: facts.method,
    principal: facts.principal,
    region: facts.region,
    policies: (payload.policies ?? []).map((p) => sanitize(p, 200)),
    metadata,
    leaseDurationSeconds: payload.lease_duration,
    issuedAt: new Date(facts.startedAt),
    expiresAt: new Date(facts.startedAt + payload.lease_duration * 1000),
    renewable: payload.renewable ?? false,
  });
}

/** Decodes a decrypted KMS auth payload: strict UTF-8, then JSON, then {@link tokenFromPayload}. */
export function tokenFromPlaintext(plaintext: Uint8Array, facts: TokenFacts): CerberusToken {
  const step = "auth-payload";
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
  } catch {
    throw new PayloadError("the decrypted auth payload is not UTF-8 text", { step });
  }
  const json = parseJson(text);
  if (!json) throw new PayloadError(`the decrypted auth payload is not JSON (${plaintext.length} bytes)`, { step });
  return tokenFromPayload(json.value, facts, step, "the decrypted auth payload");
}
