/**
 * Bounded resources against a hostile server on 127.0.0.1: the real CLI, in a child process
 * with a small JavaScript heap (64 MB on Node and Deno, `--smol` on Bun), reads from a "Cerberus"
 * whose body never ends, is huge, announces an absurd length, or is a gzip bomb. Each run ends
 * with one typed, one-line error and exit 1 — never an out-of-memory crash or a hang.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type HostileServer, startHostileServer } from "../bench/hostile-server.ts";
import { baseEnv, spawnCli } from "./_cli.ts";

let server: HostileServer;

before(async () => {
  server = await startHostileServer();
});
after(async () => {
  await server.close();
});

function readFrom(mode: string) {
  return spawnCli(["read", "app/demo/config"], {
    ...baseEnv(),
    CERBERUS_URL: `${server.url}/${mode}`,
    CERBERUS_TOKEN: "hostile-test-token",
    AWS_EC2_METADATA_DISABLED: "true",
  }, { smallHeap: true });
}

describe("hostile bodies, read by the CLI with a small heap", () => {
  const cases: [string, string, RegExp][] = [
    ["a body that never ends", "endless", /the answer is larger than the 8388608-byte limit/],
    ["a 500 MB body", "stream-500", /the answer is larger than the 8388608-byte limit/],
    ["a Content-Length of 100 GB", "length-102400", /the answer is larger than the 8388608-byte limit/],
    // Node's transport asks for identity and refuses an encoded answer; Bun's and Deno's fetch
    // inflate it as it comes, and the same reader stops at the limit.
    [
      "a gzip bomb (64 MB of zeros)",
      "gzip-64",
      /encoded \(gzip\) although identity was asked|larger than the 8388608-byte limit/,
    ],
    // Some decoders stop after the first member (1 MB of zeros): not JSON, but still one typed line.
    [
      "a gzip bomb of 1024 members (1 GB of zeros)",
      "gzipm-1024",
      /encoded \(gzip\) although identity was asked|larger than the 8388608-byte limit|not Cerberus JSON/,
    ],
  ];
  for (const [name, mode, message] of cases) {
    test(`${name}: exit 1, one typed line, no crash`, async () => {
      const out = await readFrom(mode);
      assert.equal(out.code, 1, out.stderr);
      assert.equal(out.stdout, "");
      assert.match(out.stderr, /^cerberus-edge: [^\n]+\n$/);
      assert.match(out.stderr, message);
      assert.ok(!out.stderr.includes("hostile-test-token"));
    });
  }
});
