/**
 * Memory, side by side, each figure from a fresh `node --expose-gc` process (`worker-memory.mjs`)
 * after a full garbage collection:
 *
 * - after the import: RSS and heap used of ours (`import("cerberus-edge")`, the built package), of
 *   the official `cerberus-node-client@4.0.0` (`require`) and of an empty process, in interleaved
 *   rounds, the order rotated each round (median and minimum over rounds; the ratio to the
 *   official client is the median of the per-round ratios);
 * - over warm reads of the local stack's seeded secret (served by a process of its own on
 *   127.0.0.1, warmed up first with raw GETs), 10 in flight: the heap after the first 1,000 reads
 *   and after 100,000 (the growth in between, in MB and bytes per read), for ours; the official
 *   client reads the same way, but only for as many reads as fit in `officialSeconds` (100,000 of
 *   its reads would take over a minute), and its growth is taken over those. Ours stops early
 *   too if its reads outlast `oursSeconds` (a loaded machine); the notes say how many each read.
 *   One run of each.
 *
 *   npm run build && node test/bench/memory.mjs [--quick] [rounds=5] [reads=100000] [officialSeconds=12] [oursSeconds=30]
 */
import http from "node:http";
import { fileURLToPath } from "node:url";
import { median, root, runStandalone, runtimes, timedRow, timeProcess } from "./lib.mjs";
import { awsKeyEnv, startStackProcess } from "./stack-process.mjs";

const worker = `${root}test/bench/worker-memory.mjs`;
const MB = 1024 * 1024;

/**
 * @param {Record<string, unknown>} input
 * @param {Record<string, string>} [env]
 */
function child(input, env = {}) {
  const { stdout } = timeProcess(runtimes.node, ["--expose-gc", worker], {
    env: { PATH: process.env.PATH ?? "", ...env, BENCH_MEMORY: JSON.stringify(input) },
    expect: '"mode"',
  });
  return JSON.parse(stdout.trim().split("\n").at(-1));
}

/**
 * Warms the stack process up (its code gets optimised over its first few thousand answers) with
 * raw keep-alive GETs of the secret, `inFlight` at a time, so that neither client pays for it.
 *
 * @param {import("./stack-process.mjs").StackProcess} stack
 * @param {number} reads
 * @param {number} inFlight
 */
async function warmUp(stack, reads, inFlight) {
  const agent = new http.Agent({ keepAlive: true });
  const url = `${stack.env.CERBERUS_URL}/v1/secret/${stack.secretPath}`;
  const get = () =>
    new Promise((resolve, reject) => {
      http.get(url, { agent, headers: { "X-Cerberus-Token": stack.token } }, (res) => {
        res.resume();
        res.on(
          "end",
          () => (res.statusCode === 200 ? resolve(undefined) : reject(new Error(`status ${res.statusCode}`))),
        );
      }).on("error", reject);
    });
  let left = reads;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (left-- > 0) await get();
  }));
  agent.destroy();
  await stack.takeLog(); // forget them
}

/**
 * @param {{ quick: boolean }} options
 * @returns {Promise<import("./lib.mjs").Section>}
 */
export async function measure({ quick }) {
  // Numbers on the command line only when run on its own (not from run.mjs).
  const standalone = process.argv[1] === fileURLToPath(import.meta.url);
  const numbers = standalone ? process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number) : [];
  const rounds = numbers[0] ?? (quick ? 2 : 5);
  const reads = numbers[1] ?? (quick ? 5_000 : 100_000);
  const budgetMs = (numbers[2] ?? (quick ? 2 : 12)) * 1000;
  const oursBudgetMs = (numbers[3] ?? (quick ? 3 : 30)) * 1000;
  const inFlight = 10;

  // After the import.
  const modes = ["empty", "import-ours", "import-official"];
  /** @type {Record<string, any[]>} */
  const imports = Object.fromEntries(modes.map((mode) => [mode, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < modes.length; i++) {
      const mode = modes[(i + round) % modes.length];
      imports[mode].push(child({ mode }));
    }
  }

  // Over warm reads.
  /** @type {Record<string, any>} */
  const runs = {};
  const stack = await startStackProcess();
  try {
    const keys = awsKeyEnv(stack);
    const common = { path: stack.secretPath, inFlight };
    await warmUp(stack, quick ? 1_000 : 5_000, inFlight);
    runs.ours = child({
      mode: "reads-ours",
      ...common,
      env: stack.env,
      reads,
      budgetMs: oursBudgetMs,
      every: quick ? 1_000 : 4_950,
    });
    runs.official = child(
      {
        mode: "reads-official",
        ...common,
        env: { CERBERUS_URL: stack.env.CERBERUS_URL },
        reads,
        budgetMs,
        every: 1_000,
      },
      keys,
    );
  } finally {
    await stack.stop();
  }

  const mb = (mode, field) => imports[mode].map((r) => r[field] / MB);
  const rows = [];
  for (const [field, what] of [["rss", "RSS"], ["heapUsed", "heap used"]]) {
    rows.push(timedRow(`empty process: ${what}`, mb("empty", field), { unit: "MB" }));
    rows.push(
      timedRow(`ours, after import: ${what}`, mb("import-ours", field), {
        unit: "MB",
        baseline: mb("import-official", field),
        against: "official client",
      }),
    );
    rows.push(timedRow(`official, after import: ${what}`, mb("import-official", field), { unit: "MB" }));
  }
  /** Heap and RSS after the first 1,000 reads and at the end, the growth between, the time per read. */
  const summary = (run) => {
    const first = run.series[0];
    const last = run.series.at(-1);
    return {
      first,
      last,
      growthMB: (last.heapUsed - first.heapUsed) / MB,
      perRead: (last.heapUsed - first.heapUsed) / Math.max(1, last.reads - first.reads),
      // The median pace between samples: the stack and the client warm up over the first reads.
      readMs: run.readMs,
      usPerRead: run.series.length > 1
        ? median(run.series.slice(1).map((s, i) => s.ms * 1000 / (s.reads - run.series[i].reads)))
        : run.readMs * 1000 / (run.reads - 1),
    };
  };
  const ours = summary(runs.ours);
  const official = summary(runs.official);
  const vs = (value, baseline) => ({ ratio: value / baseline, against: "official client" });
  rows.push(
    {
      name: "ours: heap after 1,000 reads",
      unit: "MB",
      value: ours.first.heapUsed / MB,
      ...vs(ours.first.heapUsed, official.first.heapUsed),
    },
    {
      name: `ours: heap after ${ours.last.reads.toLocaleString("en")} reads`,
      unit: "MB",
      value: ours.last.heapUsed / MB,
      ...vs(ours.last.heapUsed, official.last.heapUsed),
    },
    {
      name: `ours: RSS after ${ours.last.reads.toLocaleString("en")} reads`,
      unit: "MB",
      value: ours.last.rss / MB,
      ...vs(ours.last.rss, official.last.rss),
    },
    {
      name: `ours: heap growth 1,000 → ${ours.last.reads.toLocaleString("en")} reads`,
      unit: "MB",
      value: ours.growthMB,
    },
    { name: "ours: heap growth per read", unit: "bytes", value: ours.perRead },
    {
      name: "ours: time per read (10 in flight)",
      unit: "µs",
      value: ours.usPerRead,
      ...vs(ours.usPerRead, official.usPerRead),
    },
    { name: "official: heap after 1,000 reads", unit: "MB", value: official.first.heapUsed / MB },
    {
      name: `official: heap after ${official.last.reads.toLocaleString("en")} reads`,
      unit: "MB",
      value: official.last.heapUsed / MB,
    },
    {
      name: `official: RSS after ${official.last.reads.toLocaleString("en")} reads`,
      unit: "MB",
      value: official.last.rss / MB,
    },
    {
      name: `official: heap growth 1,000 → ${official.last.reads.toLocaleString("en")} reads`,
      unit: "MB",
      value: official.growthMB,
    },
    { name: "official: heap growth per read", unit: "bytes", value: official.perRead },
    { name: "official: time per read (10 in flight)", unit: "µs", value: official.usPerRead },
  );
  const heaps = (run) => run.series.map((s) => (s.heapUsed / MB).toFixed(2)).join(" ");
  const notes = [
    `after import: ${rounds} rounds of fresh node --expose-gc processes (Node ${process.version}), order rotated; ratio = median over rounds of ours / the official client in the same round; figures after a full collection`,
    `ours above an empty process: RSS ${
      (median(mb("import-ours", "rss")) - median(mb("empty", "rss"))).toFixed(2)
    } MB, heap ${
      (median(mb("import-ours", "heapUsed")) - median(mb("empty", "heapUsed"))).toFixed(2)
    } MB; official: RSS ${(median(mb("import-official", "rss")) - median(mb("empty", "rss"))).toFixed(2)} MB, heap ${
      (median(mb("import-official", "heapUsed")) - median(mb("empty", "heapUsed"))).toFixed(2)
    } MB`,
    `reads: ${inFlight} in flight after one authenticating read, one run each; heap after a full collection every ${
      runs.ours.series[1] ? runs.ours.series[1].reads - runs.ours.series[0].reads : "-"
    } reads (ours) / 1,000 reads (official); time per read = the median pace between samples`,
    ...[["ours", ours, oursBudgetMs], ["official client", official, budgetMs]].map(([who, run, budget]) =>
      `${who}: ${run.last.reads.toLocaleString("en")} reads (${
        run.last.reads < reads
          ? `as many as fit in ~${budget / 1000} s, not ${reads.toLocaleString("en")}`
          : `all, in ${(run.readMs / 1000).toFixed(1)} s`
      }), ${run.usPerRead.toFixed(0)} µs per read`
    ),
    ...[["ours", runs.ours], ["official", runs.official]].map(([who, run]) => {
      // Most of the growth comes in the first few thousand reads (optimised code, pooled sockets).
      const from = run.series.find((s) => s.reads >= 10_000);
      const last = run.series.at(-1);
      return from && last.reads > from.reads
        ? `${who}: heap growth from ${from.reads.toLocaleString("en")} to ${last.reads.toLocaleString("en")} reads: ${
          ((last.heapUsed - from.heapUsed) / MB).toFixed(2)
        } MB, ${((last.heapUsed - from.heapUsed) / (last.reads - from.reads)).toFixed(1)} bytes per read`
        : `${who}: fewer than 10,000 reads`;
    }),
    `ours, heap used (MB) at each sample: ${heaps(runs.ours)}`,
    `official, heap used (MB) at each sample: ${heaps(runs.official)}`,
  ];
  return {
    id: "memory",
    title: "Memory: after the import, and over warm reads (ours vs the official client)",
    command: "npm run build && node test/bench/memory.mjs",
    rows,
    notes,
    data: { imports, reads: runs },
  };
}

await runStandalone(import.meta.url, measure);
