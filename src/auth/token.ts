/**
 * The Cerberus token and the auth payload it comes in.
 *
 * @module
 */
import * as v from "valibot";
import { PayloadError, type Step } from "../errors.ts";
import { issueSummary, kindOf, parseJsonText } from "../validate.ts";

// Node, Bun and Deno all honour this symbol in console.log and util.inspect.
const inspectNode = Symbol.for("nodejs.util.inspect.custom");

/** Public facts about a token; everything but the token itself. */
export interface TokenInfo {
  /** How the token was obtained, e.g. `kms`, `kms-v1`, `sts`, `user`. */
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

/** A Cerberus client token. The value is kept out of logs, JSON and string conversion. */
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
  [inspectNode](): unknown {
    return this.toJSON();
  }

}

const AuthPayloadSchema = v.object({
  // Visible ASCII only: anything else could not go into a header, and Headers would throw
  // a TypeError quoting the value.
  client_token: v.pipe(
    v.string(),
    v.minLength(1, "client_token is empty"),
    v.regex(/^[\x21-\x7e]+$/, "client_token has characters a header cannot carry"),
  ),
  policies: v.optional(v.nullable(v.array(v.string())), []),
  metadata: v.optional(v.nullable(v.record(v.string(), v.unknown())), {}),
  lease_duration: v.pipe(v.number(), v.integer("lease_duration is not a whole number"), v.minValue(0, "lease_duration is negative")),
  renewable: v.optional(v.nullable(v.boolean()), false),
});

/** The fields of an auth payload the client keeps. */
export interface AuthPayload {
  /** The token. */
  clientToken: string;
  /** Granted policies. */
  policies: string[];
  /** Metadata, every value as a string. */
  metadata: Record<string, string>;
  /** Lease in seconds. */
  leaseDurationSeconds: number;
  /** Renewable flag. */
  renewable: boolean;
}

/**
 * Validates an auth payload object (`client_token`, `policies`, `metadata`, `lease_duration`,
 * `renewable`), accepting the server's truncated form. Errors name the field, never a value.
 */
export function parseAuthPayload(value: unknown, step: Step, what: string): AuthPayload {
  const parsed = v.safeParse(AuthPayloadSchema, value);
  if (!parsed.success) throw new PayloadError(step, `${what} is invalid: ${issueSummary(parsed.issues)}`);
  const metadata: Record<string, string> = {};
  for (const [key, item] of Object.entries(parsed.output.metadata ?? {})) {
    if (item === null || item === undefined) continue;
    metadata[key] = typeof item === "string" ? item : typeof item === "object" ? JSON.stringify(item) : String(item);
  }
  return {
    clientToken: parsed.output.client_token,
    policies: parsed.output.policies ?? [],
    metadata,
    leaseDurationSeconds: parsed.output.lease_duration,
    renewable: parsed.output.renewable ?? false,
  };
}

/** Decodes the plaintext of a KMS auth payload: strict UTF-8, then JSON, then {@link parseAuthPayload}. */
export function decodeAuthPlaintext(plaintext: Uint8Array): AuthPayload {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
  } catch {
    throw new PayloadError("auth-payload", "the decrypted auth payload is not UTF-8 text");
  }
  const json = parseJsonText(text);
  if (!json) throw new PayloadError("auth-payload", `the decrypted auth payload is not JSON (${plaintext.length} bytes)`);
  if (typeof json.value !== "object" || json.value === null || Array.isArray(json.value)) {
    throw new PayloadError("auth-payload", `the decrypted auth payload is ${kindOf(json.value)}, not a JSON object`);
  }
  return parseAuthPayload(json.value, "auth-payload", "the decrypted auth payload");
}

/** Builds a {@link CerberusToken} from a validated payload, stamping issue and expiry times. */
export function tokenFromPayload(
  payload: AuthPayload,
  now: number,
  facts: { method: string; principal: string; region?: string | undefined },
): CerberusToken {
  return new CerberusToken(payload.clientToken, {
    ...facts,
    policies: payload.policies,
    metadata: payload.metadata,
    leaseDurationSeconds: payload.leaseDurationSeconds,
    issuedAt: new Date(now),
    expiresAt: new Date(now + payload.leaseDurationSeconds * 1000),
    renewable: payload.renewable,
  });
}
