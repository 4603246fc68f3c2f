#!/usr/bin/env node
/**
 * The published package, as a user gets it (run after `npm run build`):
 * `npm pack`, install the tarball with production dependencies only into a scratch project,
 * report tarball and install sizes, then, on Node (ESM and CJS), Bun and Deno: import
 * `cerberus-edge`, `cerberus-edge/core` and `cerberus-edge/testing`, start the local stack on
 * 127.0.0.1 and read its secret through the package; import the vendored file; run the CLI
 * (`npx cerberus-edge`) with nothing but environment configuration: `read` with a pasted token,
 * with STS auth from AWS keys (the default chain) and with KMS auth as on EC2, `exec`, and `demo`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);
const scratch = mkdtempSync(join(tmpdir(), "cerberus-edge-pack-"));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const env = {
  ...process.env,
  DENO_NO_UPDATE_CHECK: "1",
  NO_COLOR: "1",
  npm_config_fund: "false",
  npm_config_audit: "false",
};

function sizeOf(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}
const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

let failed = false;
try {
  const [packed] = JSON.parse(
    execFileSync(npm, ["pack", "--json", "--pack-destination", scratch], { cwd: root, env, encoding: "utf8" }),
  );
  const tarball = join(scratch, packed.filename);
  const app = join(scratch, "app");
  execFileSync("mkdir", ["-p", app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  execFileSync(npm, ["install", "--omit=dev", "--prefer-offline", "--no-package-lock", tarball], {
    cwd: app,
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const modules = join(app, "node_modules");
  const deps = readdirSync(modules).filter((n) => !n.startsWith("."))
    .flatMap((n) => (n.startsWith("@") ? readdirSync(join(modules, n)).map((m) => `${n}/${m}`) : [n]));
  console.log(
    `tarball ${packed.filename}: ${kB(statSync(tarball).size)} packed, ${
      kB(packed.unpackedSize)
    } unpacked, ${packed.entryCount} files`,
  );
  console.log(`install (--omit=dev): ${kB(sizeOf(modules))} in ${deps.length} packages`);
  for (const dep of deps.sort()) console.log(`  ${dep.padEnd(28)} ${kB(sizeOf(join(modules, dep)))}`);

  writeFileSync(
    join(app, "smoke.mjs"),
    `
import * as lib from "cerberus-edge";
import * as core from "cerberus-edge/core";
import { startLocalStack } from "cerberus-edge/testing";
import * as vendored from "./node_modules/cerberus-edge/dist/cerberus-edge.vendor.mjs";
const check = (ok, what) => { if (!ok) throw new Error("smoke: " + what); };
check(typeof core.createCerberusClient === "function" && typeof core.kmsAuth === "function", "core entry");
check(typeof vendored.createCerberusClient === "function" && vendored.VERSION === lib.VERSION, "vendored file");
const runtime = typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node";
const stack = await startLocalStack();
try {
  const arn = stack.defaults.roles.app.arn;
  for (const entry of [lib, vendored]) {
    const client = entry.createCerberusClient({
      url: stack.cerberus,
      auth: entry.kmsAuth({ principalArn: arn, credentials: stack.seed.roleCredentials(arn), region: "us-west-2", kmsEndpoint: stack.kms }),
    });
    const data = await entry.readSecret(client, stack.defaults.secretPath);
    check(data.greeting === "hello from the local stack", "secret read");
  }
  // A client from the package root works with the functions of cerberus-edge/core (one shared copy).
  const rooted = lib.createCerberusClient({
    url: stack.cerberus,
    auth: lib.kmsAuth({ principalArn: arn, credentials: stack.seed.roleCredentials(arn), region: "us-west-2", kmsEndpoint: stack.kms }),
  });
  check((await core.readKey(rooted, stack.defaults.secretPath, "greeting")) === "hello from the local stack", "root client, core function");
} finally {
  await stack.close();
}
console.log("smoke ok on " + runtime);
`,
  );
  writeFileSync(
    join(app, "smoke.cjs"),
    `
const lib = require("cerberus-edge");
const core = require("cerberus-edge/core");
const testing = require("cerberus-edge/testing");
if (typeof lib.createCerberusClient !== "function" || typeof core.createCerberusClient !== "function" || typeof testing.startLocalStack !== "function") throw new Error("smoke: CJS entries");
console.log("smoke ok on node (require)");
`,
  );
  writeFileSync(
    join(app, "cli-smoke.mjs"),
    `
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startLocalStack } from "cerberus-edge/testing";
import { createCerberusClient, kmsAuth, readSecret } from "cerberus-edge";
const stack = await startLocalStack();
const fail = (what, detail) => { throw new Error("cli smoke: " + what + "\\n" + detail); };
try {
  const seed = stack.defaults;
  const keys = stack.seed.roleCredentials(seed.roles.app.arn);
  // A token to paste, caught on its way to Cerberus (the library never hands one out).
  let token = "";
  await readSecret(createCerberusClient({
    url: stack.cerberus,
    auth: kmsAuth({ principalArn: seed.roles.app.arn, credentials: keys, region: "us-west-2", kmsEndpoint: stack.kms }),
    transport: (url, init) => { token ||= init.headers["X-Cerberus-Token"] ?? ""; return fetch(url, init); },
  }), seed.secretPath);
  const base = { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp", CERBERUS_URL: stack.cerberus };
  const hosts = {
    token: { ...base, CERBERUS_TOKEN: token },
    sts: {
      ...base,
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_SESSION_TOKEN: keys.sessionToken ?? "",
      AWS_REGION: "us-west-2",
      AWS_ENDPOINT_URL_STS: stack.env.AWS_ENDPOINT_URL_STS,
      AWS_EC2_METADATA_DISABLED: "true",
    },
    kms: { ...stack.env, ...base, CERBERUS_AUTH: "kms" },
  };
  // Asynchronous: the stack answers from this same process.
  const npx = async (args, env) =>
    (await promisify(execFile)("npx", ["--no-install", "cerberus-edge", ...args], { env, encoding: "utf8" })).stdout;
  for (const [host, env] of Object.entries(hosts)) {
    const out = await npx(["read", seed.secretPath], env);
    if (JSON.parse(out).greeting !== "hello from the local stack") fail("read with " + host, out);
    const who = JSON.parse(await npx(["whoami"], env));
    if (who.method !== host) fail("whoami with " + host, who.method);
  }
  const exec = await npx(["exec", "--path", seed.secretPath, "--", process.execPath, "-e", "console.log(process.env.greeting)"], hosts.kms);
  if (exec.trim() !== "hello from the local stack") fail("exec", exec);
  const demo = await npx(["demo"], base);
  if (!demo.includes("hello from the local stack")) fail("demo", demo);
} finally {
  await stack.close();
}
console.log("cli smoke ok: read (token, sts, kms), whoami, exec, demo");
`,
  );
  const runs = [
    [process.execPath, ["cli-smoke.mjs"]],
    [process.execPath, ["smoke.mjs"]],
    [process.execPath, ["smoke.cjs"]],
    [bin("bun"), ["smoke.mjs"]],
    [bin("deno"), ["run", "--no-prompt", "--allow-net=127.0.0.1", "--allow-env", "smoke.mjs"]],
    [join(modules, ".bin", "cerberus-edge"), ["--help"]],
  ];
  for (const [command, args] of runs) {
    const result = spawnSync(command, args, { cwd: app, env, encoding: "utf8", timeout: 120_000 });
    const label = `${command.split("/").pop()} ${args.join(" ")}`;
    if (result.status === 0) {
      console.log(`ok   ${label}: ${(result.stdout.trim().split("\n")[0] ?? "").slice(0, 80)}`);
    } else {
      failed = true;
      console.log(`FAIL ${label} (exit ${result.status})\n${result.stdout}\n${result.stderr}`);
    }
  }
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
