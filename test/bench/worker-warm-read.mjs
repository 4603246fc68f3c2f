/**
 * The child of `warm-read.mjs`, run by Node or by Bun: times warm reads of the stack's seeded
 * secret in two (or three) of these ways, `ways`, in interleaved rounds (every order in turn), and
 * prints one JSON line: `{ runtime, version, rounds, perRound, times: { way: µs per read, per
 * round }, cpu: { way: client CPU µs per read, per round } }`.
 *
 * - `ours`: `readSecret(client, path)` from the built package, with a cached token (KMS auth; the
 *   token is fetched during the warm-up);
 * - `http`: a raw keep-alive `node:http` GET of the same URL with the same request headers, the
 *   body read and parsed as JSON;
 * - `fetch`: the runtime's raw `fetch` of the same URL with the same headers, `await res.json()`.
 *
 * Its input comes in the environment variable `BENCH_WARM_READ` (JSON: `env` of the stack, `path`,
 * `token`, `ways`, `rounds`, `perRound`, `warmup`), so that no token appears in a command line.
 *
 *   (started by) node test/bench/warm-read.mjs
 */
import http from "node:http";
import { createCerberusClient, kmsAuth, readSecret, VERSION } from "cerberus-edge";

const input = JSON.parse(process.env.BENCH_WARM_READ ?? "null");
if (!input) throw new Error("worker-warm-read.mjs is started by warm-read.mjs (BENCH_WARM_READ is not set)");
const { env, path, token, ways, rounds, perRound, warmup } = input;

const runtime = typeof globalThis.Bun !== "undefined" ? "bun" : "node";
const version = runtime === "bun" ? globalThis.Bun.version : process.versions.node;

const cerberus = createCerberusClient({ url: env.CERBERUS_URL, auth: kmsAuth(), env: { ...env } });
const url = `${env.CERBERUS_URL}/v1/secret/${path}`;
const target = new URL(url);
// The headers our Node transport sends on a warm read.
const headers = {
  "X-Cerberus-Client": `cerberus-edge/${VERSION}`,
  Accept: "application/json",
  "X-Cerberus-Token": token,
  "accept-encoding": "identity",
};
const agent = new http.Agent({ keepAlive: true, timeout: 4000, scheduling: "lifo" });
const options = { host: target.hostname, port: target.port, path: target.pathname, agent, headers };

const viaHttp = () =>
  new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        if (res.statusCode !== 200) reject(new Error(`raw node:http GET: status ${res.statusCode}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")).data);
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });

const viaFetch = async () => {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`raw fetch: status ${res.status}`);
  return (await res.json()).data;
};

/** @type {Record<string, () => Promise<unknown>>} */
const all = { ours: () => readSecret(cerberus, path), http: viaHttp, fetch: viaFetch };
const reads = Object.fromEntries(ways.map((way) => [way, all[way]]));

// The ways read the same secret (only these ways run here: no other code warms up or leaves garbage).
const first = await Promise.all(Object.values(reads).map((read) => read()));
if (first.some((data) => JSON.stringify(data) !== JSON.stringify(first[0])) || !first[0]) {
  throw new Error(`${ways.join(", ")}: the ways read different data`);
}
for (let i = 0; i < warmup; i++) for (const read of Object.values(reads)) await read();

const names = Object.keys(reads);
const times = Object.fromEntries(names.map((name) => [name, []]));
const cpu = Object.fromEntries(names.map((name) => [name, []]));
/** One block of `perRound` sequential reads: µs per read, wall and client CPU. */
const block = async (name) => {
  const read = reads[name];
  const used = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < perRound; i++) await read();
  const us = (performance.now() - start) * 1000 / perRound;
  const spent = process.cpuUsage(used);
  return { us, cpu: (spent.user + spent.system) / perRound };
};
for (const name of names) await block(name); // one untimed block of each
// Every order in turn (rotations, then the reversed rotations), so that each way follows each
// other way equally often: the garbage one leaves is collected during the next.
for (let round = 0; round < rounds; round++) {
  const rotated = names.map((_, i) => names[(i + round) % names.length]);
  const order = Math.floor(round / names.length) % 2 === 1 ? rotated.reverse() : rotated;
  for (const name of order) {
    const figures = await block(name);
    times[name].push(figures.us);
    cpu[name].push(figures.cpu);
  }
}
agent.destroy();
process.stdout.write(`${JSON.stringify({ runtime, version, rounds, perRound, times, cpu })}\n`);
