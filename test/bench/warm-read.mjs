/**
 * Warm read on Node, side by side: `readSecret(cerberus, path)` with a cached token (the built
 * package, as users run it) against a raw keep-alive `node:http` GET of the same secret that sends
 * the same request headers and reads and parses the body as JSON. Both talk to the local stack
 * on 127.0.0.1, which runs in a process of its own. Interleaved rounds, the order rotated each
 * round; prints per read the median and minimum wall time and the client process's CPU time, and
 * the ratio: the median over rounds of ours / raw within the round (both measured moments apart,
 * so a machine that slows down for a while slows both).
 *
 *   npm run build && node test/bench/warm-read.mjs [rounds=41] [readsPerRound=100]
 */
import http from "node:http";
import { createCerberusClient, kmsAuth, readSecret, VERSION } from "cerberus-edge";
import { startStackProcess } from "./stack-process.mjs";

const rounds = Number(process.argv[2] ?? 41);
const perRound = Number(process.argv[3] ?? 100);

const stack = await startStackProcess();
try {
  const path = stack.secretPath;
  const cerberus = createCerberusClient({ url: stack.env.CERBERUS_URL, auth: kmsAuth(), env: { ...stack.env } });
  await readSecret(cerberus, path);

  const agent = new http.Agent({ keepAlive: true, timeout: 4000, scheduling: "lifo" });
  const target = new URL(`${stack.env.CERBERUS_URL}/v1/secret/${path}`);
  const headers = {
    "X-Cerberus-Client": `cerberus-edge/${VERSION}`,
    Accept: "application/json",
    "X-Cerberus-Token": stack.token,
    "accept-encoding": "identity",
  };
  const raw = () =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, agent, headers },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")).data));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
  const runs = { "cerberus-edge readSecret": () => readSecret(cerberus, path), "raw node:http GET": raw };
  const names = Object.keys(runs);
  const times = Object.fromEntries(names.map((k) => [k, []]));
  const cpus = Object.fromEntries(names.map((k) => [k, []]));
  for (let i = 0; i < 300; i++) for (const run of Object.values(runs)) await run(); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const start = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      for (let i = 0; i < perRound; i++) await runs[name]();
      const used = process.cpuUsage(cpu);
      times[name].push(Number(process.hrtime.bigint() - start) / 1000 / perRound);
      cpus[name].push((used.user + used.system) / perRound);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const name of names) {
    console.log(
      `${name.padEnd(26)} median ${median(times[name]).toFixed(1)} µs/read, min ${
        Math.min(...times[name]).toFixed(1)
      } µs/read, client CPU ${median(cpus[name]).toFixed(1)} µs/read`,
    );
  }
  const [mine, floor] = names.map((name) => times[name]);
  const ratio = median(mine.map((t, i) => t / floor[i]));
  console.log(
    `ratio (median of per-round ratios): ${
      ratio.toFixed(2)
    }x  [${rounds} rounds x ${perRound} reads, order rotated each round, Node ${process.version}]`,
  );
  agent.destroy();
} finally {
  await stack.stop();
}
