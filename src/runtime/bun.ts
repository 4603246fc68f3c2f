/**
 * The Bun runtime adapter: `Bun.env`, `Bun.file().text()` and Bun's native `fetch`.
 *
 * @module
 */
import { fetchTransport } from "../transport.ts";
import { fileReadError } from "./node.ts";
import type { RuntimeEnvironment } from "./types.ts";

/** The parts of the `Bun` global this adapter uses. */
export interface BunNamespace {
  /** Bun's environment (the same object as `process.env`). */
  readonly env: Record<string, string | undefined>;
  /** Opens a lazily read file. */
  file(path: string): { text(): Promise<string> };
}

/**
 * The Bun runtime: `Bun.env`, `Bun.file(path).text()` and the native `fetch`
 * (Bun's `fetch` starts fast, so no `node:http` transport is needed).
 *
 * @param bun the `Bun` namespace; defaults to the global one (tests pass a fake).
 */
export function bunRuntime(bun: BunNamespace | undefined = (globalThis as { Bun?: BunNamespace }).Bun): RuntimeEnvironment {
  if (!bun) {
    throw new TypeError("bunRuntime() needs the Bun global: this is not Bun");
  }
  return {
    name: "bun",
    env: (name) => {
      const value = bun.env[name];
      return typeof value === "string" ? value : undefined;
    },
    readTextFile: async (path) => {
      try {
        return await bun.file(path).text();
      } catch (error) {
        throw fileReadError(path, error);
      }
    },
    transport: fetchTransport,
  };
}
