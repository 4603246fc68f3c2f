/**
 * A burst on a cold client, side by side: 1,000 first reads of the same secret started at once
 * (`Promise.all`) on a client that has no token yet, with
 *
 * - ours, KMS auth (`kmsAuth()`, the app role named by `CERBERUS_PRINCIPAL_ARN`, its keys in
 *   `AWS_ACCESS_KEY_ID`/…);
 * - ours, STS auth (`stsAuth()`, the app role's keys in `AWS_ACCESS_KEY_ID`/…);
 * - the official `cerberus-node-client@4.0.0`, STS auth with the same keys.
 *
 * Each repetition is a fresh process (`worker-concurrency.mjs`): a cold client, no pooled socket.
 * The local stack answers from a process of its own on 127.0.0.1 and logs every request, so the
 * counts are the requests that reached it: authentications (`/v2/auth/…`, `/v1/auth/…`), KMS calls,
 * secret GETs. Repetitions are interleaved, the order rotated each time; rows give the median and
 * the minimum over repetitions, latencies of a read (from its call to its end) as p50 and p99 within
 * a repetition, and ratios of medians against the official client. Goal: exactly one
 * authentication per burst for ours, in every repetition.
 *
 *   npm run build && node test/bench/concurrency.mjs [--quick] [repetitions=5] [reads=1000]
 */
import { fileURLToPath } from "node:url";
import { median, root, runStandalone, runtimes, timedRow, timeProcess } from "./lib.mjs";
import { awsKeyEnv, startStackProcess } from "./stack-process.mjs";

const worker = `${root}test/bench/worker-concurrency.mjs`;
const label = { kms: "ours, KMS auth", sts: "ours, STS auth", official: "official client, STS" };

/**
 * Counts a repetition's requests, as the stack logged them.
 *
 * @param {import("./stack-process.mjs").LoggedRequest[]} log
 */
function count(log) {
  const counts = { auth: 0, authRefused: 0, kms: 0, sts: 0, imds: 0, secretGets: 0, other: 0 };
  for (const { service, method, path, status } of log) {
    if (service === "cerberus" && /^\/v[12]\/auth\//.test(path)) {
      counts.auth++;
      if (status < 200 || status > 299) counts.authRefused++;
    } else if (service === "cerberus" && method === "GET" && path.startsWith("/v1/secret/")) counts.secretGets++;
    else if (service === "kms") counts.kms++;
    else if (service === "sts") counts.sts++;
    else if (service === "imds") counts.imds++;
    else counts.other++;
  }
  return counts;
}

/**
 * @param {{ quick: boolean }} options
 * @returns {Promise<import("./lib.mjs").Section>}
 */
export async function measure({ quick }) {
  // Numbers on the command line only when run on its own (not from run.mjs).
  const standalone = process.argv[1] === fileURLToPath(import.meta.url);
  const numbers = standalone ? process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number) : [];
  const repetitions = numbers[0] ?? (quick ? 1 : 5);
  const reads = numbers[1] ?? 1000;
  const names = /** @type {const} */ (["kms", "sts", "official"]);
  /** @type {Record<string, any[]>} */
  const results = { kms: [], sts: [], official: [] };
  /** @type {any} */
  let discovery;
  const stack = await startStackProcess();
  try {
    const keys = awsKeyEnv(stack);
    const base = { PATH: process.env.PATH ?? "" };
    const envs = {
      kms: { ...stack.env, ...keys, CERBERUS_PRINCIPAL_ARN: stack.principalArn },
      sts: { ...stack.env, ...keys },
      official: { CERBERUS_URL: stack.env.CERBERUS_URL },
    };
    /** One repetition in a fresh process, and the requests that reached the stack meanwhile. */
    const once = async (/** @type {string} */ variant, env = envs[variant]) => {
      await stack.takeLog(); // forget anything before
      const input = { variant: variant === "discovery" ? "kms" : variant, env, path: stack.secretPath, reads };
      const { stdout } = timeProcess(runtimes.node, [worker], {
        env: { ...base, ...(variant === "official" ? keys : {}), BENCH_CONCURRENCY: JSON.stringify(input) },
        expect: '"wallMs"',
      });
      const result = { ...JSON.parse(stdout.trim().split("\n").at(-1)), ...count(await stack.takeLog()) };
      if (result.failed) throw new Error(`${variant}: ${result.failed} of ${reads} reads failed: ${result.firstError}`);
      return result;
    };
    for (let round = 0; round < repetitions; round++) {
      for (let i = 0; i < names.length; i++) {
        const variant = names[(i + round) % names.length];
        results[variant].push(await once(variant));
      }
    }
    // Once, for the notes: KMS auth that discovers the principal among the instance's two roles.
    if (!quick) discovery = await once("discovery", { ...stack.env });
  } finally {
    await stack.stop();
  }

  const rows = [];
  const of = (variant, field) => results[variant].map((r) => r[field]);
  for (const variant of names) {
    const name = label[variant];
    const auth = timedRow(`${name}: auth requests`, of(variant, "auth"), { unit: "requests" });
    if (variant !== "official") {
      auth.goal = "= 1";
      auth.met = of(variant, "auth").every((n) => n === 1);
    }
    rows.push(auth);
    if (variant === "kms") rows.push(timedRow(`${name}: KMS requests`, of(variant, "kms"), { unit: "requests" }));
    rows.push(timedRow(`${name}: secret GETs`, of(variant, "secretGets"), { unit: "requests" }));
    for (const [field, what] of [["p50Ms", "read p50"], ["p99Ms", "read p99"], ["wallMs", "wall time"]]) {
      rows.push(
        timedRow(`${name}: ${what}`, of(variant, field), {
          unit: "ms",
          ...(variant === "official" ? {} : { baseline: of("official", field), against: label.official }),
        }),
      );
    }
  }
  const notes = [
    `${repetitions} repetitions × ${reads} concurrent first reads per client, each a fresh Node ${process.version} process, order rotated; ratio = median over repetitions of ours / the official client in the same repetition`,
    ...names.map((variant) => {
      const max = (field) => Math.max(...of(variant, field));
      return `${label[variant]}: most in a repetition: ${max("auth")} auth (${max("authRefused")} refused), ${
        max("kms")
      } KMS, ${max("sts")} STS (Cerberus replaying the signature), ${max("imds")} instance metadata, ${
        max("secretGets")
      } secret GETs`;
    }),
  ];
  if (discovery) {
    notes.push(
      `ours, KMS auth discovering the principal (no CERBERUS_PRINCIPAL_ARN; the seeded instance has an unregistered role first, and a profile path): ${discovery.auth} auth requests (${discovery.authRefused} refused ARN candidates), ${discovery.kms} KMS, wall ${
        discovery.wallMs.toFixed(0)
      } ms`,
    );
  }
  return {
    id: "concurrency",
    title: `Burst on a cold client: ${reads} concurrent first reads (ours KMS, ours STS, official STS)`,
    command: "npm run build && node test/bench/concurrency.mjs",
    rows,
    notes,
    data: {
      repetitions: results,
      discovery,
      medianWallMs: Object.fromEntries(names.map((v) => [v, median(of(v, "wallMs"))])),
    },
  };
}

await runStandalone(import.meta.url, measure);
