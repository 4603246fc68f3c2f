/**
 * Warm read, side by side, on Node and on Bun: `readSecret(client, path)` with a cached token (the
 * built package, as users run it) against the least a client can do for the same read in the same
 * runtime:
 *
 * - a raw keep-alive `node:http` GET of the secret's URL, with the same request headers, the body
 *   read and parsed as JSON;
 * - a raw `fetch` of the same URL with the same headers, `await res.json()`.
 *
 * Each comparison (ours against one baseline, in one runtime) runs `worker-warm-read.mjs` in a
 * child process of its own, one after the other, never two at once; the local stack answers from
 * another process on 127.0.0.1. One process per pair, because a third way in the same process
 * skews the pair: Node's fetch leaves garbage and background work that the next block pays for,
 * and it raised our ratio against node:http by about 0.1 when all three shared a process. Within a
 * child the two ways run in interleaved rounds of `readsPerRound` sequential reads after a warm-up,
 * the order alternating (each way follows the other equally often). A row gives the median and the
 * minimum over rounds of the wall time per read; its ratio is the median over rounds of ours /
 * baseline within the round, both measured moments apart, so that a machine slowing down for a
 * while slows both. The client process's CPU time per read is in the notes.
 *
 *   npm run build && node test/bench/warm-read.mjs [--quick] [rounds=41] [readsPerRound=100]
 */
import { fileURLToPath } from "node:url";
import { median, root, runStandalone, runtimes, timedRow, timeProcess } from "./lib.mjs";
import { startStackProcess } from "./stack-process.mjs";

const worker = `${root}test/bench/worker-warm-read.mjs`;
const label = { ours: "cerberus-edge readSecret", http: "raw node:http GET", fetch: "raw fetch" };

/**
 * @param {{ quick: boolean }} options
 * @returns {Promise<import("./lib.mjs").Section>}
 */
export async function measure({ quick }) {
  // Numbers on the command line only when run on its own (not from run.mjs).
  const standalone = process.argv[1] === fileURLToPath(import.meta.url);
  const numbers = standalone ? process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number) : [];
  const rounds = numbers[0] ?? (quick ? 5 : 41);
  const perRound = numbers[1] ?? (quick ? 40 : 100);
  // The stack process is still warming up (its JIT) over its first few thousand requests.
  const warmup = quick ? 100 : 2000;
  const stack = await startStackProcess();
  /** @type {Record<string, Record<string, any>>} runtime → baseline → the child's figures */
  const results = { node: {}, bun: {} };
  try {
    for (const runtime of ["node", "bun"]) {
      for (const baseline of ["http", "fetch"]) {
        const input = {
          env: stack.env,
          path: stack.secretPath,
          token: stack.token,
          ways: ["ours", baseline],
          rounds,
          perRound,
          warmup,
        };
        const { stdout } = timeProcess(runtimes[runtime], [worker], {
          env: { PATH: process.env.PATH ?? "", BENCH_WARM_READ: JSON.stringify(input) },
          expect: '"times"',
        });
        results[runtime][baseline] = JSON.parse(stdout.trim().split("\n").at(-1));
      }
    }
  } finally {
    await stack.stop();
  }

  const rows = [];
  const notes = [
    `${rounds} rounds × ${perRound} sequential reads per way, one process per runtime and pair, order alternating; ratio = median over rounds of ours / baseline in the same round`,
  ];
  for (const runtime of ["node", "bun"]) {
    const Runtime = runtime === "node" ? "Node" : "Bun";
    for (const baseline of ["http", "fetch"]) {
      const { times } = results[runtime][baseline];
      const row = timedRow(`${Runtime}: ${label.ours}`, times.ours, {
        unit: "µs/read",
        baseline: times[baseline],
        against: `${label[baseline]} (${Runtime})`,
      });
      if (runtime === "node" && baseline === "http") {
        row.goal = "≤ 1.25×";
        row.met = row.ratio <= 1.25;
      }
      rows.push(row);
    }
    for (const baseline of ["http", "fetch"]) {
      rows.push(
        timedRow(`${Runtime}: ${label[baseline]}`, results[runtime][baseline].times[baseline], { unit: "µs/read" }),
      );
    }
    notes.push(
      `${Runtime} ${results[runtime].http.version}: client CPU per read (median over rounds): ${
        ["http", "fetch"].map((baseline) => {
          const { cpu } = results[runtime][baseline];
          return `ours ${median(cpu.ours).toFixed(0)} µs vs ${label[baseline]} ${median(cpu[baseline]).toFixed(0)} µs`;
        }).join("; ")
      }`,
    );
  }
  return {
    id: "warm-read",
    title: "Warm read: readSecret with a cached token vs raw node:http and raw fetch (Node and Bun)",
    command: "npm run build && node test/bench/warm-read.mjs",
    rows,
    notes,
    data: results,
  };
}

await runStandalone(import.meta.url, measure);
