/**
 * Picks the runtime adapter for wherever the library is running.
 *
 * @module
 */
import { bunRuntime } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
import { edgeRuntime } from "./edge.ts";
import { nodeRuntime } from "./node.ts";
import type { RuntimeEnvironment } from "./types.ts";

/** The runtimes {@link detectRuntime} tells apart. */
export type RuntimeName = "node" | "bun" | "deno" | "edge";

interface GlobalsLike {
  navigator?: { userAgent?: unknown };
  Deno?: { version?: { deno?: unknown } };
  Bun?: { version?: unknown };
  process?: { versions?: { node?: unknown; bun?: unknown }; release?: { name?: unknown } };
  EdgeRuntime?: unknown;
}

/**
 * Names the runtime from its globals, in this order:
 * 1. Cloudflare Workers (`navigator.userAgent === "Cloudflare-Workers"`) and Vercel Edge
 *    (`EdgeRuntime`) → `edge`, even when `nodejs_compat` provides a `process`;
 * 2. `Deno.version.deno` → `deno` (Deno also has `process`);
 * 3. `Bun` or `process.versions.bun` → `bun` (Bun also has `process.versions.node`);
 * 4. `process.versions.node` → `node`;
 * 5. anything else (browsers, other workers) → `edge`.
 *
 * @param globals the global scope to inspect; defaults to `globalThis`.
 */
export function detectRuntimeName(globals: object = globalThis): RuntimeName {
  const g = globals as GlobalsLike;
  if (g.navigator?.userAgent === "Cloudflare-Workers" || typeof g.EdgeRuntime === "string") return "edge";
  if (typeof g.Deno?.version?.deno === "string") return "deno";
  if (typeof g.Bun !== "undefined" || typeof g.process?.versions?.bun === "string") return "bun";
  if (typeof g.process?.versions?.node === "string") return "node";
  return "edge";
}

/**
 * The adapter for the current runtime: {@link denoRuntime}, {@link bunRuntime},
 * {@link nodeRuntime} or, on Workers, browsers and anything unknown, {@link edgeRuntime}
 * with no environment and no file access (pass everything explicitly there).
 */
export function detectRuntime(): RuntimeEnvironment {
  switch (detectRuntimeName()) {
    case "deno":
      return denoRuntime();
    case "bun":
      return bunRuntime();
    case "node":
      return nodeRuntime();
    default:
      return edgeRuntime();
  }
}
