/**
 * One fleet, for `fleet.mjs`: N clients (the built package, KMS auth through the stack's instance
 * metadata) started at the same instant in this process, each reading the seeded secret every
 * `intervalMs` (on ticks shared by all: `start + k × intervalMs`, a tick missed while a read is
 * still running is skipped) until `durationMs` has passed. Prints one JSON line: the start and
 * end (ms since the epoch), the reads made, the errors met (counted by name and code) and the
 * first three errors' messages.
 *
 * With `"jitter": false`, `Math.random` is `() => 0.5` in this process, set before the library
 * is imported: the library has no option to turn its jitter off. That fixes every random draw the
 * library makes: the point at which a token is refreshed (always 1.5 refresh margins before it
 * expires), and the retry back-off and the secret cache's ttl jitter (neither of which this fleet
 * should meet: no errors, no cache).
 *
 *   node test/bench/fleet-run.mjs '{"clients":50,"intervalMs":200,"durationMs":25000,"jitter":true,
 *     "url":"http://127.0.0.1:…","env":{…},"secretPath":"app/demo/config"}'
 */

/**
 * @typedef {object} FleetOptions
 * @property {number} clients
 * @property {number} intervalMs
 * @property {number} durationMs
 * @property {boolean} jitter
 * @property {string} url Cerberus
 * @property {Record<string, string>} env the stack's environment for a client
 * @property {string} secretPath
 */

/** @type {FleetOptions} */
const options = JSON.parse(process.argv[2] ?? "{}");
if (!options.jitter) Math.random = () => 0.5;
const { createCerberusClient, kmsAuth, readSecret } = await import("cerberus-edge");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const clients = Array.from(
  { length: options.clients },
  () => createCerberusClient({ url: options.url, auth: kmsAuth(), env: { ...options.env } }),
);
let reads = 0;
/** @type {Record<string, number>} */
const errors = {};
/** The first few errors' messages, with when they came (ms after the start). */
const messages = [];
const ticks = Math.floor(options.durationMs / options.intervalMs);
const startedAt = Date.now();
await Promise.all(clients.map(async (client) => {
  for (let k = 0; k < ticks; k++) {
    const wait = startedAt + k * options.intervalMs - Date.now();
    if (wait > 0) await sleep(wait);
    else if (wait <= -options.intervalMs) continue; // this tick went by during the last read
    try {
      await readSecret(client, options.secretPath);
      reads++;
    } catch (error) {
      const what = `${error?.name ?? "Error"}${error?.code ? ` ${error.code}` : ""}`;
      errors[what] = (errors[what] ?? 0) + 1;
      if (messages.length < 3) messages.push(`${Date.now() - startedAt} ms: ${String(error?.message).slice(0, 500)}`);
    }
  }
}));
// Exits once the line is out: the clients' idle keep-alive connections need not be waited for.
process.stdout.write(
  `${JSON.stringify({ startedAt, endedAt: Date.now(), reads, errors, messages })}\n`,
  () => process.exit(0),
);
