/**
 * Two builds of the library side by side, for a change's before and after: the import time
 * (timed inside a fresh Node process), the cold start to the first secret (a fresh Node process
 * that imports the build's `mod.js`, authenticates with STS and reads the local stack's secret),
 * and the warm read (both builds in this process, each with a cached token, blocks of 100 reads),
 * in interleaved rounds, the order alternating. Prints the medians and the median of the
 * per-round ratios (B / A).
 *
 * Each argument is a `dist/` folder whose parent can resolve the dependencies (a `node_modules`
 * beside it). To compare a commit with the working tree:
 *
 *   git worktree add /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/node_modules
 *   (cd /tmp/before && npm run build) && npm run build
 *   node test/bench/compare-builds.mjs /tmp/before/dist dist [rounds=21]
 *   git worktree remove --force /tmp/before
 */
import { resolve } from "node:path";
import { median, timeProcess } from "./lib.mjs";
import { awsKeyEnv, startStackProcess } from "./stack-process.mjs";

const [a, b, roundsArg] = process.argv.slice(2);
if (!a || !b) {
  console.error("usage: node test/bench/compare-builds.mjs <dist A> <dist B> [rounds=21]");
  process.exit(2);
}
const builds = { A: resolve(a, "mod.js"), B: resolve(b, "mod.js") };
const rounds = Number(roundsArg ?? 21);

const stack = await startStackProcess();
try {
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...stack.env, ...awsKeyEnv(stack) };
  const importOnly = (file) =>
    `const t = process.hrtime.bigint(); await import(${
      JSON.stringify(file)
    }); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const firstSecret = (file) =>
    `const m = await import(${JSON.stringify(file)});
     const client = m.createCerberusClient({ url: process.env.CERBERUS_URL, auth: m.stsAuth() });
     console.log(JSON.stringify(await m.readSecret(client, ${JSON.stringify(stack.secretPath)})));`;
  const figures = { import: { A: [], B: [] }, cold: { A: [], B: [] } };
  for (let round = -1; round < rounds; round++) {
    for (const name of round % 2 === 0 ? ["A", "B"] : ["B", "A"]) {
      const imported = timeProcess(process.execPath, ["--input-type=module", "-e", importOnly(builds[name])], { env });
      const cold = timeProcess(process.execPath, ["--input-type=module", "-e", firstSecret(builds[name])], {
        env,
        expect: "hello from the local stack",
      });
      if (round < 0) continue; // one warm-up round
      figures.import[name].push(Number(imported.stdout));
      figures.cold[name].push(cold.ms);
    }
  }
  // Warm reads, µs per read: both builds here, with a cached token, after a warm-up.
  const readers = {};
  for (const name of ["A", "B"]) {
    const m = await import(builds[name]);
    const client = m.createCerberusClient({ url: stack.env.CERBERUS_URL, auth: m.kmsAuth(), env: { ...stack.env } });
    readers[name] = () => m.readSecret(client, stack.secretPath);
  }
  for (let i = 0; i < 2000; i++) for (const read of Object.values(readers)) await read();
  figures.warm = { A: [], B: [] };
  for (let round = 0; round < rounds * 2; round++) {
    for (const name of round % 2 === 0 ? ["A", "B"] : ["B", "A"]) {
      const start = performance.now();
      for (let i = 0; i < 100; i++) await readers[name]();
      figures.warm[name].push((performance.now() - start) * 10); // µs per read
    }
  }
  const labels = { import: ["import, in-process", "ms"], cold: ["cold start, STS", "ms"], warm: ["warm read", "µs"] };
  for (const [what, { A, B }] of Object.entries(figures)) {
    const [label, unit] = labels[what];
    const perRound = median(B.map((x, i) => x / A[i]));
    console.log(
      `${label}: A ${median(A).toFixed(1)} ${unit}, B ${median(B).toFixed(1)} ${unit}; B/A ${
        perRound.toFixed(3)
      } (median of per-round ratios)`,
    );
  }
  console.log(`[A ${builds.A}, B ${builds.B}; ${rounds} rounds, order alternating, Node ${process.version}]`);
} finally {
  await stack.stop();
}
