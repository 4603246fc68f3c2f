/** `npm run demo` (the main job) prints the whole KMS sequence and the secret, and exits 0. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";

const demo = new URL("../src/testing/demo.ts", import.meta.url).pathname;
const g = globalThis as { Deno?: unknown; Bun?: unknown };
const argv = g.Deno ? ["run", "-A", demo] : g.Bun ? [demo] : ["--import", "tsx", demo];

function run(): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { env: { PATH: process.env.PATH ?? "", DENO_NO_UPDATE_CHECK: "1" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

test("the demo runs the KMS sequence on the local stack and prints the secret", async () => {
  const { code, out, err } = await run();
  assert.equal(code, 0, err);
  const steps = [
    /account ID 111122223333/,
    /roles found: base-role, app-role/,
    /KMS region us-west-2/,
    /trying arn:aws:iam::111122223333:role\/team-a\/base-role in us-west-2/,
    /failed: Cerberus HTTP 400: 99216/,
    /trying arn:aws:iam::111122223333:role\/app-role in us-west-2/,
    /encrypted auth payload received/,
    /KMS Decrypt succeeded/,
    /authenticated as arn:aws:iam::111122223333:role\/app-role; token \[redacted\].*expires \d{4}-/,
    /"greeting": "hello from the local stack"/,
  ];
  let at = 0;
  for (const step of steps) {
    const found = out.slice(at).search(step);
    assert.ok(found >= 0, `missing, or out of order: ${step}\n${out}`);
    at += found;
  }
  assert.match(
    out,
    /Local stack on loopback: Cerberus http:\/\/127\.0\.0\.1:\d+, KMS http:\/\/127\.0\.0\.1:\d+, IMDS http:\/\/127\.0\.0\.1:\d+/,
  );
});
