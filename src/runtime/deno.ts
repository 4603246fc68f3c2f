/**
 * The Deno adapter: `Deno.env.get`, `Deno.readTextFile` and Deno's own `fetch`.
 *
 * Deno needs narrow permissions only: `--allow-net` (the Cerberus, KMS/STS and metadata hosts),
 * `--allow-env` (it may list just the variables used), and `--allow-read=<file>` only where a
 * token file is read. A variable the process may not read counts as unset.
 *
 * @module
 */
import { awsHost } from "../aws/host.ts";
import type { RuntimeEnvironment } from "./types.ts";

/** The parts of the `Deno` global this adapter uses. */
export interface DenoNamespace {
  /** Environment access; `get` throws when `--allow-env` does not cover the name. */
  readonly env: { get(name: string): string | undefined };
  /** Reads a UTF-8 file; rejects without `--allow-read`. */
  readTextFile(path: string): Promise<string>;
}

/** The Deno runtime; `deno` defaults to the global one (tests pass a fake). */
export function denoRuntime(
  deno: DenoNamespace | undefined = (globalThis as { Deno?: DenoNamespace }).Deno,
): RuntimeEnvironment {
  if (!deno) throw new TypeError("denoRuntime() needs the Deno global: this is not Deno");
  return {
    name: "deno",
    env: (name) => {
      try {
        const value = deno.env.get(name);
        return typeof value === "string" ? value : undefined;
      } catch {
        // PermissionDenied (Deno 1), NotCapable (Deno 2), or a TypeError for a name Deno refuses.
        return undefined;
      }
    },
    readTextFile: (path) => deno.readTextFile(path),
    transport: (url, init) => fetch(url, init),
    aws: awsHost,
  };
}
