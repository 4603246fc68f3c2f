/**
 * Cold start to the first secret: each run is a fresh process that authenticates to the local
 * stack (Cerberus, KMS, STS and instance metadata on 127.0.0.1, served by a process of its own)
 * and prints the seeded secret, or does nothing (the floors):
 *
 * - the library: probe-library.mjs (`import` of cerberus-edge, one `readSecret`), by STS (the app
 *   role's keys in `AWS_*`) and by KMS (instance metadata), on Node, Bun and Deno;
 * - the CLI: `dist/cli.js read <path>` with `CERBERUS_AUTH=sts` or `kms`, on Node, Bun
 *   (`bun dist/cli.js`) and Deno (`deno run -A dist/cli.js`);
 * - the official `cerberus-node-client@4.0.0` (STS, its only method off EC2), on Node;
 * - floors: the empty process of each runtime (`node -e 0`, an empty file on Bun and Deno), and
 *   floor-client.mjs on Node, the same HTTP requests with `node:http` and `node:crypto` alone.
 *
 * Interleaved rounds, the order rotated each round. Ratios (medians of the per-round ratios, see
 * `timedRow`) are against the official client, and for the Node rows also against the floor
 * client of the same auth; the goals are in the rows.
 * The Node probe runs report when each phase ended (boot, import, auth, first read, exit): their
 * medians are in the notes and in `data`. Last, one Node probe run of each auth under
 * `--cpu-prof`, summarised: self time by category (each sample charged to what it runs for, e.g.
 * Node's fetch library loaded because aws4fetch builds a `Headers`) and the top functions.
 *
 *   npm run build && node test/bench/cold-start.mjs [--quick]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interleave, median, root, runStandalone, runtimes, timedRow, timeProcess } from "./lib.mjs";
import { awsKeyEnv, startStackProcess } from "./stack-process.mjs";

const bench = `${root}test/bench/`;
const probe = `${bench}probe-library.mjs`;
const empty = `${bench}probe-empty.mjs`;
const floor = `${bench}floor-client.mjs`;
const cli = `${root}dist/cli.js`;
const EXPECT = "hello from the local stack";

const OFFICIAL = "official client, Node, STS";
const FLOOR = { sts: "no library, node:http (STS)", kms: "no library, node:http (KMS)" };

/** The phases of a Node probe run, from its marks (ms since the process started) and its wall time. */
const PHASES = {
  boot: (m) => m.boot,
  import: (m) => m.imported - m.boot,
  "create client": (m) => m.created - m.imported,
  auth: (m) => m.authed - m.created,
  "first read": (m) => m.read - m.authed,
  print: (m) => m.printed - m.read,
  "to exit event": (m) => m.exit - m.printed,
  "outside the process clock (spawn, teardown)": (m, wall) => wall - m.exit,
};

/** @param {{ quick: boolean }} options @returns {Promise<import("./lib.mjs").Section>} */
export async function measure({ quick }) {
  const rounds = quick ? 3 : 15;
  const started = performance.now();
  const stack = await startStackProcess();
  const scratch = mkdtempSync(join(tmpdir(), "cerberus-edge-cold-"));
  try {
    const path = stack.secretPath;
    // HOME too: without it Bun has no transpiler cache and takes twice as long to import.
    const base = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
    };
    const env = {
      sts: {
        ...base,
        ...stack.env,
        ...awsKeyEnv(stack),
      },
      kms: { ...base, ...stack.env },
    };
    const official =
      `new (require("cerberus-node-client"))({ hostUrl: process.env.CERBERUS_URL, region: process.env.AWS_REGION })
  .getSecureData(${JSON.stringify(path)}).then((data) => console.log(JSON.stringify(data)));`;
    const deno = (...args) => [runtimes.deno, ["run", "-A", ...args]];

    /** name → [binary, arguments, environment] */
    const runs = {
      "node -e 0": [runtimes.node, ["-e", "0"], base],
      "bun, empty file": [runtimes.bun, [empty], base],
      "deno run, empty file": [...deno(empty), base],
      [FLOOR.sts]: [runtimes.node, [floor, "sts", path], env.sts],
      [FLOOR.kms]: [runtimes.node, [floor, "kms", path], env.kms],
      [OFFICIAL]: [runtimes.node, ["-e", official], env.sts],
    };
    for (const auth of /** @type {const} */ (["sts", "kms"])) {
      const AUTH = auth.toUpperCase();
      const probeEnv = { ...env[auth], PROBE_AUTH: auth };
      const cliEnv = { ...env[auth], CERBERUS_AUTH: auth };
      runs[`library, Node, ${AUTH}`] = [runtimes.node, [probe, path], { ...probeEnv, PROBE_TIMINGS: "1" }];
      runs[`library, Bun, ${AUTH}`] = [runtimes.bun, [probe, path], probeEnv];
      runs[`library, Deno, ${AUTH}`] = [...deno(probe, path), probeEnv];
      runs[`CLI, Node, ${AUTH}`] = [runtimes.node, [cli, "read", path], cliEnv];
      runs[`CLI, Bun, ${AUTH}`] = [runtimes.bun, [cli, "read", path], cliEnv];
      runs[`CLI, Deno, ${AUTH}`] = [...deno(cli, "read", path), cliEnv];
    }

    const names = Object.keys(runs);
    /** @type {Record<string, Record<string, number>[]>} the Node probe runs' marks, with their wall time */
    const marks = { sts: [], kms: [] };
    const wall = await interleave(names, rounds, (name) => {
      const [binary, args, runEnv] = runs[name];
      const { ms, stdout } = timeProcess(binary, args, {
        env: runEnv,
        expect: runEnv === base ? undefined : EXPECT,
      });
      const line = /^probe-timings (.*)$/m.exec(stdout);
      if (line) marks[runEnv.PROBE_AUTH].push({ ...JSON.parse(line[1]), wall: ms });
      return ms;
    });

    // Rows: every run against the official client; the Node ones also against their floor.
    const goals = {
      "library, Node, STS": 0.7,
      "CLI, Node, STS": 0.7,
      "library, Bun, STS": 0.4,
      "CLI, Bun, STS": 0.4,
    };
    const rows = names.map((name) =>
      name === OFFICIAL
        ? timedRow(name, wall[name])
        : timedRow(name, wall[name], { baseline: wall[OFFICIAL], against: "official", goal: goals[name] })
    );
    /** @type {Record<string, number>} */
    const againstFloor = {};
    for (const name of names.filter((n) => /^(library|CLI), Node/.test(n))) {
      const auth = name.endsWith("STS") ? "sts" : "kms";
      const row = timedRow(`${name} ÷ floor`, wall[name], {
        baseline: wall[FLOOR[auth]],
        against: `no library (${auth.toUpperCase()})`,
        goal: auth === "sts" ? 1.3 : undefined,
      });
      againstFloor[name] = /** @type {number} */ (row.ratio);
      rows.push(row);
    }

    // The Node probe's phases, warm-up run left out (medians of each phase: they need not add up
    // to the median total).
    const breakdown = {};
    for (const auth of /** @type {const} */ (["sts", "kms"])) {
      const timed = marks[auth].slice(1);
      breakdown[auth] = Object.fromEntries(
        Object.entries(PHASES).map(([phase, of]) => [phase, median(timed.map((m) => of(m, m.wall)))]),
      );
    }
    const ms = (n) => `${n.toFixed(1)}`;
    const notes = [
      "Node library probe (its runs above, with PROBE_TIMINGS=1), median ms per phase (STS | KMS):",
      ...Object.keys(PHASES).map((phase) =>
        `  ${phase.padEnd(44)} ${ms(breakdown.sts[phase]).padStart(7)} | ${ms(breakdown.kms[phase]).padStart(7)}`
      ),
    ];

    // One profiled run of each auth.
    const profiles = {};
    for (const auth of /** @type {const} */ (["sts", "kms"])) {
      const dir = join(scratch, auth);
      const run = timeProcess(
        runtimes.node,
        ["--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${dir}`, probe, path],
        { env: { ...env[auth], PROBE_AUTH: auth }, expect: EXPECT },
      );
      const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
      if (!file) throw new Error("node --cpu-prof wrote no profile");
      profiles[auth] = { wallMs: run.ms, ...summariseProfile(JSON.parse(readFileSync(join(dir, file), "utf8"))) };
    }
    notes.push(...profileNotes(profiles));
    notes.push(
      `${rounds} rounds (+1 warm-up), order rotated each round; ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s with the stack's start and the profiles. Node ${process.version}.`,
    );
    return {
      id: "cold-start",
      title: "Cold start: a fresh process to its first secret",
      command: "npm run build && node test/bench/cold-start.mjs",
      rows,
      notes,
      data: { rounds, wall, againstFloor, breakdown, marks, profiles },
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await stack.stop();
  }
}

/**
 * What a sample's time is charged to: the first rule, in this order, that matches a frame of its
 * stack (each frame of Node's built-in loader counted as the built-in it loads). So Node's fetch
 * library loaded because aws4fetch builds a `Headers` is `undici`, not aws4fetch, and `node:http`
 * loaded by our transport is `node http/net`, not our code.
 *
 * @type {[string, (url: string) => boolean][]}
 */
const CATEGORIES = [
  ["undici (Node's fetch, Headers)", (url) => url.startsWith("node:internal/deps/undici")],
  ["crypto (SigV4 HMAC, SHA-256)", (url) => url.startsWith("node:internal/crypto") || url === "node:crypto"],
  [
    "node http/net",
    (url) => /^node:(https?|_http_\w+|net|tls|dns|internal\/(net|http|dns|stream_base_commons))\b/.test(url),
  ],
  ["valibot", (url) => url.includes("/node_modules/valibot/")],
  ["aws4fetch", (url) => url.includes("/node_modules/aws4fetch/")],
  ["@smithy/util-base64 (CJS)", (url) => url.includes("/node_modules/@smithy/")],
  ["cerberus-edge dist (its code)", (url) => url.startsWith(`file://${root}dist/`)],
  ["module loader (resolve, read, compile)", (url) => url.startsWith("node:internal/modules/")],
  ["probe script", (url) => url.startsWith(`file://${bench}`)],
  [
    "Node bootstrap and exit",
    (url) => /^node:internal\/(bootstrap\/(node|switches|web)|main|process)\//.test(url),
  ],
];

/** The profiler's own pseudo-frames. */
const SPECIAL = new Map([
  ["(garbage collector)", "GC"],
  ["(idle)", "idle (waiting for the network)"],
  ["(program)", "(program): V8 and native, unattributed"],
]);

/**
 * Summarises a `.cpuprofile`: self time by category, the top functions by self time, and the top
 * functions of the library and its dependencies charged with what they call in Node (each sample
 * goes to the innermost such frame of its stack: `AwsV4Signer` with the `Headers` it loads).
 *
 * @param {{ nodes: { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} profile
 */
export function summariseProfile(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  // A frame of Node's built-in loader stands for the built-in it compiles and runs.
  const urlOf = (node) => {
    if (node.callFrame.functionName !== "compileForInternalLoader") return node.callFrame.url;
    const body = (node.children ?? []).map((id) => byId.get(id).callFrame)
      .find((f) => f.functionName === "" && f.lineNumber === 0 && f.url.startsWith("node:"));
    return body?.url ?? node.callFrame.url;
  };
  const short = (url) => url.replace(`file://${root}`, "").replace(/^.*node_modules\//, "");
  const label = (node) =>
    `${node.callFrame.functionName || "(top level)"} ${short(node.callFrame.url)}${
      node.callFrame.url ? `:${node.callFrame.lineNumber + 1}` : ""
    }`;
  const ours = (url) => url.startsWith(`file://${root}dist/`) || url.includes("/node_modules/");
  const categories = new Map();
  const selfByFunction = new Map();
  const charged = new Map();
  let sampled = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's time runs until the next sample.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    sampled += ms;
    const leaf = byId.get(profile.samples[i]);
    const stack = [];
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) stack.push(byId.get(id));
    const special = SPECIAL.get(leaf.callFrame.functionName);
    const category = special ??
      CATEGORIES.find(([, test]) => stack.some((node) => test(urlOf(node))))?.[0] ??
      "other Node internals";
    categories.set(category, (categories.get(category) ?? 0) + ms);
    selfByFunction.set(label(leaf), (selfByFunction.get(label(leaf)) ?? 0) + ms);
    const own = stack.find((node) => ours(node.callFrame.url));
    if (own && !special) charged.set(label(own), (charged.get(label(own)) ?? 0) + ms);
  }
  const top = (map, n) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, ms]) => ({ name, ms: round(ms) }));
  return {
    spanMs: round((profile.endTime - profile.startTime) / 1000),
    sampledMs: round(sampled),
    categories: top(categories, categories.size),
    topSelf: top(selfByFunction, 8),
    topCharged: top(charged, 8),
  };
}

const round = (n) => Math.round(n * 10) / 10;

/** @param {Record<string, ReturnType<typeof summariseProfile> & { wallMs: number }>} profiles */
function profileNotes(profiles) {
  const { sts, kms } = profiles;
  const kmsCategory = new Map(kms.categories.map((c) => [c.name, c.ms]));
  const names = [...new Set([...sts.categories, ...kms.categories].map((c) => c.name))];
  const share = (ms, p) => `${ms.toFixed(1).padStart(6)} ${`${Math.round((100 * ms) / p.sampledMs)}%`.padStart(4)}`;
  return [
    `CPU profile of one Node probe run each (--cpu-prof, 100 µs sampling; the profiler starts after Node's bootstrap):`,
    `  STS: ${sts.wallMs.toFixed(0)} ms wall, ${sts.spanMs.toFixed(0)} ms profiled; KMS: ${
      kms.wallMs.toFixed(0)
    } ms wall, ${kms.spanMs.toFixed(0)} ms profiled. Self time by category, ms and share (STS | KMS):`,
    ...names.map((name) =>
      `  ${name.padEnd(40)} ${share(sts.categories.find((c) => c.name === name)?.ms ?? 0, sts)} | ${
        share(kmsCategory.get(name) ?? 0, kms)
      }`
    ),
    "  top functions by self time (STS):",
    ...sts.topSelf.map((f) => `    ${f.ms.toFixed(1).padStart(6)}  ${f.name}`),
    "  top functions of the library and its dependencies, with the Node internals they call (STS):",
    ...sts.topCharged.map((f) => `    ${f.ms.toFixed(1).padStart(6)}  ${f.name}`),
  ];
}

await runStandalone(import.meta.url, measure);
