/**
 * AWS credentials, kept out of logs.
 *
 * @module
 */
import { InvalidInputError, type Step } from "../errors.ts";

/** AWS credentials as the SDKs name them. */
export interface AwsCredentials {
  /** Access key id (`AKIA…` or `ASIA…`). Not secret, but only its prefix is ever logged. */
  readonly accessKeyId: string;
  /** Secret access key. Never logged. */
  readonly secretAccessKey: string;
  /** Session token for temporary credentials. Never logged. */
  readonly sessionToken?: string | undefined;
  /** When temporary credentials expire. */
  readonly expiration?: Date | undefined;
}

/** Credentials, or a function that resolves them (called each time they are needed). */
export type AwsCredentialSource = AwsCredentials | (() => Promise<AwsCredentials>);

const REDACTED = "[redacted]";
// Node, Bun and Deno all honour this symbol in console.log and util.inspect.
const inspectNode = Symbol.for("nodejs.util.inspect.custom");
const sealed = Symbol("sealed");

/**
 * Returns credentials whose secret fields do not show in `console.log`, `util.inspect`,
 * `JSON.stringify` or string conversion, while staying readable as properties (extra fields,
 * such as a container's `roleArn`, are kept too).
 */
export function sealCredentials(credentials: AwsCredentials): AwsCredentials {
  if (Object.hasOwn(credentials, sealed)) return credentials;
  const shown = {
    accessKeyId: `${String(credentials.accessKeyId).slice(0, 4)}…`,
    secretAccessKey: REDACTED,
    sessionToken: credentials.sessionToken === undefined ? undefined : REDACTED,
    expiration: credentials.expiration,
  };
  const out = Object.create(null) as Record<string | symbol, unknown>;
  for (const key of Object.getOwnPropertyNames(credentials)) {
    Object.defineProperty(out, key, { value: (credentials as unknown as Record<string, unknown>)[key], enumerable: false });
  }
  Object.defineProperty(out, sealed, { value: true, enumerable: false });
  Object.defineProperty(out, "toJSON", { value: () => shown, enumerable: false });
  Object.defineProperty(out, "toString", { value: () => "[AwsCredentials]", enumerable: false });
  Object.defineProperty(out, inspectNode, { value: () => shown, enumerable: false });
  return Object.freeze(out) as unknown as AwsCredentials;
}

const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * Checks credentials before they go near a header, so that a malformed value becomes an
 * {@link InvalidInputError} naming the field, never a `Headers` error quoting the value.
 */
export function checkCredentials(credentials: unknown, field: string, step: Step = "credentials"): AwsCredentials {
  if (!credentials || typeof credentials !== "object") throw new InvalidInputError(field, "must be an object with accessKeyId and secretAccessKey", step);
  const c = credentials as Record<string, unknown>;
  if (typeof c.accessKeyId !== "string" || !HEADER_SAFE.test(c.accessKeyId)) {
    throw new InvalidInputError(`${field}.accessKeyId`, "must be a non-empty string of visible ASCII characters", step);
  }
  if (typeof c.secretAccessKey !== "string" || c.secretAccessKey === "") {
    throw new InvalidInputError(`${field}.secretAccessKey`, "must be a non-empty string", step);
  }
  if (c.sessionToken !== undefined && (typeof c.sessionToken !== "string" || !HEADER_SAFE.test(c.sessionToken))) {
    throw new InvalidInputError(`${field}.sessionToken`, "must be a string of visible ASCII characters when given", step);
  }
  if (c.expiration !== undefined && !(c.expiration instanceof Date && Number.isFinite(c.expiration.getTime()))) {
    throw new InvalidInputError(`${field}.expiration`, "must be a valid Date when given", step);
  }
  return credentials as AwsCredentials;
}

/** True when the credentials expire within `marginMs` of `now` (5 minutes, like the SDKs). */
export function credentialsExpiring(credentials: AwsCredentials, now: number, marginMs = 5 * 60_000): boolean {
  return credentials.expiration !== undefined && credentials.expiration.getTime() - marginMs <= now;
}
