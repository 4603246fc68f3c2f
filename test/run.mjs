#!/usr/bin/env node
/**
 * One suite, three runtimes: runs every `test/**\/*.test.ts` under Node (`node --import tsx
 * --test`), Bun (`bun test`) and Deno (`deno test -A`), then the Workers end-to-end test
 * (`test/worker/*.e2e.ts`, on Node, driving miniflare/workerd), and prints a last line
 * `N passed, N failed` summed over all of them. Exits non-zero when anything failed.
 *
 *   node test/run.mjs                 # the tests: node bun deno worker
 *   node test/run.mjs node deno       # a selection
 *   node test/run.mjs bun -- test/runtime.test.ts   # only some files
 *   node test/run.mjs all             # tests + checks (what .ci/run does, after a build)
 *
 * Checks (`typecheck`, `fmt`, `lint`, `publint`, `attw`, `size`, `pack`, `bench`; the last five need `npm run build`;
 * `bench` is `npm run bench -- --quick`, which fails only when a section cannot run, never on a figure)
 * count as one passed or one failed each, so a failing check shows in the closing line too.
 *
 * Counting: each runner's own summary. Node counts tests (`it`/`test`, not suites); Bun
 * counts tests and adds "N errors" (unhandled errors between tests) to the failures; Deno
 * counts top-level tests plus their steps (a `describe` is a top-level test there). A runner
 * that exits non-zero without reporting a failure, or prints no summary, counts one failure.
 *
 * Environment: TEST_TIMEOUT_MS (per runner, default 15 min); bun and deno are the npm
 * dev-dependency binaries in node_modules/.bin.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);
const TESTS = ["node", "bun", "deno", "worker"];
const CHECKS = ["typecheck", "fmt", "lint", "publint", "attw", "size", "pack", "bench"];
const ALL = [...TESTS, ...CHECKS];

const args = process.argv.slice(2);
const dashdash = args.indexOf("--");
const selected = (dashdash === -1 ? args : args.slice(0, dashdash)).filter(Boolean).flatMap((
  a,
) => (a === "all" ? ALL : [a]));
const explicitFiles = dashdash === -1 ? [] : args.slice(dashdash + 1);
for (const name of selected) {
  if (!ALL.includes(name)) {
    console.error(`unknown runner ${name}; choose from ${ALL.join(", ")} or all`);
    process.exit(2);
  }
}
const runners = selected.length ? [...new Set(selected)] : TESTS;
const timeoutMs = Number(process.env.TEST_TIMEOUT_MS ?? 15 * 60_000);

/** Every file under `dir` whose name ends with `suffix`, as sorted `./test/...` paths. */
function find(dir, suffix) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(suffix)) out.push(`./${relative(root, path).split(sep).join("/")}`);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

// `./` keeps bun from reading a path as a name filter.
const asPath = (file) => (file.startsWith("/") || file.startsWith("./") || file.startsWith("../") ? file : `./${file}`);
const unitFiles = explicitFiles.length ? explicitFiles.map(asPath) : find(join(root, "test"), ".test.ts");
const workerFiles = find(join(root, "test", "worker"), ".e2e.ts");

const env = { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
delete env.FORCE_COLOR; // Deno forces colour when FORCE_COLOR is set at all
delete env.NODE_TEST_CONTEXT; // when run from inside `node --test`, start fresh runners

// Runners live in their own process groups (see exec): pass an interrupt on to them.
const running = new Set();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const pid of running) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

/** Runs a command, echoing its output live, and resolves with code and captured text. */
function exec(command, argv) {
  return new Promise((resolve) => {
    const started = Date.now();
    // Its own process group, so a timeout can stop the runner's children too (test files, workerd).
    const child = spawn(command, argv, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    if (child.pid) running.add(child.pid);
    let text = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      text += chunk;
    });
    child.stderr.on("data", (chunk) => {
      process.stderr.write(chunk);
      text += chunk;
    });
    const timer = setTimeout(() => {
      const line = `\n[run] ${command} timed out after ${timeoutMs} ms; stopping it and its children\n`;
      process.stderr.write(line);
      text += line;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({
        code: -1,
        text: `${text}\n[run] cannot start ${command}: ${error.message}\n`,
        ms: Date.now() - started,
      });
    });
    child.on("close", (code, signal) => {
      running.delete(child.pid);
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), text, ms: Date.now() - started });
    });
  });
}

const last = (text, re) => {
  let match = null;
  for (const m of text.matchAll(re)) match = m;
  return match;
};

/** Node spec reporter: `ℹ pass N`, `ℹ fail N`, `ℹ cancelled N`. */
function parseNode(text) {
  const pass = last(text, /^ℹ pass (\d+)$/gm);
  const fail = last(text, /^ℹ fail (\d+)$/gm);
  const cancelled = last(text, /^ℹ cancelled (\d+)$/gm);
  if (!pass || !fail) return null;
  return { passed: +pass[1], failed: +fail[1] + (cancelled ? +cancelled[1] : 0) };
}

/** Bun: ` N pass`, ` N fail`, ` N error(s)`. */
function parseBun(text) {
  const pass = last(text, /^\s*(\d+) pass$/gm);
  const fail = last(text, /^\s*(\d+) fail$/gm);
  const errors = last(text, /^\s*(\d+) errors?$/gm);
  if (!pass && !fail) return null;
  return { passed: pass ? +pass[1] : 0, failed: (fail ? +fail[1] : 0) + (errors ? +errors[1] : 0) };
}

/** Deno: `ok | 3 passed (28 steps) | 0 failed | 0 ignored (1 step)`. */
function parseDeno(text) {
  const m = last(
    text,
    /^(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/gm,
  );
  if (!m) return null;
  return { passed: +m[1] + +(m[2] ?? 0), failed: +m[3] + +(m[4] ?? 0) };
}

const nodeTest = (files, extra = []) => [
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-reporter-destination=stdout", ...extra, ...files],
];

/** A check passes or fails as a whole, by exit code. */
const byExitCode = () => null;
const check = (command, argv) => ({ files: ["(check)"], cmd: [command, argv], parse: byExitCode, check: true });

const plans = {
  node: () => ({ files: unitFiles, cmd: nodeTest(unitFiles), parse: parseNode }),
  bun: () => ({ files: unitFiles, cmd: [bin("bun"), ["test", "--timeout", "120000", ...unitFiles]], parse: parseBun }),
  deno: () => ({ files: unitFiles, cmd: [bin("deno"), ["test", "-A", "--no-prompt", ...unitFiles]], parse: parseDeno }),
  // --test-force-exit: a workerd that failed to start must not keep the run waiting.
  worker: () => ({ files: workerFiles, cmd: nodeTest(workerFiles, ["--test-force-exit"]), parse: parseNode }),
  typecheck: () => check(bin("tsc"), ["-p", "."]),
  fmt: () => check(bin("deno"), ["fmt", "--check"]),
  lint: () => check(bin("deno"), ["lint"]),
  publint: () => check(bin("publint"), ["--strict"]),
  attw: () => check(bin("attw"), ["--pack"]),
  size: () => check(bin("size-limit"), []),
  // the packed tarball installed with production deps only, used on Node, Bun and Deno
  pack: () => check(process.execPath, [join(root, ".ci", "pack-smoke.mjs")]),
  // every benchmark section, a few rounds each: they keep working; figures are never judged here
  bench: () => check(process.execPath, [join(root, "test", "bench", "run.mjs"), "--quick"]),
};

const results = [];
for (const name of runners) {
  const plan = plans[name]();
  if (plan.files.length === 0) {
    console.log(`\n[run] ${name}: no test files`);
    results.push({ name, passed: 0, failed: 1, note: "no test files found", ms: 0 });
    continue;
  }
  console.log(
    `\n[run] ${name}: ${plan.cmd[0].startsWith(root) ? relative(root, plan.cmd[0]) : plan.cmd[0]} ${
      plan.cmd[1].join(" ")
    }\n`,
  );
  const { code, text, ms } = await exec(...plan.cmd);
  // deno-lint-ignore no-control-regex
  const counts = plan.parse(text.replace(/\x1b\[[0-9;]*m/g, ""));
  let note = "";
  let passed = counts?.passed ?? 0;
  let failed = counts?.failed ?? 0;
  if (plan.check) {
    passed = code === 0 ? 1 : 0;
    failed = code === 0 ? 0 : 1;
    note = code === 0 ? "check" : `check failed (exit ${code})`;
  } else if (!counts) {
    failed += 1;
    note = `no summary from the runner (exit ${code})`;
  } else if (code !== 0 && failed === 0) {
    failed = 1;
    note = `runner exited ${code} without reporting a failure`;
  }
  results.push({ name, passed, failed, note, ms });
}

console.log("\n[run] summary");
for (const r of results) {
  console.log(
    `[run]   ${r.name.padEnd(9)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed  ${
      (r.ms / 1000).toFixed(1)
    } s${r.note ? `  (${r.note})` : ""}`,
  );
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
