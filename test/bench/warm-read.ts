/**
 * Warm read on Node, side by side: `cerberus.readSecret()` with a cached token against a raw
 * keep-alive `node:http` GET of the same secret (same token, body read and parsed as JSON), both
 * against the local stack on 127.0.0.1, which runs in a process of its own. Interleaved rounds,
 * the order rotated each round; prints the median and minimum per read of each, and the ratio:
 * the median over rounds of ours / raw within the round (both measured seconds apart, so a
 * machine that slows down for a while slows both).
 *
 *   npm run build && node --import tsx test/bench/warm-read.ts [rounds=41] [readsPerRound=100]
 */
import http from "node:http";
// The built package, as users run it (`npm run build` first; `npm run bench` does).
import { createCerberusClient, kmsAuth } from "cerberus-edge";
import { startStackProcess } from "./stack-process.ts";

const rounds = Number(process.argv[2] ?? 41);
const perRound = Number(process.argv[3] ?? 100);

const stack = await startStackProcess();
try {
  const path = stack.secretPath;
  const token = stack.token;
  const cerberus = createCerberusClient({ url: stack.env.CERBERUS_URL!, auth: kmsAuth(), env: { ...stack.env } });
  await cerberus.readSecret(path);

  const agent = new http.Agent({ keepAlive: true, timeout: 4000 });
  const target = new URL(`${stack.env.CERBERUS_URL}/v1/secret/${path}`);
  const raw = () =>
    new Promise<unknown>((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          agent,
          headers: { "X-Cerberus-Token": token, Accept: "application/json" },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")).data));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
  const ours = () => cerberus.readSecret(path);

  const runs: Record<string, () => Promise<unknown>> = { "cerberus-edge readSecret": ours, "raw node:http GET": raw };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  const cpus: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (let i = 0; i < 200; i++) for (const run of Object.values(runs)) await run(); // warm-up
  const names = Object.keys(runs);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const start = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      for (let i = 0; i < perRound; i++) await runs[name]!();
      const used = process.cpuUsage(cpu);
      times[name]!.push(Number(process.hrtime.bigint() - start) / 1000 / perRound);
      cpus[name]!.push((used.user + used.system) / perRound);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const name of names) {
    console.log(
      `${name.padEnd(26)} median ${median(times[name]!).toFixed(1)} µs/read, min ${
        Math.min(...times[name]!).toFixed(1)
      } µs/read, client CPU ${median(cpus[name]!).toFixed(1)} µs/read`,
    );
  }
  const mine = times["cerberus-edge readSecret"]!;
  const floor = times["raw node:http GET"]!;
  const ratio = median(mine.map((t, i) => t / floor[i]!));
  console.log(
    `ratio (median of per-round ratios): ${
      ratio.toFixed(2)
    }x  [${rounds} rounds x ${perRound} reads, order rotated each round, Node ${process.version}]`,
  );
  agent.destroy();
} finally {
  await stack.stop();
}
