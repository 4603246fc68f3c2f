/**
 * The edge runtime (Workers, browsers, anything unknown): no environment, no files, `fetch`.
 * Everything is passed in explicitly, e.g. a Worker's bindings as the client's `env` option.
 *
 * @module
 */
import type { RuntimeEnvironment } from "./types.ts";

/** The edge runtime. */
export function edgeRuntime(): RuntimeEnvironment {
  return {
    name: "edge",
    env: () => undefined,
    readTextFile: () => Promise.reject(new Error("this runtime has no file system")),
    transport: (url, init) => fetch(url, init),
  };
}
