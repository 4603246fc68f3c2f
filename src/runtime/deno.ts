/**
 * The Deno runtime adapter: `Deno.env.get`, `Deno.readTextFile` and Deno's native `fetch`.
 *
 * Deno needs only narrow permissions: `--allow-net` (to the Cerberus, KMS/STS and metadata
 * hosts), `--allow-env` (or `--allow-env=AWS_REGION,...` for the variables used), and
 * `--allow-read=<file>` only where a token file is read. A variable the process may not read
 * is treated as unset, never as an error.
 *
 * @module
 */
import { fetchTransport } from "../transport.ts";
import { fileReadError } from "./node.ts";
import type { RuntimeEnvironment } from "./types.ts";

/** The parts of the `Deno` global this adapter uses. */
export interface DenoNamespace {
  /** Environment access; `get` throws when `--allow-env` does not cover the name. */
  readonly env: { get(name: string): string | undefined };
  /** Reads a UTF-8 file; rejects without `--allow-read`. */
  readTextFile(path: string): Promise<string>;
}

/**
 * The Deno runtime: `Deno.env.get` (a permission error reads as unset), `Deno.readTextFile`
 * and the native `fetch`.
 *
 * @param deno the `Deno` namespace; defaults to the global one (tests pass a fake).
 */
export function denoRuntime(deno: DenoNamespace | undefined = (globalThis as { Deno?: DenoNamespace }).Deno): RuntimeEnvironment {
  if (!deno) {
    throw new TypeError("denoRuntime() needs the Deno global: this is not Deno");
  }
  return {
    name: "deno",
    env: (name) => {
      try {
        const value = deno.env.get(name);
        return typeof value === "string" ? value : undefined;
      } catch (error) {
        // Deno 1 throws PermissionDenied, Deno 2 NotCapable; an invalid name is a TypeError.
        if (isPermissionError(error) || error instanceof TypeError) return undefined;
        throw error;
      }
    },
    readTextFile: async (path) => {
      try {
        return await deno.readTextFile(path);
      } catch (error) {
        throw fileReadError(path, error);
      }
    },
    transport: fetchTransport,
  };
}

function isPermissionError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "PermissionDenied" || name === "NotCapable";
}
