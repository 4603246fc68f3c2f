/**
 * What every benchmark section shares: statistics, interleaved rounds, timed child processes,
 * the runtimes' binaries, and the shape of a result (a section of rows) that `run.mjs` prints,
 * writes as JSON and draws.
 *
 * A section is a module exporting `measure(options)`, which returns a {@link Section}; run on its
 * own (`node test/bench/<name>.mjs`), it prints its table through {@link runStandalone}.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root folder, with a trailing separator. */
export const root = fileURLToPath(new URL("../..", import.meta.url));

/** The runtimes' binaries: Node (this process), and Bun and Deno from the dev dependencies. */
export const runtimes = {
  node: process.execPath,
  bun: join(root, "node_modules", ".bin", "bun"),
  deno: join(root, "node_modules", ".bin", "deno"),
};

/**
 * @typedef {object} Row
 * @property {string} name what was measured
 * @property {string} unit `ms`, `µs`, `kB`, `MB`, `requests`, …
 * @property {number} value the figure: the median, where it was timed
 * @property {number} [min] the minimum, where it was timed
 * @property {number} [ratio] `value` divided by the baseline's, measured in the same run
 * @property {string} [against] the baseline `ratio` is taken against
 * @property {string} [goal] the goal, as shown (`≤ 0.70×`, `= 1`)
 * @property {boolean} [met] whether the goal is met
 */

/**
 * @typedef {object} Section
 * @property {string} id a short identifier (`sizes`, `cold-start`, …)
 * @property {string} title the section's heading
 * @property {string} command the command that reproduces it
 * @property {Row[]} rows the figures
 * @property {string[]} [notes] lines printed under the table (how it was measured, breakdowns)
 * @property {unknown} [data] anything else worth keeping in the JSON (series over time, profiles)
 */

/** @param {number[]} xs @returns {number} the median (the upper one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** @param {number[]} xs @param {number} q in [0, 1] @returns {number} the q-quantile (nearest rank). */
export const quantile = (xs, q) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

/**
 * Runs `once(name)` for every name, `rounds` times, the order rotated each round and reversed
 * every other round, so that no name always follows the same one (after one untimed warm-up call
 * of each), and returns every name's figures.
 *
 * @template {string} N
 * @param {N[]} names
 * @param {number} rounds
 * @param {(name: N) => number | Promise<number>} once one measurement of `name`
 * @returns {Promise<Record<N, number[]>>}
 */
export async function interleave(names, rounds, once) {
  const figures = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) await once(name);
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    if (round % 2 === 1) order.reverse();
    for (const name of order) figures[name].push(await once(name));
  }
  return figures;
}

/**
 * Runs a command to its end and returns its wall time in ms; throws, with the start of its
 * stderr, when it fails or when its stdout lacks `expect`.
 *
 * @param {string} command
 * @param {string[]} args
 * @param {{ env?: Record<string, string>, cwd?: string, expect?: string }} [options]
 * @returns {{ ms: number, stdout: string, stderr: string }}
 */
export function timeProcess(command, args, options = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    // HOME too: without it Bun has no transpiler cache and Deno no cache folder.
    env: options.env ?? { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    cwd: options.cwd ?? root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0 || (options.expect !== undefined && !result.stdout.includes(options.expect))) {
    const what = [command, ...args].join(" ").slice(0, 200);
    throw new Error(
      `${what} failed (exit ${result.status}${result.error ? `, ${result.error.message}` : ""}): ${
        (result.stderr || result.stdout).slice(0, 600)
      }`,
    );
  }
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

/**
 * A row for a timed figure: median and minimum of `figures`, and its ratio against `baseline`
 * when given. When both come from the same rounds (as {@link interleave} gives them: figure `i`
 * of each was measured in round `i`, moments apart), the ratio is the median of the per-round
 * ratios, which a slow moment of the machine moves far less than the ratio of the medians;
 * otherwise it is the ratio of the medians.
 *
 * @param {string} name
 * @param {number[]} figures
 * @param {{ unit?: string, baseline?: number[], against?: string, goal?: number, goalText?: string }} [options]
 *   `goal`: the ratio must be at most this.
 * @returns {Row}
 */
export function timedRow(name, figures, options = {}) {
  const value = median(figures);
  /** @type {Row} */
  const row = { name, unit: options.unit ?? "ms", value, min: Math.min(...figures) };
  if (options.baseline) {
    const baseline = options.baseline;
    row.ratio = baseline.length === figures.length
      ? median(figures.map((figure, i) => figure / baseline[i]))
      : value / median(baseline);
    row.against = options.against;
  }
  if (options.goal !== undefined && row.ratio !== undefined) {
    row.goal = options.goalText ?? `≤ ${options.goal.toFixed(2)}×`;
    row.met = row.ratio <= options.goal;
  }
  return row;
}

/**
 * Two rows for one figure measured two ways: `"<name>, <onLabel>"` with its ratio against
 * `"<name>, <offLabel>"`, then that one.
 *
 * @param {string} name
 * @param {string} unit
 * @param {[string, number]} on the label and figure the ratio is taken of
 * @param {[string, number]} off the label and figure it is taken against
 * @returns {Row[]}
 */
export function pairedRows(name, unit, [onLabel, on], [offLabel, off]) {
  return [
    { name: `${name}, ${onLabel}`, unit, value: on, ratio: off === 0 ? 0 : on / off, against: offLabel },
    { name: `${name}, ${offLabel}`, unit, value: off },
  ];
}

const fixed = (n) => Number.isInteger(n) || n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);

/** @param {Section} section @returns {string} the section as a text table. */
export function formatSection(section) {
  const lines = [`## ${section.title}`, `   ${section.command}`];
  const width = Math.max(20, ...section.rows.map((r) => r.name.length));
  for (const row of section.rows) {
    let line = `${row.name.padEnd(width)}  ${fixed(row.value).padStart(9)} ${row.unit.padEnd(8)}`;
    line += row.min !== undefined ? ` min ${fixed(row.min).padStart(8)}` : " ".repeat(13);
    // Three decimals where a goal is judged, so that a ratio shown as the goal is never "missed".
    if (row.ratio !== undefined) {
      line += `  ${row.ratio.toFixed(row.goal === undefined ? 2 : 3).padStart(6)}× ${row.against ?? ""}`;
    }
    if (row.goal !== undefined) line += `  goal ${row.goal} ${row.met ? "met" : "MISSED"}`;
    lines.push(line.trimEnd());
  }
  for (const note of section.notes ?? []) lines.push(`   ${note}`);
  return lines.join("\n");
}

/**
 * Runs `measure` and prints its table when `moduleUrl` is the script Node was started with.
 *
 * @param {string} moduleUrl the section's `import.meta.url`
 * @param {(options: { quick: boolean }) => Promise<Section>} measure
 */
export async function runStandalone(moduleUrl, measure) {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const section = await measure({ quick: process.argv.includes("--quick") });
  console.log(formatSection(section));
}
