/**
 * The cache under load, side by side: 10,000 reads of 10 paths by 100 concurrent callers through
 * one client (the built package, KMS auth with a warm token), with `cache: true` and without.
 * Prints, for each, the requests that reached Cerberus (counted by the client's transport) and
 * the p50/p99 latency of a read, against the local stack in a process of its own on 127.0.0.1.
 *
 *   npm run build && node test/bench/cache-load.mjs [reads=10000] [callers=100]
 */
import { createCerberusClient, kmsAuth, readSecret } from "cerberus-edge";
import { startStackProcess } from "./stack-process.mjs";

const reads = Number(process.argv[2] ?? 10_000);
const callers = Number(process.argv[3] ?? 100);
const paths = Array.from({ length: 10 }, (_, i) => `app/demo/bench-${i}`);

const stack = await startStackProcess();
try {
  const results = {};
  for (const [name, cache] of [["without cache", undefined], ["cache: true", true]]) {
    let requests = 0;
    const client = createCerberusClient({
      url: stack.env.CERBERUS_URL,
      auth: kmsAuth(),
      env: { ...stack.env },
      cache,
      transport: (url, init) => {
        if (url.includes("/v1/secret/")) requests++;
        return fetch(url, init);
      },
    });
    await readSecret(client, stack.secretPath); // authenticate first: the figures are reads only
    client.cache?.clear();
    requests = 0;
    const latencies = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: callers }, async () => {
      while (next < reads) {
        const path = paths[next++ % paths.length];
        const t = performance.now();
        const data = await readSecret(client, path);
        latencies.push(performance.now() - t);
        if (!data.value?.startsWith("secret number")) throw new Error(`bad read of ${path}`);
      }
    }));
    const wall = performance.now() - started;
    latencies.sort((a, b) => a - b);
    const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    results[name] = { requests, p50: at(0.5), p99: at(0.99), wall };
    console.log(
      `${name.padEnd(14)} ${String(requests).padStart(6)} requests to Cerberus, read p50 ${
        at(0.5).toFixed(2)
      } ms, p99 ${at(0.99).toFixed(2)} ms, ${(reads / wall * 1000).toFixed(0)} reads/s`,
    );
  }
  const off = results["without cache"];
  const on = results["cache: true"];
  console.log(
    `ratio (cache / none): requests ${(on.requests / off.requests).toFixed(4)}, p50 ${
      (on.p50 / off.p50).toFixed(3)
    }, p99 ${
      (on.p99 / off.p99).toFixed(3)
    }  [${reads} reads of ${paths.length} paths by ${callers} callers, Node ${process.version}]`,
  );
} finally {
  await stack.stop();
}
