/**
 * Shapes shared by every service of the local stack.
 *
 * @module
 */

/** A pure Web fetch handler: one request in, one response out. Every emulated service is one. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** A source of server time in milliseconds since the Unix epoch. Tests move it to expire things. */
export type TimeSource = () => number;

/** The services of the local stack. */
export type ServiceName = "cerberus" | "kms" | "sts" | "imds" | "ecs";

/** Every service name, in a stable order. */
export const SERVICE_NAMES: readonly ServiceName[] = ["cerberus", "kms", "sts", "imds", "ecs"];

/** AWS credentials as the SDKs and the emulated services hand them out. */
export interface AwsCredentials {
  /** Access key id (`AKIA…` long-term, `ASIA…` temporary). */
  accessKeyId: string;
  /** Secret access key. */
  secretAccessKey: string;
  /** Session token, present for temporary credentials only. */
  sessionToken?: string;
  /** When temporary credentials stop working (server time). */
  expiration?: Date;
}
