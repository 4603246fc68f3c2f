/**
 * The authentication seam: each method (KMS, STS, user) is an {@link AuthProvider}.
 *
 * @module
 */
import type { CerberusConnection } from "../cerberus-http.ts";
import type { Clock } from "../clock.ts";
import type { ClockSkew } from "../aws/kms.ts";
import type { EventListener } from "../events.ts";
import type { HttpTransport } from "../transport.ts";
import type { CerberusToken } from "./token.ts";

/** Everything a provider may use, handed in by the client. */
export interface AuthContext {
  /** How to reach Cerberus. */
  cerberus: CerberusConnection;
  /** Transport for AWS calls (KMS, IMDS, STS). */
  transport: HttpTransport;
  /** Clock. */
  clock: Clock;
  /** Environment lookup (empty on the edge). */
  env: (name: string) => string | undefined;
  /** File reads (token files); rejects on the edge. */
  readTextFile: (path: string) => Promise<string>;
  /** Clock skew against AWS, shared by every signed call of the client. */
  skew: ClockSkew;
  /** Progress events. */
  onEvent?: EventListener | undefined;
  /** Aborts the authentication. */
  signal?: AbortSignal | undefined;
}

/** A way to obtain a Cerberus token. */
export interface AuthProvider {
  /** Short name, e.g. `kms`, `kms-v1`. */
  readonly method: string;
  /** Obtains a fresh token; throws an `AuthenticationError` listing what was tried. */
  authenticate(context: AuthContext): Promise<CerberusToken>;
}
