/**
 * Starts `stack-server.ts` (the local stack) in a child process and returns what it printed;
 * `stop()` ends it. Benchmarks measure the client's cost, so the server runs on its own event
 * loop, and the benchmark process itself runs plain Node with no loader.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/**
 * @typedef {object} LoggedRequest
 * @property {string} service `cerberus`, `kms`, `sts`, `imds`, …
 * @property {string} method the HTTP method
 * @property {string} path the URL path, without the query
 * @property {number} status the answer's status (0 when the call failed)
 * @property {number} at server time of the request, ms since the epoch
 */

/**
 * @typedef {object} StackProcess
 * @property {Record<string, string>} env the stack's environment for a client
 * @property {string} secretPath the seeded secret
 * @property {string} principalArn the app role
 * @property {{ accessKeyId: string, secretAccessKey: string, sessionToken?: string }} credentials the app role's credentials
 * @property {string} token a valid token, for baselines that call Cerberus without a library
 * @property {() => Promise<LoggedRequest[]>} takeLog the requests answered since the last call
 * @property {() => Promise<void>} stop ends the process
 */

/**
 * @param {{ iamTokenTtlSeconds?: number }} [options] the lease of IAM tokens (default 3600 s)
 * @returns {Promise<StackProcess>} the running stack process.
 */
export async function startStackProcess(options = {}) {
  const script = fileURLToPath(new URL("./stack-server.ts", import.meta.url));
  const args = ["--import", "tsx", script];
  if (options.iamTokenTtlSeconds !== undefined) args.push(`--iam-ttl=${options.iamTokenTtlSeconds}`);
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  child.stdout.setEncoding("utf8");
  let buffered = "";
  const lines = [];
  const waiting = [];
  child.stdout.on("data", (chunk) => {
    buffered += chunk;
    for (let end = buffered.indexOf("\n"); end !== -1; end = buffered.indexOf("\n")) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    }
  });
  const exited = once(child, "exit").then(() => {
    for (const next of waiting.splice(0)) next(undefined);
  });
  const nextLine = () =>
    lines.length ? Promise.resolve(lines.shift()) : new Promise((resolve) => waiting.push(resolve));
  const first = await nextLine();
  if (first === undefined) throw new Error("the stack process exited before it started");
  const info = JSON.parse(first);
  return {
    ...info,
    async takeLog() {
      child.stdin.write("log\n");
      const line = await nextLine();
      if (line === undefined) throw new Error("the stack process has exited");
      return JSON.parse(line);
    },
    async stop() {
      child.stdin.end();
      if (child.exitCode === null && child.signalCode === null) await exited;
    },
  };
}

/**
 * @param {StackProcess} stack
 * @returns {Record<string, string>} the app role's keys as the `AWS_*` variables a child process reads
 */
export function awsKeyEnv(stack) {
  return {
    AWS_ACCESS_KEY_ID: stack.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: stack.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: stack.credentials.sessionToken ?? "",
  };
}
