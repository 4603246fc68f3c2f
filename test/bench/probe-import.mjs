/**
 * Imports `cerberus-edge` (or `PROBE_SPECIFIER`) and prints how long the import took in this
 * process, in ms (`process.hrtime`, which Node, Bun and Deno all have without loading anything).
 * Run by import-time.mjs on Node, Bun and Deno.
 *
 *   node test/bench/probe-import.mjs
 */
const start = process.hrtime.bigint();
await import(process.env.PROBE_SPECIFIER || "cerberus-edge");
const ms = Number(process.hrtime.bigint() - start) / 1e6; // before `process.stdout`, which Node builds on first use
process.stdout.write(`${ms}\n`);
