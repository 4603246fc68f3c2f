/**
 * The cache under load, side by side: 10,000 reads (quick: 1,000) of 10 paths by 100 concurrent
 * callers through one client (the built package, KMS auth with a warm token), without a cache
 * and with `cache: true`. For each: the reads that reached Cerberus (the `GET /v1/secret/…`
 * requests in the stack's request log, which logs every request as it arrives), the p50 and p99
 * latency of a read, and reads per second, against the local stack in a process of its own on
 * 127.0.0.1. Each client first makes 500 reads (quick: 200; the cache emptied after them), so
 * that connections are open and both processes' code is warm.
 *
 *   npm run build && node test/bench/cache-load.mjs [--quick]
 */
import { createCerberusClient, kmsAuth, readSecret } from "cerberus-edge";
import { pairedRows, quantile, runStandalone } from "./lib.mjs";
import { startStackProcess } from "./stack-process.mjs";

const CALLERS = 100;
const PATHS = Array.from({ length: 10 }, (_, i) => `app/demo/bench-${i}`);

/**
 * @param {import("./stack-process.mjs").StackProcess} stack
 * @param {boolean} cache
 * @param {number} reads
 * @param {number} warmUp uncached reads first
 */
async function load(stack, cache, reads, warmUp) {
  const client = createCerberusClient({
    url: stack.env.CERBERUS_URL,
    auth: kmsAuth(),
    env: { ...stack.env },
    cache: cache || undefined,
  });
  /** `count` reads by the callers; returns their latencies and the wall time. */
  const run = async (count) => {
    const latencies = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: CALLERS }, async () => {
      while (next < count) {
        const path = PATHS[next++ % PATHS.length];
        const t = performance.now();
        const data = await readSecret(client, path);
        latencies.push(performance.now() - t);
        if (!data.value?.startsWith("secret number")) throw new Error(`bad read of ${path}`);
      }
    }));
    return { latencies, wall: performance.now() - started };
  };
  // Warm-up: authenticate, open the callers' connections, warm both processes' code. The figures
  // are reads only, from an empty cache.
  await readSecret(client, stack.secretPath);
  await run(warmUp);
  client.cache?.clear();
  await stack.takeLog();
  const { latencies, wall } = await run(reads);
  const log = await stack.takeLog();
  return {
    requests: log.filter((e) => e.service === "cerberus" && e.method === "GET" && e.path.startsWith("/v1/secret/"))
      .length,
    otherRequests: log.filter((e) => !(e.service === "cerberus" && e.path.startsWith("/v1/secret/"))).length,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    readsPerSecond: reads / wall * 1000,
    wallMs: wall,
  };
}

/** @param {{ quick: boolean }} options @returns {Promise<import("./lib.mjs").Section>} */
export async function measure({ quick }) {
  const reads = quick ? 1_000 : 10_000;
  const warmUp = quick ? 200 : 500;
  const stack = await startStackProcess();
  try {
    const off = await load(stack, false, reads, warmUp);
    const on = await load(stack, true, reads, warmUp);
    const against = "without cache";
    /** @type {import("./lib.mjs").Row[]} */
    const rows = [
      ...pairedRows("requests to Cerberus", "requests", ["cache: true", on.requests], [against, off.requests]),
      ...pairedRows("read p50", "ms", ["cache: true", on.p50], [against, off.p50]),
      ...pairedRows("read p99", "ms", ["cache: true", on.p99], [against, off.p99]),
      ...pairedRows("reads/s", "reads/s", ["cache: true", on.readsPerSecond], [against, off.readsPerSecond]),
    ];
    return {
      id: "cache",
      title: "Cache under load: cache: true against no cache",
      command: `npm run build && node test/bench/cache-load.mjs${quick ? " --quick" : ""}`,
      rows,
      notes: [
        `${reads} reads of ${PATHS.length} paths by ${CALLERS} concurrent callers through one client, after ${warmUp} warm-up reads, cache emptied; Node ${process.version}`,
        `requests counted in the stack's log (GET /v1/secret/…); other requests meanwhile: ${off.otherRequests} without cache, ${on.otherRequests} with`,
      ],
      data: { reads, callers: CALLERS, paths: PATHS.length, without: off, cache: on },
    };
  } finally {
    await stack.stop();
  }
}

await runStandalone(import.meta.url, measure);
