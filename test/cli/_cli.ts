/** Runs the real CLI in a child process on the runtime running the test (Node with tsx, Bun, Deno). */
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** What a finished CLI run left. */
export interface ChildOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Standard output as bytes (for binary results). */
  bytes: Uint8Array;
}

/** How a CLI child runs. */
export interface SpawnOptions {
  /** Cap the JavaScript heap (see {@link cliCommand}). */
  smallHeap?: boolean;
  /** What standard input carries (none: no standard input). */
  input?: string | Uint8Array;
  /** The working directory (default the repository's root). */
  cwd?: string;
}

/**
 * The command that runs the CLI on the runtime running this test file. `smallHeap` caps the
 * child's JavaScript heap (64 MB on Node and Deno; Bun's `--smol`), for the bounded-memory tests.
 */
export function cliCommand(options: { smallHeap?: boolean } = {}): { command: string; args: string[] } {
  const g = globalThis as { Deno?: { version?: { deno?: unknown } }; Bun?: unknown };
  const heap = options.smallHeap ? ["--max-old-space-size=64"] : [];
  if (typeof g.Deno?.version?.deno === "string") {
    const flags = options.smallHeap ? ["--v8-flags=--max-old-space-size=64"] : [];
    return {
      command: process.execPath,
      args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-run", ...flags, MAIN],
    };
  }
  if (typeof g.Bun !== "undefined") {
    return { command: process.execPath, args: [...(options.smallHeap ? ["--smol"] : []), MAIN] };
  }
  return { command: process.execPath, args: [...heap, "--import", "tsx", MAIN] };
}

/** Variables the child runtimes need to start; nothing from the parent's AWS or Cerberus setup. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (
    const name of ["PATH", "HOME", "TMPDIR", "TMP", "TEMP", "SYSTEMROOT", "DENO_DIR", "XDG_CACHE_HOME", "BUN_INSTALL"]
  ) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}

/** Runs the real CLI asynchronously (a server in this same process may answer it); killed after 60 s. */
export function spawnCli(
  argv: string[],
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<ChildOutcome> {
  const { command, args } = cliCommand(options);
  return spawnChild(command, [...args, ...argv], env, options);
}

/** Runs any command asynchronously and collects what it printed; killed after 60 s. */
export function spawnChild(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: Pick<SpawnOptions, "input" | "cwd"> = {},
): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    const out: Uint8Array[] = [];
    let stderr = "";
    child.stdout!.on("data", (chunk: Uint8Array) => void out.push(chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const bytes = new Uint8Array(Buffer.concat(out));
      resolve({ code, stdout: new TextDecoder().decode(bytes), stderr, bytes });
    });
  });
}
