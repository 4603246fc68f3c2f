/**
 * src/aws/credentials.ts: credentials checked where they enter, then sealed so that no log shows
 * them (console, inspect, JSON, String), and the five-minute expiry rule.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { format, inspect } from "node:util";
import { type AwsCredentials, credentialsExpiring, sealCredentials } from "../../src/aws/credentials.ts";
import { InvalidInputError } from "../../src/errors.ts";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN0123456789";
const KEY_ID = "ASIAEXAMPLEKEYID0001";
const raw = (): AwsCredentials => ({
  accessKeyId: KEY_ID,
  secretAccessKey: SECRET,
  sessionToken: TOKEN,
  expiration: new Date(Date.UTC(2026, 10, 29, 18)),
});

const g = globalThis as { Deno?: { inspect(v: unknown): string }; Bun?: { inspect(v: unknown): string } };

/** Asserts that a rendering shows neither the secret key, nor the token, nor the whole key id. */
function assertHidden(shown: string, how: string): void {
  assert.ok(!shown.includes(SECRET), `${how} shows the secret key: ${shown}`);
  assert.ok(!shown.includes(TOKEN), `${how} shows the session token: ${shown}`);
  assert.ok(!shown.includes(KEY_ID), `${how} shows the whole access key id: ${shown}`);
}

describe("sealCredentials: what is readable", () => {
  it("keeps every value readable as a property, extra fields included", () => {
    const sealed = sealCredentials({ ...raw(), roleArn: "arn:aws:iam::111122223333:role/task" }, "credentials");
    assert.equal(sealed.accessKeyId, KEY_ID);
    assert.equal(sealed.secretAccessKey, SECRET);
    assert.equal(sealed.sessionToken, TOKEN);
    assert.equal(sealed.expiration?.toISOString(), "2026-11-29T18:00:00.000Z");
    assert.equal(sealed.roleArn, "arn:aws:iam::111122223333:role/task");
  });

  it("is frozen, and sealing it again returns it as it is", () => {
    const sealed = sealCredentials(raw(), "credentials");
    assert.ok(Object.isFrozen(sealed));
    assert.throws(() => {
      (sealed as { secretAccessKey: string }).secretAccessKey = "changed";
    }, TypeError);
    assert.equal(sealCredentials(sealed, "again"), sealed);
  });

  it("does not keep the caller's object: changing it later changes nothing", () => {
    const input = { accessKeyId: KEY_ID, secretAccessKey: SECRET };
    const sealed = sealCredentials(input, "credentials");
    input.secretAccessKey = "changed";
    assert.equal(sealed.secretAccessKey, SECRET);
  });
});

describe("sealCredentials: what is shown", () => {
  const sealed = sealCredentials(raw(), "credentials");

  it("JSON.stringify shows four characters of the key id and [redacted], alone or nested", () => {
    assert.deepEqual(JSON.parse(JSON.stringify(sealed)), {
      accessKeyId: "ASIA…",
      secretAccessKey: "[redacted]",
      sessionToken: "[redacted]",
      expiration: "2026-11-29T18:00:00.000Z",
    });
    assertHidden(JSON.stringify({ nested: [sealed] }), "JSON.stringify");
  });

  it("String() and template literals show [AwsCredentials]", () => {
    assert.equal(String(sealed), "[AwsCredentials]");
    assert.equal(`${sealed}`, "[AwsCredentials]");
    assert.equal("" + sealed, "[AwsCredentials]");
  });

  it("util.inspect and util.format (%o %O %s %j) redact, alone and nested", () => {
    for (
      const [how, shown] of [
        ["inspect", inspect(sealed)],
        ["inspect nested", inspect({ a: { b: [new Map([["k", sealed]])] } }, { depth: 10 })],
        ["inspect showHidden", inspect(sealed, { showHidden: true })],
        ["format", format("%o %O %s %j", sealed, sealed, sealed, sealed)],
      ] as const
    ) {
      assertHidden(shown, how);
      assert.match(shown, /\[redacted\]|\[AwsCredentials\]/, how);
    }
    assert.match(inspect(sealed), /accessKeyId: '(ASIA…)'/);
  });

  it("the runtime's own inspector (what its console.log uses: Deno.inspect, Bun.inspect, util.inspect) redacts", () => {
    const shown = g.Deno ? g.Deno.inspect(sealed) : g.Bun ? g.Bun.inspect(sealed) : inspect(sealed);
    assertHidden(shown, "native inspect");
    assert.match(shown, /\[redacted\]/);
  });

  it("enumeration shows nothing: Object.keys, entries, spread", () => {
    assert.deepEqual(Object.keys(sealed), []);
    assert.deepEqual(Object.entries(sealed), []);
    assert.deepEqual({ ...sealed }, {});
    assertHidden(JSON.stringify(Object.assign({}, sealed)), "Object.assign");
  });

  it("console.log and console.error of this runtime, in a child process, redact", async () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const dir = await mkdtemp(join(tmpdir(), "cerberus-edge-seal-"));
    try {
      const script = join(dir, "log.mts");
      await writeFile(
        script,
        [
          `import { sealCredentials } from ${
            JSON.stringify(new URL("../../src/aws/credentials.ts", import.meta.url).href)
          };`,
          `const c = sealCredentials(${
            JSON.stringify({ accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: TOKEN })
          }, "c");`,
          `console.log(c); console.log({ c }); console.log("%o", c); console.log([c]); console.error(c); console.log(String(c));`,
        ].join("\n"),
      );
      const runtime = g.Deno ? ["run", "-A", "--no-check", script] : g.Bun ? [script] : ["--import", "tsx", script];
      const { code, out } = await run(process.execPath, runtime, root);
      assert.equal(code, 0, out);
      assertHidden(out, "console");
      assert.match(out, /\[redacted\]/);
      assert.match(out, /\[AwsCredentials\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("sealCredentials: checks", () => {
  const refusal = (input: unknown): InvalidInputError => {
    try {
      sealCredentials(input as AwsCredentials, "kmsAuth.credentials", "config");
    } catch (error) {
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.equal(error.step, "config");
      const shown = JSON.stringify({ message: error.message, field: error.field });
      assert.ok(!shown.includes(SECRET) && !shown.includes("tok3n"), shown);
      return error;
    }
    assert.fail(`accepted ${JSON.stringify(input)}`);
  };

  it("refuses what is not an object", () => {
    for (const bad of [null, undefined, "AKIA", 42]) assert.equal(refusal(bad).field, "kmsAuth.credentials");
  });

  it("refuses a key id that is not visible ASCII, naming the field", () => {
    for (const accessKeyId of ["", " ", "AKIA KEY", "AKIA\r\nX: y", "ÄKIA", 42, undefined]) {
      assert.equal(refusal({ accessKeyId, secretAccessKey: SECRET }).field, "kmsAuth.credentials.accessKeyId");
    }
  });

  it("refuses an empty or missing secret key", () => {
    for (const secretAccessKey of ["", undefined, 42]) {
      assert.equal(refusal({ accessKeyId: KEY_ID, secretAccessKey }).field, "kmsAuth.credentials.secretAccessKey");
    }
  });

  it("refuses a session token a header cannot carry, without echoing it", () => {
    for (const sessionToken of ["tok3n\r\nX-Injected: 1", "tok3n with spaces", "", 42]) {
      assert.equal(
        refusal({ accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken }).field,
        "kmsAuth.credentials.sessionToken",
      );
    }
  });

  it("refuses an expiration that is not a valid Date", () => {
    for (const expiration of ["2026-11-29T18:00:00Z", new Date(Number.NaN), 0]) {
      assert.equal(
        refusal({ accessKeyId: KEY_ID, secretAccessKey: SECRET, expiration }).field,
        "kmsAuth.credentials.expiration",
      );
    }
  });

  it("the step defaults to credentials", () => {
    assert.throws(
      () => sealCredentials({} as AwsCredentials, "x"),
      (e: unknown) => e instanceof InvalidInputError && e.step === "credentials",
    );
  });
});

describe("credentialsExpiring", () => {
  const now = Date.UTC(2026, 10, 29, 12);
  it("is true from five minutes before the expiration", () => {
    const at = (ms: number) => ({ accessKeyId: KEY_ID, secretAccessKey: SECRET, expiration: new Date(now + ms) });
    assert.equal(credentialsExpiring(at(5 * 60_000 + 1), now), false);
    assert.equal(credentialsExpiring(at(5 * 60_000), now), true);
    assert.equal(credentialsExpiring(at(0), now), true);
    assert.equal(credentialsExpiring(at(-1), now), true);
  });

  it("credentials without an expiration never expire", () => {
    assert.equal(credentialsExpiring({ accessKeyId: KEY_ID, secretAccessKey: SECRET }, now), false);
  });
});

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", NODE_TEST_CONTEXT: undefined },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => (out += String(chunk)));
    child.stderr.on("data", (chunk) => (out += String(chunk)));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}
