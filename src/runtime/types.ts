/**
 * What the core needs from the runtime it runs on, and nothing more.
 *
 * @module
 */
import type { HttpTransport } from "../transport.ts";

/** The runtime seam: environment lookup, file reads and the default transport. */
export interface RuntimeEnvironment {
  /** Short runtime name, e.g. `node`, `bun`, `deno`, `edge`. */
  readonly name: string;
  /** Value of an environment variable, or `undefined` when unset or not readable. */
  env(name: string): string | undefined;
  /** Reads a UTF-8 text file (token files); rejects where files are not available. */
  readTextFile(path: string): Promise<string>;
  /** The transport to use when the caller passes none. */
  readonly transport: HttpTransport;
}
