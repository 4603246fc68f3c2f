/**
 * Starts `stack-server.ts` (the local stack) in a child process and returns what it printed;
 * `stop()` ends it. Benchmarks measure the client's cost, so the server runs on its own event
 * loop, and the benchmark process itself runs plain Node with no loader.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/**
 * @typedef {object} StackProcess
 * @property {Record<string, string>} env the stack's environment for a client
 * @property {string} secretPath the seeded secret
 * @property {string} principalArn the app role
 * @property {{ accessKeyId: string, secretAccessKey: string, sessionToken?: string }} credentials the app role's credentials
 * @property {string} token a valid token, for baselines that call Cerberus without a library
 * @property {() => Promise<void>} stop ends the process
 */

/** @returns {Promise<StackProcess>} the running stack process. */
export async function startStackProcess() {
  const script = fileURLToPath(new URL("./stack-server.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["pipe", "pipe", "inherit"] });
  let text = "";
  child.stdout.setEncoding("utf8");
  while (!text.includes("\n")) {
    const [chunk] = await once(child.stdout, "data");
    text += chunk;
  }
  const info = JSON.parse(text.slice(0, text.indexOf("\n")));
  return {
    ...info,
    async stop() {
      child.stdin.end();
      if (child.exitCode === null) await once(child, "exit");
    },
  };
}
