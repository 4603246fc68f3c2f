#!/usr/bin/env node
/**
 * `npm run bench`: every benchmark section, one after the other, against the local stack on
 * 127.0.0.1, each comparison measured side by side in interleaved rounds. Prints each section's
 * table as it ends, then the goals; writes `results.json` and `chart.svg` (cold start and
 * bundle size against the official client and the floors) to `.tmp/bench/`.
 *
 *   npm run bench                          # build, then every section (a few minutes)
 *   npm run bench -- --quick               # a few rounds of each: checks that they all run
 *   npm run bench -- --only sizes,cold-start
 *   npm run bench -- --record              # also writes docs/bench/ and README's figures
 *   node test/bench/run.mjs --render       # draws docs/bench/results.json again, measuring nothing
 *
 * `--record` is how the figures in README and `docs/bench/` are made: it writes the JSON, the
 * chart and the Markdown table there, and replaces README's block between the
 * `<!-- bench:start -->` and `<!-- bench:end -->` markers with the table.
 */
import { cpus, release } from "node:os";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { drawChart } from "./chart.mjs";
import { formatSection, root, runtimes } from "./lib.mjs";

/** The sections, in the order they run: what users download and start first, then load. */
const SECTIONS = [
  "sizes",
  "install",
  "import-time",
  "cold-start",
  "warm-read",
  "concurrency",
  "memory",
  "fleet",
  "cache",
];
const FILES = { cache: "cache-load" };

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const record = args.includes("--record");
const onlyAt = args.indexOf("--only");
const only = onlyAt === -1 ? SECTIONS : args[onlyAt + 1]?.split(",") ?? [];
const unknown = only.filter((id) => !SECTIONS.includes(id));
if (
  unknown.length || args.some((a) => a.startsWith("--") && !["--quick", "--record", "--render", "--only"].includes(a))
) {
  console.error(`usage: node test/bench/run.mjs [--quick] [--record | --render] [--only ${SECTIONS.join(",")}]`);
  process.exit(2);
}
if (args.includes("--render")) {
  // Draws the recorded results again (after a change to the chart or the table), measuring nothing.
  writeRecord(JSON.parse(readFileSync(join(root, "docs", "bench", "results.json"), "utf8")));
  console.log("rendered docs/bench/chart.svg, results.md and README's figures from docs/bench/results.json");
  process.exit(0);
}
if (record && (quick || only.length !== SECTIONS.length)) {
  console.error("--record needs a full run: no --quick, no --only");
  process.exit(2);
}

const version = (bin, flag = "--version") =>
  spawnSync(bin, [flag], { encoding: "utf8", env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" } }).stdout
    .split("\n")[0].trim();
const machine = {
  node: process.version,
  bun: version(runtimes.bun),
  deno: version(runtimes.deno),
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  os: `${process.platform} ${release()}`,
};
const started = Date.now();
console.log(
  `cerberus-edge benchmarks — Node ${machine.node}, Bun ${machine.bun}, ${machine.deno}, ${machine.cores} × ${machine.cpu}${
    quick ? " (quick)" : ""
  }\n`,
);

/** @type {Record<string, import("./lib.mjs").Section>} */
const sections = {};
const failures = [];
for (const id of only) {
  const t = Date.now();
  try {
    const { measure } = await import(`./${FILES[id] ?? id}.mjs`);
    const section = await measure({ quick });
    sections[id] = { ...section, seconds: Math.round((Date.now() - t) / 100) / 10 };
    console.log(`${formatSection(section)}\n   [${((Date.now() - t) / 1000).toFixed(1)} s]\n`);
  } catch (error) {
    failures.push(id);
    console.log(`## ${id}: FAILED\n   ${String(error?.stack ?? error).split("\n").slice(0, 6).join("\n   ")}\n`);
  }
}

const goals = Object.values(sections).flatMap((s) => s.rows.filter((r) => r.goal !== undefined).map((r) => ({ s, r })));
console.log("## Goals");
for (const { s, r } of goals) {
  const figure = r.ratio !== undefined ? `${r.ratio.toFixed(3)}×${r.against ? ` ${r.against}` : ""}` : `${r.value}`;
  console.log(`${r.met ? "met   " : "MISSED"}  ${s.id}: ${r.name} — ${figure} (goal ${r.goal})`);
}
const seconds = (Date.now() - started) / 1000;
console.log(
  `\n${goals.filter((g) => g.r.met).length} of ${goals.length} goals met; ${failures.length} section(s) failed${
    failures.length ? ` (${failures.join(", ")})` : ""
  }; ${seconds.toFixed(0)} s in all`,
);

const results = { date: new Date().toISOString(), machine, quick, seconds, sections };
const out = join(root, ".tmp", "bench");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(out, "chart.svg"), chartOf(results));
console.log(`wrote ${join(out, "results.json")} and chart.svg`);

if (record && !failures.length) {
  writeRecord(results);
  console.log("recorded: docs/bench/results.json, chart.svg, results.md and README's figures");
}
if (failures.length) process.exitCode = 1;

/** The chart of a run's results. */
function chartOf({ date, machine, sections }) {
  return drawChart(sections, {
    cold: [
      ["node -e 0", "empty process (floor)", "floor"],
      ["no library, node:http (STS)", "no library, same requests (floor)", "floor"],
      ["library, Node, STS", "cerberus-edge library, STS", "ours"],
      ["library, Node, KMS", "cerberus-edge library, KMS", "ours"],
      ["CLI, Node, STS", "cerberus-edge CLI, STS", "ours"],
      ["official client, Node, STS", "cerberus-node-client 4.0.0, STS", "official"],
    ],
    sizes: [
      ["floor: aws4fetch signer + one valibot schema", "aws4fetch + one valibot schema (floor)", "floor"],
      ["KMS auth + readSecret (core)", "cerberus-edge, KMS auth + read", "ours"],
      ["single file (dist/cerberus-edge.vendor.mjs)", "cerberus-edge, single file", "ours"],
      ["official cerberus-node-client@4.0.0 (platform node)", "cerberus-node-client 4.0.0", "official"],
    ],
    caption: `${date.slice(0, 10)} · Node ${machine.node} · ${machine.cores} × ${machine.cpu} · npm run bench`,
  });
}

/** Writes a full run's results to docs/bench/ (JSON without the raw series, chart, Markdown) and README's block. */
function writeRecord(results) {
  const docs = join(root, "docs", "bench");
  mkdirSync(docs, { recursive: true });
  // The rows and notes only: the raw series (each round, profiles) stay in .tmp/bench/results.json.
  const sections = Object.fromEntries(
    Object.entries(results.sections).map(([id, { data: _data, ...section }]) => [id, section]),
  );
  writeFileSync(join(docs, "results.json"), `${JSON.stringify({ ...results, sections }, null, 2)}\n`);
  writeFileSync(join(docs, "chart.svg"), chartOf(results));
  const table = markdown(results);
  writeFileSync(join(docs, "results.md"), `${table}\n`);
  const readmePath = join(root, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const block = /<!-- bench:start -->[\s\S]*<!-- bench:end -->/;
  if (!block.test(readme)) throw new Error("README.md has no <!-- bench:start --> … <!-- bench:end --> block");
  writeFileSync(readmePath, readme.replace(block, `<!-- bench:start -->\n${table}\n<!-- bench:end -->`));
}

/** The recorded figures as Markdown: one table of every row, grouped by section. */
function markdown({ date, machine, sections }) {
  const fmt = (n) => (Number.isInteger(n) || n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const deno = machine.deno.split(" ").slice(0, 2).join(" ");
  const lines = [
    `Measured ${date.slice(0, 10)} with \`npm run bench -- --record\` on ${machine.cores} × ${machine.cpu}, Node ${
      machine.node.replace(/^v/, "")
    }, Bun ${machine.bun}, ${deno}. Medians of interleaved rounds (the order changes each round); a ratio is the median of`,
    "the per-round ratios against the baseline measured in the same rounds. Each section's command runs it alone.",
  ];
  for (const section of Object.values(sections)) {
    lines.push(
      "",
      `**${section.title}** (\`${section.command}\`)`,
      "",
      "| Figure | Median | Min | Ratio | Goal |",
      "| --- | ---: | ---: | --- | --- |",
    );
    for (const row of section.rows) {
      lines.push(
        `| ${row.name} | ${fmt(row.value)} ${row.unit} | ${
          row.min !== undefined ? `${fmt(row.min)} ${row.unit}` : ""
        } | ${row.ratio !== undefined ? `${row.ratio.toFixed(row.goal ? 3 : 2)}× ${row.against ?? ""}` : ""} | ${
          row.goal !== undefined ? `${row.goal} ${row.met ? "met" : "**missed**"}` : ""
        } |`,
      );
    }
  }
  return lines.join("\n");
}
