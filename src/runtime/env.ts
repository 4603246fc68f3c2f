/**
 * Runtime helpers that stay pure: wrapping an adapter so that some variables come from elsewhere.
 *
 * @module
 */
import type { RuntimeEnvironment } from "./types.ts";

/**
 * The same runtime, but `env` answers from `vars` first (then, unless `only`, from the runtime).
 * Useful to point a client at a local stack without touching the process environment.
 */
export function withEnv(
  runtime: RuntimeEnvironment,
  vars: Readonly<Record<string, string | undefined>>,
  only = false,
): RuntimeEnvironment {
  return {
    name: runtime.name,
    env: (name) => (Object.hasOwn(vars, name) ? vars[name] : only ? undefined : runtime.env(name)),
    readTextFile: (path) => runtime.readTextFile(path),
    transport: runtime.transport,
  };
}
