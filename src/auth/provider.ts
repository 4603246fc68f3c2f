/**
 * The authentication seam: each method is an {@link AuthProvider}, called by the client with an
 * {@link AuthContext} that holds everything it may use.
 *
 * @module
 */
import type { ClockSkew } from "../aws/skew.ts";
import type { InstanceMetadata } from "../aws/imds.ts";
import type { AwsHost } from "../aws/host.ts";
import type { ContainerCredentials } from "../aws/container.ts";
import type { AwsCredentials } from "../aws/credentials.ts";
import type { CerberusSession } from "../client/request.ts";
import type { EventListener } from "../events.ts";
import type { Cached } from "../internal/cache.ts";
import type { CerberusToken } from "./token.ts";

/**
 * State that outlives one authentication and lives as long as the client: the AWS clock skew,
 * the instance metadata client (its session token, its memory of a v1 fallback) and the
 * container credentials. Providers create what they need on first use.
 */
export interface ClientState {
  /** How far the local clock is from AWS's. */
  readonly skew: ClockSkew;
  /** The instance metadata client. */
  imds?: InstanceMetadata;
  /** Container credentials. */
  container?: Cached<ContainerCredentials>;
  /** Web identity credentials. */
  webIdentity?: Cached<AwsCredentials>;
  /** The last user token, refreshed while Cerberus allows it. */
  user?: CerberusToken | undefined;
  /** The instance role's credentials, from instance metadata. */
  instanceCredentials?: Cached<AwsCredentials>;
}

/** Everything a provider may use, handed in by the client. */
export interface AuthContext extends CerberusSession {
  /** Environment lookup (answers only what was passed in, on the edge). */
  readonly env: (name: string) => string | undefined;
  /** Reads a file (token files); rejects where there are no files. */
  readonly readTextFile: (path: string) => Promise<string>;
  /** The AWS host this process runs on (EC2, ECS), as the runtime discovers it; absent on the edge. */
  readonly host?: AwsHost | undefined;
  /** State owned by the client. */
  readonly state: ClientState;
  /** Progress events. */
  readonly onEvent?: EventListener | undefined;
  /** Aborts this authentication. */
  readonly signal?: AbortSignal | undefined;
  /** When this authentication's time budget ends (clock time, ms): every request stops by then. */
  readonly deadline?: number | undefined;
}

/** A way to obtain a Cerberus token, such as `kmsAuth()`. */
export interface AuthProvider {
  /** Short name, e.g. `kms`, `kms-v1`. */
  readonly method: string;
  /** Obtains a fresh token; throws an `AuthenticationError` listing what was tried. */
  authenticate(context: AuthContext): Promise<CerberusToken>;
}
