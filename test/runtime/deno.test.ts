/**
 * The Deno adapter in a real Deno process with narrow permissions (run from any of the three
 * runtimes): what it may not read counts as unset, and a client reads a secret from the stack on
 * 127.0.0.1 with --allow-net=127.0.0.1 and a scoped --allow-env only.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startLocalStack } from "../../src/testing/mod.ts";
import { denoBaseEnv, runProcess } from "./_process.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");

function run(args: string[], env: Record<string, string> = {}) {
  // Only what Deno needs to start: the permissions under test are what it is given on top.
  return runProcess(deno, args, root, { ...denoBaseEnv(), ...env });
}

describe("the Deno adapter in a real Deno process", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cerberus-edge-deno-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("without --allow-env and --allow-read: variables read as unset, a file read fails by name only", async () => {
    const script = join(dir, "no-permissions.ts");
    await writeFile(
      script,
      [
        `import { denoRuntime } from ${JSON.stringify(new URL("../../src/runtime/deno.ts", import.meta.url).href)};`,
        `import { readSettingFile } from ${
          JSON.stringify(new URL("../../src/internal/files.ts", import.meta.url).href)
        };`,
        `const rt = denoRuntime();`,
        `const raw = await rt.readTextFile("/etc/hostname").then(() => "read", (e) => e.name);`,
        `const setting = await readSettingFile(rt.readTextFile, "/etc/hostname", "TOKEN_FILE", "config").then(() => "read", (e) => e.code + " " + e.message);`,
        `console.log(JSON.stringify({ home: rt.env("HOME") ?? null, path: rt.env("PATH") ?? null, raw, setting }));`,
      ].join("\n"),
    );
    // `deno run` grants nothing by default (unlike `deno eval`): no env, no read.
    const { code, stdout, stderr } = await run([
      "run",
      "--no-check",
      "--no-prompt",
      `--config=${join(root, "deno.json")}`,
      script,
    ]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout.trim()) as {
      home: string | null;
      path: string | null;
      raw: string;
      setting: string;
    };
    assert.equal(result.home, null);
    assert.equal(result.path, null);
    assert.match(result.raw, /^(NotCapable|PermissionDenied)$/);
    assert.match(
      result.setting,
      /^INVALID_INPUT TOKEN_FILE: cannot read \/etc\/hostname: (NotCapable|PermissionDenied)$/,
    );
  });

  it("with only --allow-net=127.0.0.1 and a scoped --allow-env, a client reads a secret from the stack", async () => {
    const stack = await startLocalStack();
    try {
      const defaults = stack.defaults!;
      const credentials = stack.seed.roleCredentials(defaults.roles.app.arn);
      const env: Record<string, string> = {
        CERBERUS_URL: stack.cerberus,
        AWS_REGION: defaults.region,
        AWS_ENDPOINT_URL_KMS: stack.kms,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
      };
      const script = join(dir, "narrow.ts");
      await writeFile(
        script,
        [
          `import { createCerberusClient, kmsAuth, readSecret } from ${
            JSON.stringify(new URL("../../mod.ts", import.meta.url).href)
          };`,
          `import { detectRuntime } from ${
            JSON.stringify(new URL("../../src/runtime/detect.ts", import.meta.url).href)
          };`,
          `const cerberus = createCerberusClient({ url: Deno.env.get("CERBERUS_URL"), auth: kmsAuth({ principalArn: ${
            JSON.stringify(defaults.roles.app.arn)
          } }) });`,
          `const data = await readSecret(cerberus, ${JSON.stringify(defaults.secretPath)});`,
          `console.log(JSON.stringify({ runtime: detectRuntime().name, data }));`,
        ].join("\n"),
      );
      const { code, stdout, stderr } = await run(
        [
          "run",
          "--no-check",
          "--no-prompt",
          `--config=${join(root, "deno.json")}`,
          "--allow-net=127.0.0.1",
          `--allow-env=${Object.keys(env).join(",")}`,
          script,
        ],
        env,
      );
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout.trim()), { runtime: "deno", data: defaults.secret });
    } finally {
      await stack.close();
    }
  });
});
