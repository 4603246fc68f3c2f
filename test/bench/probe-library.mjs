/**
 * The library's cold start as a program meets it: a fresh process imports `cerberus-edge`, reads
 * one secret and prints its data as JSON. Run by cold-start.mjs on Node, Bun and Deno.
 *
 * - `PROBE_AUTH`: `sts` (the `AWS_*` keys in the environment) or `kms` (instance metadata).
 * - `PROBE_SPECIFIER`: what to import (default `cerberus-edge`, the package's own name).
 * - `PROBE_TIMINGS=1`: at exit, also prints one line `probe-timings {…}`: ms since the process
 *   started (`process.uptime()`, which loads nothing, unlike `performance` on Node) at `boot`
 *   (this module's first line), `imported`, `created`, `authed` (the `auth.success` event),
 *   `read` (`readSecret` resolved), `printed` and `exit` (the process's `exit` event).
 *
 *   CERBERUS_URL=… AWS_REGION=… PROBE_AUTH=sts node test/bench/probe-library.mjs app/demo/config
 */
const now = () => process.uptime() * 1000;
const marks = { boot: now() };
const timings = process.env.PROBE_TIMINGS === "1";
const { createCerberusClient, kmsAuth, readSecret, stsAuth } = await import(
  process.env.PROBE_SPECIFIER || "cerberus-edge"
);
marks.imported = now();
const cerberus = createCerberusClient({
  url: process.env.CERBERUS_URL,
  auth: process.env.PROBE_AUTH === "kms" ? kmsAuth() : stsAuth(),
  onEvent: timings ? (event) => event.type === "auth.success" && (marks.authed = now()) : undefined,
});
marks.created = now();
const secret = await readSecret(cerberus, process.argv[2]);
marks.read = now();
console.log(JSON.stringify(secret));
marks.printed = now();
if (timings) {
  process.on("exit", () => {
    marks.exit = now();
    process.stdout.write(`probe-timings ${JSON.stringify(marks)}\n`);
  });
}
