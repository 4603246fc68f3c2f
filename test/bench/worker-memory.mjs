/**
 * The child of `memory.mjs`, run as `node --expose-gc`: measures its own memory after a full
 * garbage collection and prints one JSON line. Modes (`BENCH_MEMORY`, JSON: `mode`, and for reads
 * `env`, `path`, `reads`, `inFlight`, `budgetMs`, `every`):
 *
 * - `empty`: nothing imported;
 * - `import-ours`: `import("cerberus-edge")` (the built package, as users load it);
 * - `import-official`: `require("cerberus-node-client")` (CommonJS, as its users load it);
 * - `reads-ours`, `reads-official`: a client reads the stack's seeded secret `reads` times with
 *   `inFlight` reads at a time (after one first read that authenticates), stopping early when
 *   `budgetMs` (if given) has passed; the heap is measured after the first 1,000 reads and every
 *   `every` reads after them, each time after a full collection.
 *
 * Prints `{ mode, rss, heapUsed, heapTotal, external }` (bytes, after the import) or, for reads,
 * `{ mode, reads, readMs, series: [{ reads, heapUsed, rss, ms }] }` (`ms`: the time the reads
 * since the previous sample took). The official client takes the app role's keys from the
 * process's environment.
 *
 *   (started by) node test/bench/memory.mjs
 */
import { createRequire } from "node:module";
import { setImmediate } from "node:timers/promises";

const input = JSON.parse(process.env.BENCH_MEMORY ?? "null");
if (!input) throw new Error("worker-memory.mjs is started by memory.mjs (BENCH_MEMORY is not set)");
if (typeof globalThis.gc !== "function") throw new Error("worker-memory.mjs needs node --expose-gc");
const root = new URL("../..", import.meta.url);

/** A full collection, twice, with a turn of the event loop between (finalizers, weak references). */
async function collect() {
  globalThis.gc();
  await setImmediate();
  globalThis.gc();
}

/** The memory figures after a full collection. */
async function usage() {
  await collect();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
}

const { mode } = input;
/** Keeps what an import returned reachable while the heap is measured. */
let kept;
if (mode === "empty") {
  process.stdout.write(`${JSON.stringify({ mode, ...(await usage()) })}\n`);
} else if (mode === "import-ours") {
  kept = await import("cerberus-edge");
  process.stdout.write(`${JSON.stringify({ mode, ...(await usage()), exports: Object.keys(kept).length })}\n`);
} else if (mode === "import-official") {
  kept = createRequire(root)("cerberus-node-client");
  process.stdout.write(`${JSON.stringify({ mode, ...(await usage()), exports: typeof kept })}\n`);
} else if (mode === "reads-ours" || mode === "reads-official") {
  const { env, path, reads, inFlight, every } = input;
  const budgetMs = input.budgetMs ?? Number.POSITIVE_INFINITY;
  /** @type {() => Promise<any>} */
  let read;
  if (mode === "reads-official") {
    read = (await import("./official-client.mjs")).officialReader(root, env, path);
  } else {
    const { createCerberusClient, kmsAuth, readSecret } = await import("cerberus-edge");
    const client = createCerberusClient({ url: env.CERBERUS_URL, auth: kmsAuth(), env: { ...env } });
    read = () => readSecret(client, path);
  }
  await read(); // authenticates
  let done = 1;
  const series = [];
  const started = performance.now();
  let readMs = 0; // time spent reading, collections excluded
  /** Reads until `done` reaches `until`, `inFlight` at a time. */
  const readUntil = async (until) => {
    const t = performance.now();
    let next = done;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < until) {
        next++;
        const data = await read();
        if (typeof data?.greeting !== "string") throw new Error("the read returned no greeting");
      }
    }));
    done = until;
    chunkMs = performance.now() - t;
    readMs += chunkMs;
  };
  let chunkMs = 0;
  const sample = async () => {
    const { heapUsed, rss } = await usage();
    series.push({ reads: done, heapUsed, rss, ms: chunkMs });
  };
  await readUntil(1000);
  await sample();
  while (done < reads && performance.now() - started < budgetMs) {
    await readUntil(Math.min(reads, done + every));
    await sample();
  }
  process.stdout.write(`${JSON.stringify({ mode, reads: done, readMs, inFlight, series })}\n`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
