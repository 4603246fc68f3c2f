/**
 * A Deno program in another folder imports `mod.ts` by path with the package's deno.json as its
 * config (its `imports` map names the npm dependencies), and reads a secret from the stack on
 * 127.0.0.1. Runs a real Deno process from any of the three runtimes.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type LocalStack, startLocalStack } from "../../src/testing/mod.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");

describe("mod.ts imported from another folder by Deno", () => {
  let dir = "";
  let stack: LocalStack;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cerberus-edge-deno-import-"));
    stack = await startLocalStack();
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("resolves its dependencies through the package's imports map and reads a secret", async () => {
    const arn = stack.defaults!.roles.app.arn;
    await writeFile(
      join(dir, "main.ts"),
      [
        `import { createCerberusClient, kmsAuth } from ${JSON.stringify(join(root, "mod.ts"))};`,
        `const cerberus = createCerberusClient({`,
        `  url: Deno.env.get("CERBERUS_URL")!,`,
        `  auth: kmsAuth({ principalArn: ${JSON.stringify(arn)}, credentials: JSON.parse(Deno.env.get("CREDS")!) }),`,
        `});`,
        `console.log(JSON.stringify(await cerberus.readSecret(${JSON.stringify(stack.defaults!.secretPath)})));`,
      ].join("\n"),
    );
    const credentials = stack.seed.roleCredentials(arn);
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      DENO_DIR: process.env.DENO_DIR ?? "",
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      ...stack.env,
      CREDS: JSON.stringify({
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      }),
    };
    const args = [
      "run",
      "--no-prompt",
      "--config",
      join(root, "deno.json"),
      "--allow-net=127.0.0.1",
      "--allow-env",
      "main.ts",
    ];
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(deno, args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => (stdout += String(chunk)));
      child.stderr.on("data", (chunk) => (stderr += String(chunk)));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), stack.defaults!.secret);
  });
});
