/**
 * AWS credentials: checked once where they enter, then sealed so that no log shows them.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { AbortedError, InvalidInputError, type Step } from "../errors.ts";
import { type Cached, cachedUntil } from "../internal/cache.ts";
import { isHeaderSafe } from "../internal/text.ts";

/** AWS credentials as the SDKs name them. */
export interface AwsCredentials {
  /** Access key id (`AKIA…` or `ASIA…`). Only its first four characters are ever shown. */
  readonly accessKeyId: string;
  /** Secret access key. Never shown. */
  readonly secretAccessKey: string;
  /** Session token of temporary credentials. Never shown. */
  readonly sessionToken?: string | undefined;
  /** When temporary credentials expire. */
  readonly expiration?: Date | undefined;
}

/** Credentials, or a function that resolves them (called each time they are needed). */
export type AwsCredentialSource = AwsCredentials | (() => Promise<AwsCredentials>);

// Node, Bun and Deno all honour this symbol in console.log and util.inspect.
const inspect = Symbol.for("nodejs.util.inspect.custom");

/**
 * Checks credentials before they go near a header, and returns them sealed: readable as
 * properties, but redacted in `console.log`, `util.inspect`, `JSON.stringify` and `String()`.
 * Extra fields (a container's `roleArn`) are kept.
 */
export function sealCredentials<C extends AwsCredentials>(
  credentials: C,
  field: string,
  step: Step = "credentials",
): C {
  if (!credentials || typeof credentials !== "object") {
    throw new InvalidInputError("must be an object with accessKeyId and secretAccessKey", { field, step });
  }
  if (Object.hasOwn(credentials, inspect)) return credentials;
  const c = credentials as AwsCredentials;
  if (!isHeaderSafe(c.accessKeyId)) {
    throw new InvalidInputError("must be a non-empty string of visible ASCII characters", {
      field: `${field}.accessKeyId`,
      step,
    });
  }
  if (typeof c.secretAccessKey !== "string" || c.secretAccessKey === "") {
    throw new InvalidInputError("must be a non-empty string", { field: `${field}.secretAccessKey`, step });
  }
  if (c.sessionToken !== undefined && !isHeaderSafe(c.sessionToken)) {
    throw new InvalidInputError("must be a string of visible ASCII characters when given", {
      field: `${field}.sessionToken`,
      step,
    });
  }
  if (c.expiration !== undefined && !(c.expiration instanceof Date && Number.isFinite(c.expiration.getTime()))) {
    throw new InvalidInputError("must be a valid Date when given", { field: `${field}.expiration`, step });
  }
  const shown = {
    accessKeyId: `${c.accessKeyId.slice(0, 4)}…`,
    secretAccessKey: "[redacted]",
    sessionToken: c.sessionToken === undefined ? undefined : "[redacted]",
    expiration: c.expiration,
  };
  const out = Object.create(null) as Record<string | symbol, unknown>;
  for (const key of Object.getOwnPropertyNames(credentials)) {
    Object.defineProperty(out, key, { value: (credentials as unknown as Record<string, unknown>)[key] });
  }
  const hidden = { toJSON: () => shown, toString: () => "[AwsCredentials]", [inspect]: () => shown };
  for (const key of Reflect.ownKeys(hidden)) {
    Object.defineProperty(out, key, { value: hidden[key as keyof typeof hidden] });
  }
  return Object.freeze(out) as unknown as C;
}

/** When credentials are due for renewal: five minutes before they expire, as the AWS SDKs do (never, without an expiry). */
function refreshAt(credentials: AwsCredentials): number {
  return credentials.expiration ? credentials.expiration.getTime() - 5 * 60_000 : Number.POSITIVE_INFINITY;
}

/** True when the credentials expire within five minutes of `now` (when the SDKs refresh). */
export function credentialsExpiring(credentials: AwsCredentials, now: number): boolean {
  return refreshAt(credentials) <= now;
}

/**
 * Credentials from a source (container endpoint, web identity, instance role), loaded on demand,
 * shared by concurrent callers, and loaded again five minutes before they expire. The load takes
 * no caller's signal: it is shared; each caller's signal stops only its own wait.
 */
export function cachedCredentials<C extends AwsCredentials>(
  load: () => Promise<C>,
  clock: Clock,
  what: string,
  step: Step,
): Cached<C> {
  return cachedUntil<C>(load, {
    clock,
    refreshAt,
    aborted: (reason) => new AbortedError(`reading ${what} was aborted by the caller`, { step, cause: reason }),
  });
}
