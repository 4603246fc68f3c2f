/**
 * Peak memory and time of one read from a hostile server: a 500 MB body and a gzip bomb that
 * inflates to 3 GB (3072 members of 1 MiB, about 3 MB sent). Each read runs in a child process
 * (`hostile-read.ts`) whose peak resident set is read from `/proc/<pid>/status` (Linux).
 *
 *   node --import tsx test/bench/hostile-bodies.ts [library root …]
 *
 * With no argument it measures this tree; give another checkout's root (for instance a
 * worktree of an older commit) to measure it side by side.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { startHostileServer } from "./hostile-server.ts";

const roots = process.argv.slice(2).length ? process.argv.slice(2) : [fileURLToPath(new URL("../..", import.meta.url))];
const READER = fileURLToPath(new URL("./hostile-read.ts", import.meta.url));
const TSX = fileURLToPath(import.meta.resolve("tsx"));

/** Peak RSS of `pid` in MB so far, from VmHWM; undefined where /proc is not there. */
function peakMb(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function measure(root: string, url: string): Promise<{ ms: number; peak: number | undefined; outcome: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", TSX, READER, root, url], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let peak: number | undefined;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    const poll = setInterval(() => (peak = peakMb(child.pid!) ?? peak), 10);
    const limit = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearInterval(poll);
      clearTimeout(limit);
      const outcome = out.trim().split("\n").at(-1) ?? "";
      resolve({
        ms: performance.now() - started,
        peak,
        outcome: signal ? `killed by ${signal}` : code === 0 ? outcome : `exit ${code}: ${outcome}`,
      });
    });
  });
}

const server = await startHostileServer();
try {
  const baseline = await measure(roots[0]!, `${server.url}/missing`);
  console.log(
    `start-up and one 404, for reference: peak ${baseline.peak?.toFixed(0)} MB, ${baseline.ms.toFixed(0)} ms`,
  );
  for (const [name, mode] of [["500 MB body", "stream-500"], ["gzip bomb, 3 GB inflated", "gzipm-3072"]] as const) {
    for (const root of roots) {
      const { ms, peak, outcome } = await measure(root, `${server.url}/${mode}`);
      console.log(
        `${name.padEnd(26)} ${root.padEnd(20)} peak ${peak?.toFixed(0) ?? "n/a"} MB, ${
          (ms / 1000).toFixed(1)
        } s: ${outcome}`,
      );
    }
  }
} finally {
  await server.close();
}
