/**
 * Starts `stack-server.ts` in a child process and returns what it printed; `stop()` ends it.
 * Benchmarks measure the client's cost, so the server runs on its own event loop.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/** What the stack process tells about itself. */
export interface StackProcess {
  env: Record<string, string>;
  secretPath: string;
  principalArn: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A valid token, for baselines that call Cerberus without a library. */
  token: string;
  stop(): Promise<void>;
}

/** Starts the stack process and waits for its first line. */
export async function startStackProcess(): Promise<StackProcess> {
  const script = fileURLToPath(new URL("./stack-server.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["pipe", "pipe", "inherit"] });
  let text = "";
  child.stdout.setEncoding("utf8");
  while (!text.includes("\n")) {
    const [chunk] = (await once(child.stdout, "data")) as [string];
    text += chunk;
  }
  const info = JSON.parse(text.slice(0, text.indexOf("\n"))) as Omit<StackProcess, "stop">;
  return {
    ...info,
    async stop() {
      child.stdin.end();
      if (child.exitCode === null) await once(child, "exit");
    },
  };
}
