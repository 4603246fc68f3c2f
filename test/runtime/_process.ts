/** Runs a child process to its end and collects what it printed (for tests of real runtimes). */
import { spawn } from "node:child_process";

/** What a finished child process left. */
export interface Finished {
  /** Exit code, `null` when a signal ended it. */
  code: number | null;
  /** Everything it wrote to stdout. */
  stdout: string;
  /** Everything it wrote to stderr. */
  stderr: string;
}

/** Runs `command args` in `cwd` with exactly `env`, stdin closed. */
export function runProcess(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += String(chunk)));
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment a Deno child needs to start, and nothing else: what a test grants comes on top. */
export function denoBaseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    DENO_DIR: process.env.DENO_DIR ?? "",
    DENO_NO_UPDATE_CHECK: "1",
    NO_COLOR: "1",
  };
}
