/**
 * A Deno program in another folder imports `mod.ts` by path with the package's deno.json as its
 * config (its `imports` map names the npm dependencies), and reads a secret from the stack on
 * 127.0.0.1. Runs a real Deno process from any of the three runtimes.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type LocalStack, startLocalStack } from "../../src/testing/mod.ts";
import { denoBaseEnv, runProcess } from "./_process.ts";

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
        `import { createCerberusClient, kmsAuth, readSecret } from ${JSON.stringify(join(root, "mod.ts"))};`,
        `const cerberus = createCerberusClient({`,
        `  url: Deno.env.get("CERBERUS_URL")!,`,
        `  auth: kmsAuth({ principalArn: ${JSON.stringify(arn)}, credentials: JSON.parse(Deno.env.get("CREDS")!) }),`,
        `});`,
        `console.log(JSON.stringify(await readSecret(cerberus, ${JSON.stringify(stack.defaults!.secretPath)})));`,
      ].join("\n"),
    );
    const credentials = stack.seed.roleCredentials(arn);
    const env = {
      ...denoBaseEnv(),
      ...stack.env,
      CREDS: JSON.stringify({
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      }),
    };
    const config = join(root, "deno.json");
    const args = ["run", "--no-prompt", "--config", config, "--allow-net=127.0.0.1", "--allow-env", "main.ts"];
    const result = await runProcess(deno, args, dir, env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), stack.defaults!.secret);
  });
});
