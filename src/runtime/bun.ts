/**
 * The Bun adapter: `Bun.env`, `Bun.file().text()` and Bun's own `fetch`, which starts fast.
 *
 * @module
 */
import { awsHost } from "../aws/host.ts";
import type { RuntimeEnvironment } from "./types.ts";

/** The parts of the `Bun` global this adapter uses. */
export interface BunNamespace {
  /** Bun's environment. */
  readonly env: Record<string, string | undefined>;
  /** Opens a lazily read file. */
  file(path: string): { text(): Promise<string> };
}

/** The Bun runtime; `bun` defaults to the global one (tests pass a fake). */
export function bunRuntime(
  bun: BunNamespace | undefined = (globalThis as { Bun?: BunNamespace }).Bun,
): RuntimeEnvironment {
  if (!bun) throw new TypeError("bunRuntime() needs the Bun global: this is not Bun");
  return {
    name: "bun",
    env: (name) => (typeof bun.env[name] === "string" ? bun.env[name] : undefined),
    readTextFile: (path) => bun.file(path).text(),
    transport: (url, init) => fetch(url, init),
    aws: awsHost,
  };
}
