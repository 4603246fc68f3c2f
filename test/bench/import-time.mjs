/**
 * Import time: the wall time of a fresh process that imports the library and exits, against the
 * same runtime doing nothing, and against the official `cerberus-node-client@4.0.0`:
 *
 * - Node, ESM: `node probe-import.mjs` (`import("cerberus-edge")`, i.e. dist/mod.js) against
 *   `node probe-empty.mjs` (an empty ESM file: the ESM entry costs the same in both);
 * - Node, CJS: `node -e 'require("cerberus-edge")'` (dist/mod.cjs) against `node -e 0`;
 * - Node, the single file (dist/cerberus-edge.vendor.mjs: the same code with its dependencies
 *   bundled in), imported from `node --input-type=module -e`: what resolving and loading the
 *   three dependencies as packages costs;
 * - the official client: `node -e 'require("cerberus-node-client")'` against `node -e 0`;
 * - Bun and Deno (`deno run -A`): `probe-import.mjs` against `probe-empty.mjs`.
 *
 * Each importing process also prints its own import time (`process.hrtime` around the import),
 * which is free of the noise of two process starts; both figures, net of the empty process and
 * in-process, are in the notes and in `data`. Interleaved rounds, the order rotated each round;
 * ratios are medians of the per-round ratios.
 *
 *   npm run build && node test/bench/import-time.mjs [--quick]
 */
import { interleave, median, root, runStandalone, runtimes, timedRow, timeProcess } from "./lib.mjs";

const probe = `${root}test/bench/probe-import.mjs`;
const empty = `${root}test/bench/probe-empty.mjs`;
const timedRequire = (id) =>
  `const t = process.hrtime.bigint(); require(${
    JSON.stringify(id)
  }); const ms = Number(process.hrtime.bigint() - t) / 1e6; process.stdout.write(String(ms));`;

const timedImport = (path) =>
  `const t = process.hrtime.bigint(); await import(${
    JSON.stringify(path)
  }); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;

/** name → [binary, arguments, the empty process it is measured against (none: it is one)] */
const runs = {
  "node -e 0": [runtimes.node, ["-e", "0"]],
  "node, empty file": [runtimes.node, [empty]],
  "node, import (ESM)": [runtimes.node, [probe], "node, empty file"],
  "node, require (CJS)": [runtimes.node, ["-e", timedRequire("cerberus-edge")], "node -e 0"],
  // The same code with its dependencies bundled in: what packages cost to resolve and load.
  "node, import of the single file": [
    runtimes.node,
    ["--input-type=module", "-e", timedImport(`${root}dist/cerberus-edge.vendor.mjs`)],
    "node, empty file",
  ],
  "node, require official": [runtimes.node, ["-e", timedRequire("cerberus-node-client")], "node -e 0"],
  "bun, empty file": [runtimes.bun, [empty]],
  "bun, import": [runtimes.bun, [probe], "bun, empty file"],
  "deno run, empty file": [runtimes.deno, ["run", "-A", empty]],
  "deno run, import": [runtimes.deno, ["run", "-A", probe], "deno run, empty file"],
};

/** @param {{ quick: boolean }} options @returns {Promise<import("./lib.mjs").Section>} */
export async function measure({ quick }) {
  const rounds = quick ? 3 : 15;
  // HOME too: without it Bun has no transpiler cache and takes twice as long to import.
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  const names = /** @type {(keyof typeof runs)[]} */ (Object.keys(runs));
  /** @type {Record<string, number[]>} in-process import times, ms */
  const inProcess = Object.fromEntries(names.map((name) => [name, []]));
  const started = performance.now();
  const wall = await interleave(names, rounds, (name) => {
    const [binary, args, against] = runs[name];
    const { ms, stdout } = timeProcess(binary, args, { env });
    if (against) {
      const own = Number.parseFloat(stdout);
      if (!Number.isFinite(own)) throw new Error(`${name} printed no import time`);
      inProcess[name].push(own);
    }
    return ms;
  });
  const rows = [];
  for (const name of names) {
    const against = runs[name][2];
    rows.push(timedRow(name, wall[name], against ? { baseline: wall[against], against } : {}));
  }
  const official = wall["node, require official"];
  for (const name of /** @type {const} */ (["node, import (ESM)", "node, require (CJS)"])) {
    rows.push(timedRow(`${name} ÷ official`, wall[name], { baseline: official, against: "official require" }));
  }

  // Import only: the importing process less its empty one (medians), and as timed inside it.
  const net = {};
  for (const name of names) {
    const against = runs[name][2];
    if (!against) continue;
    net[name] = { netOfEmpty: median(wall[name]) - median(wall[against]), inProcess: median(inProcess[name]) };
  }
  const ms = (n) => `${n.toFixed(1)} ms`;
  const officialNet = net["node, require official"];
  const notes = [
    "import only (median of the process − median of its empty process; median as timed inside the process):",
    ...Object.entries(net).map(([name, n]) =>
      `  ${name.padEnd(32)} ${ms(n.netOfEmpty).padStart(9)} net  ${ms(n.inProcess).padStart(9)} in-process${
        name.startsWith("node") && name !== "node, require official"
          ? `  (${(n.inProcess / officialNet.inProcess).toFixed(2)}× official in-process)`
          : ""
      }`
    ),
    `${rounds} rounds (+1 warm-up), order rotated each round; ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s. Node ${process.version}, Bun ${timeProcess(runtimes.bun, ["--version"], { env }).stdout.trim()}, Deno ${
      timeProcess(runtimes.deno, ["--version"], { env }).stdout.split(" ")[1]
    }.`,
  ];
  return {
    id: "import-time",
    title: "Import time: a fresh process that imports the library and exits",
    command: "npm run build && node test/bench/import-time.mjs",
    rows,
    notes,
    data: { rounds, wall, inProcess, net },
  };
}

await runStandalone(import.meta.url, measure);
