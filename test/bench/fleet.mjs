/**
 * A fleet started together, with and without the token refresh jitter: 50 clients (quick: 10)
 * in one process (`fleet-run.mjs`), all started at the same instant, each reading a secret every
 * 200 ms for 20 s (quick: 8 s) with KMS auth through the stack's instance metadata, against a
 * local stack (in a process of its own, on 127.0.0.1) whose IAM tokens last 10 s (quick: 5 s).
 * From the stack's request log, per 1 s bucket from the start: the authentication requests
 * (Cerberus `POST …/auth/…`) and the KMS requests.
 *
 * The library refreshes a token at a random point between one and two refresh margins before it
 * expires (margin: a fifth of the lease, at most 5 minutes: 2 s of a 10 s lease, so between 6 and
 * 8 s after it was asked for). It has no option to turn that off, so each variant runs in a child
 * process of its own, and the one without jitter has `Math.random = () => 0.5` before it imports
 * the library (every token refreshed 1.5 margins before expiry; this also fixes the retry
 * back-off's jitter, which a fleet without errors does not use).
 *
 * Started together, every client authenticates at once in both variants (within a second, or
 * two on a busy machine): that burst is the same. The difference is in the refreshes, counted
 * from the earliest moment one can happen (lease − 2 margins after the start): without jitter,
 * each client refreshes 1.5 margins before its token expires, so the fleet stays as bunched as
 * its first burst, generation after generation; with it, each refresh lands anywhere in a 2 s
 * window, and the fleet spreads wider each generation.
 * The two variants run one after the other (against a stack each, both started first): run at
 * the same time, each slowed the other's first burst, which then spread over seconds. (Quick
 * runs, ten clients a side, run both at once.)
 *
 * Reads that fail are counted in the notes, with the first error. On a busy machine, 50 clients
 * asking one metadata service at once can wait longer than the client's 1 s metadata timeout; a
 * client whose discovery times out asks the metadata service once more (its own credentials came
 * through it, so this is EC2), and fails that authentication only when the second try times out
 * too; it authenticates again at its next read.
 *
 *   npm run build && node test/bench/fleet.mjs [--quick]
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pairedRows, runStandalone } from "./lib.mjs";
import { startStackProcess } from "./stack-process.mjs";

const RUNNER = fileURLToPath(new URL("./fleet-run.mjs", import.meta.url));

/** @typedef {{ clients: number, intervalMs: number, durationMs: number, ttlSeconds: number }} Fleet */

/** @param {number} leaseSeconds @returns {number} the refresh margin in ms, as `token-store.ts` computes it. */
const marginMs = (leaseSeconds) => Math.min(5 * 60_000, leaseSeconds * 200);

/**
 * @param {string} script
 * @param {string} argument
 * @returns {Promise<string>} the script's stdout
 */
const runNode = (script, argument) =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, argument],
      { env: { PATH: process.env.PATH ?? "" }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(new Error(`${script}: ${stderr || error.message}`)) : resolve(stdout)),
    );
  });

/**
 * Runs one fleet against a stack of its own and counts its requests per second.
 *
 * @param {Fleet} fleet
 * @param {boolean} jitter
 * @param {import("./stack-process.mjs").StackProcess} stack a stack for this fleet alone
 */
async function runFleet(fleet, jitter, stack) {
  await stack.takeLog();
  const stdout = await runNode(
    RUNNER,
    JSON.stringify({
      clients: fleet.clients,
      intervalMs: fleet.intervalMs,
      durationMs: fleet.durationMs,
      jitter,
      url: stack.env.CERBERUS_URL,
      env: stack.env,
      secretPath: stack.secretPath,
    }),
  );
  /** @type {{ startedAt: number, endedAt: number, reads: number, errors: Record<string, number>, messages: string[] }} */
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
  const log = await stack.takeLog();
  const seconds = Math.ceil((result.endedAt - result.startedAt) / 1000);
  const series = () => Array.from({ length: seconds }, () => 0);
  const counts = {
    auth: series(),
    kms: series(),
    imds: series(),
    reads: series(),
    refreshAuth: series(),
    refreshKms: series(),
  };
  const refreshFrom = fleet.ttlSeconds * 1000 - 2 * marginMs(fleet.ttlSeconds);
  for (const entry of log) {
    const sinceStart = entry.at - result.startedAt;
    const second = Math.min(seconds - 1, Math.max(0, Math.floor(sinceStart / 1000)));
    if (entry.service === "cerberus" && entry.method === "POST" && entry.path.includes("/auth/")) {
      counts.auth[second]++;
      if (sinceStart >= refreshFrom) counts.refreshAuth[second]++;
    } else if (entry.service === "kms") {
      counts.kms[second]++;
      if (sinceStart >= refreshFrom) counts.refreshKms[second]++;
    } else if (entry.service === "imds") counts.imds[second]++;
    else if (entry.service === "cerberus" && entry.method === "GET") counts.reads[second]++;
  }
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  return {
    reads: result.reads,
    errors: result.errors,
    errorMessages: result.messages,
    refreshFromMs: refreshFrom,
    series: counts,
    totals: {
      auth: sum(counts.auth),
      kms: sum(counts.kms),
      imds: sum(counts.imds),
      refreshAuth: sum(counts.refreshAuth),
    },
    peaks: {
      auth: Math.max(...counts.auth),
      startAuth: Math.max(...counts.auth.map((n, second) => n - counts.refreshAuth[second])),
      refreshAuth: Math.max(...counts.refreshAuth),
      refreshKms: Math.max(...counts.refreshKms),
      kms: Math.max(...counts.kms),
    },
    /** Seconds in which a refresh asked Cerberus for a token. */
    refreshSeconds: counts.refreshAuth.filter((n) => n > 0).length,
  };
}

/** @param {{ quick: boolean }} options @returns {Promise<import("./lib.mjs").Section>} */
export async function measure({ quick }) {
  /** @type {Fleet} */
  const fleet = quick
    ? { clients: 10, intervalMs: 200, durationMs: 8_000, ttlSeconds: 5 }
    : { clients: 50, intervalMs: 200, durationMs: 20_000, ttlSeconds: 10 };
  const stacks = await Promise.all([1, 2].map(() => startStackProcess({ iamTokenTtlSeconds: fleet.ttlSeconds })));
  let on, off;
  try {
    if (quick) {
      // Ten clients a side load the machine little: both at once.
      [on, off] = await Promise.all([runFleet(fleet, true, stacks[0]), runFleet(fleet, false, stacks[1])]);
    } else {
      on = await runFleet(fleet, true, stacks[0]);
      off = await runFleet(fleet, false, stacks[1]);
    }
  } finally {
    await Promise.all(stacks.map((stack) => stack.stop()));
  }
  /** @type {import("./lib.mjs").Row[]} */
  const rows = [
    ...pairedRows("peak auth requests/s, refreshes", "req/s", ["jitter", on.peaks.refreshAuth], [
      "no jitter",
      off.peaks.refreshAuth,
    ]),
    ...pairedRows("peak KMS requests/s, refreshes", "req/s", ["jitter", on.peaks.refreshKms], [
      "no jitter",
      off.peaks.refreshKms,
    ]),
    ...pairedRows("seconds with refreshes", "s", ["jitter", on.refreshSeconds], ["no jitter", off.refreshSeconds]),
    ...pairedRows("peak auth requests/s, start", "req/s", ["jitter", on.peaks.startAuth], [
      "no jitter",
      off.peaks.startAuth,
    ]),
    ...pairedRows("auth requests in all", "requests", ["jitter", on.totals.auth], ["no jitter", off.totals.auth]),
  ];
  const perAuth = (v) => (v.totals.kms ? (v.totals.auth / v.totals.kms).toFixed(1) : "–");
  const line = (name, v) =>
    `${name}: auth/s ${v.series.auth.join(" ")} | KMS/s ${v.series.kms.join(" ")} | ${v.reads} reads, ${
      Object.entries(v.errors).map(([e, n]) => `${n} ${e}`).join(", ") || "no errors"
    }`;
  return {
    id: "fleet",
    title: "A fleet started together: token refreshes with and without jitter",
    command: `npm run build && node test/bench/fleet.mjs${quick ? " --quick" : ""}`,
    rows,
    notes: [
      `${fleet.clients} clients in one process, started at once, a read each every ${fleet.intervalMs} ms for ${
        fleet.durationMs / 1000
      } s; IAM token lease ${fleet.ttlSeconds} s, refresh margin ${
        marginMs(fleet.ttlSeconds) / 1000
      } s; refreshes: from ${on.refreshFromMs / 1000} s on; 1 s buckets`,
      `an authentication here is ${
        perAuth(on)
      } Cerberus auth requests (the principals discovered from instance metadata, tried in turn) and 1 KMS Decrypt`,
      "no jitter: Math.random = () => 0.5 in the fleet's process (also fixes the retry back-off's jitter)",
      line("jitter", on),
      line("no jitter", off),
      ...(Math.abs(on.peaks.startAuth - off.peaks.startAuth) > 0.2 * Math.max(on.peaks.startAuth, off.peaks.startAuth)
        ? [
          "UNEQUAL STARTS: the first bursts' peaks differ by more than 20% (a busy machine spread one of them), so the refresh peaks compare less well: run again on a quiet machine",
        ]
        : []),
      ...[on, off].flatMap((v) => v.errorMessages.slice(0, 1)).map((m) =>
        `first error: ${m.replace(/\s+/g, " ").slice(0, 240)}`
      ),
    ],
    data: {
      bucketMs: 1000,
      ...fleet,
      refreshFromMs: on.refreshFromMs,
      jitter: on,
      noJitter: off,
    },
  };
}

await runStandalone(import.meta.url, measure);
