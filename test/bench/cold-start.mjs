/**
 * Cold start of the CLI on Node, side by side: each run is a fresh process that prints the
 * seeded secret of the local stack (served by a process of its own on 127.0.0.1):
 *
 * - `node -e 0`, the floor: starting Node and doing nothing;
 * - `cerberus-edge read` (the built `dist/cli.js`) with a pasted token (CERBERUS_TOKEN): start-up
 *   plus one GET;
 * - `cerberus-edge read` with STS auth (the app role's keys in AWS_ACCESS_KEY_ID/…);
 * - the official `cerberus-node-client@4.0.0` reading the same secret with the same keys (STS
 *   auth, its only method off EC2), from a three-line script.
 *
 * Interleaved rounds, the order rotated each round; prints the median wall time of each and the
 * ratios against `node -e 0` and against the official client, measured in the same rounds.
 *
 *   npm run build && node test/bench/cold-start.mjs [rounds=15]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startStackProcess } from "./stack-process.mjs";

const rounds = Number(process.argv[2] ?? 15);
const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "dist", "cli.js");
const scratch = mkdtempSync(join(tmpdir(), "cerberus-edge-cold-"));
const official = join(scratch, "official.cjs");

const stack = await startStackProcess();
try {
  const base = { PATH: process.env.PATH ?? "", NO_COLOR: "1" };
  const keys = {
    AWS_ACCESS_KEY_ID: stack.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: stack.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: stack.credentials.sessionToken ?? "",
    AWS_REGION: "us-west-2",
  };
  writeFileSync(
    official,
    `const CerberusClient = require(${JSON.stringify(join(root, "node_modules", "cerberus-node-client"))});
new CerberusClient({ hostUrl: process.env.CERBERUS_URL, region: "us-west-2" })
  .getSecureData(process.argv[2]).then((data) => console.log(JSON.stringify(data)));\n`,
  );
  const runs = {
    "node -e 0": [["-e", "0"], base],
    "cerberus-edge read (token)": [[cli, "read", stack.secretPath], {
      ...base,
      CERBERUS_URL: stack.env.CERBERUS_URL,
      CERBERUS_TOKEN: stack.token,
    }],
    "cerberus-edge read (STS)": [[cli, "read", stack.secretPath], {
      ...base,
      ...keys,
      CERBERUS_URL: stack.env.CERBERUS_URL,
      CERBERUS_AUTH: "sts",
      AWS_ENDPOINT_URL_STS: stack.env.AWS_ENDPOINT_URL_STS,
    }],
    "official client (STS)": [[official, stack.secretPath], { ...base, ...keys, CERBERUS_URL: stack.env.CERBERUS_URL }],
  };
  const names = Object.keys(runs);
  const times = Object.fromEntries(names.map((name) => [name, []]));
  const once = (name) => {
    const [args, env] = runs[name];
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { env, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0 || (name !== "node -e 0" && !result.stdout.includes("hello from the local stack"))) {
      throw new Error(`${name} failed (exit ${result.status}): ${result.stderr.slice(0, 400)}`);
    }
    return ms;
  };
  for (const name of names) once(name); // warm the file cache
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) times[name].push(once(name));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const floor = median(times["node -e 0"]);
  const theirs = median(times["official client (STS)"]);
  for (const name of names) {
    const m = median(times[name]);
    console.log(
      `${name.padEnd(28)} median ${m.toFixed(0).padStart(4)} ms  ${(m / floor).toFixed(2)}x node -e 0  ${
        (m / theirs).toFixed(2)
      }x official`,
    );
  }
  console.log(`[${rounds} rounds, order rotated each round, Node ${process.version}]`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
  await stack.stop();
}
