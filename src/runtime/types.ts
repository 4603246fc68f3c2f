/**
 * What the core needs from the runtime it runs on, and nothing more.
 *
 * @module
 */
import type { AwsHost } from "../aws/host.ts";
import type { HttpTransport } from "../transport.ts";

/** The runtime seam: environment lookup, file reads and the default transport. */
export interface RuntimeEnvironment {
  /** Short runtime name: `node`, `bun`, `deno` or `edge`. */
  readonly name: string;
  /** Value of an environment variable, or `undefined` when unset or not readable. */
  env(name: string): string | undefined;
  /** Reads a UTF-8 text file (token files); rejects where files are not available. */
  readTextFile(path: string): Promise<string>;
  /** The transport used when the caller passes none. */
  readonly transport: HttpTransport;
  /** Discovery of the AWS host (instance metadata, container credentials), where there can be one. */
  readonly aws?: AwsHost | undefined;
}
