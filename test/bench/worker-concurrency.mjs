/**
 * The child of `concurrency.mjs`: one repetition in a fresh process, so that every client starts
 * truly cold (no token, no pooled socket, no warmed code). It creates one client, starts `reads`
 * first reads of the same secret at once (`Promise.all`), and prints one JSON line: `{ variant,
 * wallMs, p50Ms, p99Ms, failed, firstError }`, each read's latency taken from its call to its end.
 *
 * Variants: `kms` (ours, `kmsAuth()`, whatever principal and keys `env` names), `sts` (ours,
 * `stsAuth()` with the app role's keys), `official` (`cerberus-node-client@4.0.0`, STS auth with the
 * same keys, which it reads from `process.env` as the AWS SDK does).
 *
 * Its input is the environment variable `BENCH_CONCURRENCY` (JSON: `variant`, `env` for our client,
 * `path`, `reads`); the official client's keys are in the process's own environment.
 *
 *   (started by) node test/bench/concurrency.mjs
 */
import { createCerberusClient, kmsAuth, readSecret, stsAuth } from "cerberus-edge";
import { quantile, root } from "./lib.mjs";
import { officialReader } from "./official-client.mjs";

const input = JSON.parse(process.env.BENCH_CONCURRENCY ?? "null");
if (!input) throw new Error("worker-concurrency.mjs is started by concurrency.mjs (BENCH_CONCURRENCY is not set)");
const { variant, env, path, reads } = input;

/** @type {() => Promise<unknown>} */
let read;
if (variant === "official") {
  read = officialReader(root, env, path);
} else {
  const auth = variant === "kms" ? kmsAuth() : stsAuth();
  const client = createCerberusClient({ url: env.CERBERUS_URL, auth, env: { ...env } });
  read = () => readSecret(client, path);
}

const latencies = [];
let failed = 0;
let firstError;
const started = performance.now();
await Promise.all(Array.from({ length: reads }, async () => {
  const t = performance.now();
  try {
    const data = await read();
    if (typeof data?.greeting !== "string") throw new Error("the read returned no greeting");
  } catch (error) {
    failed++;
    firstError ??= String(error?.message ?? error).slice(0, 300);
  }
  latencies.push(performance.now() - t);
}));
const wallMs = performance.now() - started;
process.stdout.write(
  `${
    JSON.stringify({
      variant,
      wallMs,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      failed,
      firstError,
    })
  }\n`,
);
