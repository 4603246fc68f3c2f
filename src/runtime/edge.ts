/**
 * The edge runtime: no environment, no files, the global `fetch`.
 * Everything is passed in explicitly (Workers bindings, options).
 *
 * @module
 */
import { CerberusEdgeError } from "../errors.ts";
import { fetchTransport } from "../transport.ts";
import type { RuntimeEnvironment } from "./types.ts";

/** Builds an edge runtime whose `env` answers from `vars` (e.g. a Worker's bindings). */
export function edgeRuntime(vars: Record<string, string | undefined> = {}): RuntimeEnvironment {
  return {
    name: "edge",
    env: (name) => (typeof vars[name] === "string" ? vars[name] : undefined),
    readTextFile: (path) =>
      Promise.reject(
        new CerberusEdgeError("UNSUPPORTED", `cannot read ${path}: the edge runtime has no file system`, {
          step: "config",
        }),
      ),
    transport: fetchTransport,
  };
}
