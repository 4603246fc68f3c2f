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

/**
 * Returns credentials whose secret fields do not show in `console.log`, `util.inspect`,
 * `JSON.stringify` or string conversion, while staying readable as properties.
 */
export function sealCredentials(credentials: AwsCredentials): AwsCredentials {
  const shown = {
    accessKeyId: `${credentials.accessKeyId.slice(0, 4)}…`,
    secretAccessKey: REDACTED,
    sessionToken: credentials.sessionToken === undefined ? undefined : REDACTED,
    expiration: credentials.expiration,
  };
  const sealed = Object.create(null) as Record<string | symbol, unknown>;
  for (const [key, value] of Object.entries(credentials)) {
    Object.defineProperty(sealed, key, { value, enumerable: false });
  }
  Object.defineProperty(sealed, "toJSON", { value: () => shown, enumerable: false });
  Object.defineProperty(sealed, "toString", { value: () => "[AwsCredentials]", enumerable: false });
  Object.defineProperty(sealed, inspectNode, { value: () => shown, enumerable: false });
  Object.defineProperty(sealed, inspectDeno, { value: () => JSON.stringify(shown), enumerable: false });
  return Object.freeze(sealed) as unknown as AwsCredentials;
}

/** True when the credentials expire within `marginMs` of `now` (5 minutes, like the SDKs). */
export function credentialsExpiring(credentials: AwsCredentials, now: number, marginMs = 5 * 60_000): boolean {
  return credentials.expiration !== undefined && credentials.expiration.getTime() - marginMs <= now;
}
