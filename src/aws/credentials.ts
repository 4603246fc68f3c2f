/**
 * AWS credentials, kept out of logs.
 *
 * @module
 */

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
const inspectNode = Symbol.for("nodejs.util.inspect.custom");
const inspectDeno = Symbol.for("Deno.customInspect");
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
  Object.defineProperty(out, inspectDeno, { value: () => JSON.stringify(shown), enumerable: false });
  return Object.freeze(out) as unknown as AwsCredentials;
}

/** True when the credentials expire within `marginMs` of `now` (5 minutes, like the SDKs). */
export function credentialsExpiring(credentials: AwsCredentials, now: number, marginMs = 5 * 60_000): boolean {
  return credentials.expiration !== undefined && credentials.expiration.getTime() - marginMs <= now;
}
