/**
 * Every command of the CLI in a child process (Node with tsx, Bun, Deno) against the local stack
 * on 127.0.0.1: results on stdout, exit codes, and no password, AWS secret key or unrequested
 * secret value in either stream.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalStack, startLocalStack } from "../../src/testing/mod.ts";
import { baseEnv, type ChildOutcome, spawnCli, type SpawnOptions } from "./_cli.ts";

/** Values no stream may show unless a command was asked to print them. */
const HOSTILE = {
  QUOTE: `it's "quoted"`,
  SUBST: "$(touch /tmp/cerberus-edge-pwned) `id` ${HOME}",
  LINES: "first line\nsecond line\r\n",
  BACKSLASH: "C:\\path\\to\\",
  UNICODE: "Grüße ✓ 秘密",
  EMPTY: "",
};

describe("cli commands in a child process, against the local stack", () => {
  let stack: LocalStack;
  let owner: Record<string, string>;
  let reader: Record<string, string>;
  let scratch: string;
  const streams: string[] = [];
  let forbidden: string[] = [];

  before(async () => {
    stack = await startLocalStack();
    const seed = stack.defaults!;
    // The owner group's user may write; the app role (KMS auth, as on EC2) may only read.
    owner = {
      ...baseEnv(),
      ...stack.env,
      CERBERUS_AUTH: "user",
      CERBERUS_USERNAME: seed.user.username,
      CERBERUS_PASSWORD: seed.user.password,
    };
    reader = { ...baseEnv(), ...stack.env, CERBERUS_AUTH: "kms" };
    forbidden = [seed.user.password, ...Object.values(stack.env).filter((v) => /secret/i.test(v))];
    scratch = mkdtempSync(join(tmpdir(), "cerberus-edge-cli-"));
  });

  after(async () => {
    for (const text of streams) {
      for (const secret of forbidden) assert.ok(!text.includes(secret), "a password or AWS key was printed");
    }
    rmSync(scratch, { recursive: true, force: true });
    await stack?.close();
  });

  async function cli(argv: string[], env = owner, options: SpawnOptions = {}): Promise<ChildOutcome> {
    const out = await spawnCli(argv, env, options);
    streams.push(out.stdout, out.stderr);
    if (out.code !== 0 && out.code !== 7) {
      assert.equal(out.stdout, "", `stdout carries only results: ${argv.join(" ")}`);
      // A failure is a line (an object with --json; nothing at all from completion).
      if (!argv.includes("--json") && argv[0] !== "__complete") {
        assert.match(out.stderr, /^cerberus-edge: \S[^\n]*\n/, out.stderr);
      }
    }
    return out;
  }

  test("write, read (json, --key, env, dotenv, shell), list, versions, delete", async () => {
    const written = await cli([
      "write",
      "app/demo/cli-secret",
      ...Object.entries(HOSTILE).map(([k, v]) => `${k}=${v}`),
    ]);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(written.stdout, "");

    const json = await cli(["read", "app/demo/cli-secret"]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), HOSTILE);

    const key = await cli(["read", "app/demo/cli-secret", "--key", "UNICODE"]);
    assert.equal(key.stdout, `${HOSTILE.UNICODE}\n`);

    // The shell format, evaluated by a real shell, gives back every value byte for byte.
    const shell = await cli(["read", "app/demo/cli-secret", "--format", "shell"]);
    assert.equal(shell.code, 0, shell.stderr);
    const names = Object.keys(HOSTILE);
    const script = `${shell.stdout}\nfor n in ${names.join(" ")}; do eval "printf '%s\\\\0' \\"\\$$n\\""; done`;
    const evaluated = spawnSync("/bin/sh", ["-c", script], { encoding: "utf8" });
    assert.equal(evaluated.status, 0, evaluated.stderr);
    assert.deepEqual(evaluated.stdout.split("\0").slice(0, -1), Object.values(HOSTILE));

    const dotenv = await cli(["read", "app/demo/cli-secret", "--format", "dotenv"]);
    assert.match(dotenv.stdout, /^SUBST="\\\$\(touch /m);
    assert.match(dotenv.stdout, /^LINES="first line\\nsecond line\\r\\n"$/m);

    // A value with a newline cannot be a raw env line: an error naming the key, not the value.
    const env = await cli(["read", "app/demo/cli-secret", "--format", "env"]);
    assert.equal(env.code, 2);
    assert.match(env.stderr, /LINES/);
    assert.ok(!env.stderr.includes("first line"));

    const keys = await cli(["write", "app/demo/cli-tree/a", "x=1"]);
    assert.equal(keys.code, 0, keys.stderr);
    await cli(["write", "app/demo/cli-tree/deep/b", "y=2"]);
    const list = await cli(["list", "app/demo/cli-tree"]);
    assert.deepEqual(list.stdout.split("\n").filter(Boolean).sort(), ["a", "deep/"]);
    const walked = await cli(["list", "-r", "app/demo/cli-tree"]);
    assert.deepEqual(walked.stdout.split("\n").filter(Boolean).sort(), [
      "app/demo/cli-tree/a",
      "app/demo/cli-tree/deep/b",
    ]);

    const versions = await cli(["versions", "app/demo/cli-secret"]);
    assert.equal(versions.code, 0, versions.stderr);
    const first = JSON.parse(versions.stdout.split("\n")[0]!) as { path: string; action: string };
    assert.equal(first.path, "app/demo/cli-secret");

    assert.equal((await cli(["delete", "app/demo/cli-secret"])).code, 0);
    const gone = await cli(["read", "app/demo/cli-secret"]);
    assert.equal(gone.code, 4, gone.stderr);
  });

  test("write --merge keeps other keys; without it the secret becomes the given keys; key=@file and --json", async () => {
    await cli(["write", "app/demo/cli-merge", "a=1", "b=2"]);
    await cli(["write", "app/demo/cli-merge", "--merge", "b=3", "c=4"]);
    assert.deepEqual(JSON.parse((await cli(["read", "app/demo/cli-merge"])).stdout), { a: "1", b: "3", c: "4" });
    await cli(["write", "app/demo/cli-merge", "only=5"]);
    assert.deepEqual(JSON.parse((await cli(["read", "app/demo/cli-merge"])).stdout), { only: "5" });

    const file = join(scratch, "value.txt");
    writeFileSync(file, "from a file\nwith two lines");
    await cli(["write", "app/demo/cli-merge", `pem=@${file}`]);
    assert.equal((await cli(["read", "app/demo/cli-merge", "--key", "pem"])).stdout, "from a file\nwith two lines\n");

    const fromStdin = await cli(["write", "app/demo/cli-merge", "--json", "-"], owner, {
      input: JSON.stringify({ j: "son", k: "v" }),
    });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.deepEqual(JSON.parse((await cli(["read", "app/demo/cli-merge"])).stdout), { j: "son", k: "v" });

    const notStrings = await cli(["write", "app/demo/cli-merge", "--json", "-"], owner, { input: '{"n": 1}' });
    assert.equal(notStrings.code, 2);
    assert.match(notStrings.stderr, /"n" is a number, not a string/);

    const missing = await cli(["write", "app/demo/cli-merge", `x=@${join(scratch, "nope")}`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file/);
  });

  test("the app role may read but not write: exit 1 (access denied), and a missing secret is 4", async () => {
    const read = await cli(["read", "app/demo/config"], reader);
    assert.equal(read.code, 0, read.stderr);
    const denied = await cli(["write", "app/demo/config", "x=y"], reader);
    assert.equal(denied.code, 1, denied.stderr);
    assert.equal((await cli(["read", "app/demo/no-such-secret"], reader)).code, 4);
  });

  test("file put, ls, get (stdout and -o, byte for byte), rm", async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) & 0xff);
    const local = join(scratch, "blob.bin");
    writeFileSync(local, bytes);
    const put = await cli(["file", "put", "app/demo/cli/blob.bin", local]);
    assert.equal(put.code, 0, put.stderr);
    const ls = await cli(["file", "ls", "app/demo"]);
    assert.ok(ls.stdout.split("\n").includes("app/demo/cli/blob.bin"), ls.stdout);
    const got = await cli(["file", "get", "app/demo/cli/blob.bin"]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(got.bytes, bytes);
    const saved = join(scratch, "saved.bin");
    assert.equal((await cli(["file", "get", "app/demo/cli/blob.bin", "-o", saved])).code, 0);
    assert.deepEqual(new Uint8Array(readFileSync(saved)), bytes);
    assert.equal(statSync(saved).mode & 0o777, 0o600, "a downloaded file is private");
    assert.equal((await cli(["file", "rm", "app/demo/cli/blob.bin"])).code, 0);
    assert.equal((await cli(["file", "get", "app/demo/cli/blob.bin"])).code, 4);
  });

  test("sdb create, get, update, ls, rm; categories and roles", async () => {
    const categories = JSON.parse((await cli(["categories"])).stdout) as { path: string }[];
    assert.ok(categories.some((c) => c.path.replace(/\/$/, "") === "app"));
    const roles = JSON.parse((await cli(["roles"])).stdout) as { name: string }[];
    assert.deepEqual(roles.map((r) => r.name).sort(), ["owner", "read", "write"]);

    const app = stack.defaults!.roles.app.arn;
    const created = await cli([
      "sdb",
      "create",
      "cli-box",
      "--category",
      "Applications",
      "--owner",
      "demo-owners",
      "--iam",
      `${app},read`,
      "--description",
      "made by the CLI test",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const sdb = JSON.parse(created.stdout) as { id: string; path: string; iamPrincipalPermissions: unknown[] };
    assert.equal(sdb.path, "app/cli-box/");
    assert.equal(sdb.iamPrincipalPermissions.length, 1);

    const byPath = JSON.parse((await cli(["sdb", "get", "app/cli-box"])).stdout) as { id: string };
    assert.equal(byPath.id, sdb.id);
    const updated = await cli(["sdb", "update", sdb.id, "--group", "demo-readers,read"]);
    assert.equal(updated.code, 0, updated.stderr);
    const after = JSON.parse(updated.stdout) as { description: string; userGroupPermissions: { name: string }[] };
    assert.equal(after.description, "made by the CLI test", "options not given keep their value");
    assert.deepEqual(after.userGroupPermissions.map((p) => p.name), ["demo-readers"]);
    const listed = JSON.parse((await cli(["sdb", "ls"])).stdout) as { path: string }[];
    assert.ok(listed.some((s) => s.path === "app/cli-box/"));

    const badRole = await cli(["sdb", "update", sdb.id, "--group", "demo-readers,admin"]);
    assert.equal(badRole.code, 4, badRole.stderr);
    assert.equal((await cli(["sdb", "rm", "app/cli-box"])).code, 0);
    assert.equal((await cli(["sdb", "get", sdb.id])).code, 4);
  });

  test("exec adds the secrets to the command's environment and exits with its code", async () => {
    await cli(["write", "app/demo/cli-exec", "db_user=app", `db_pass=${HOSTILE.SUBST}`]);
    const out = await cli([
      "exec",
      "--path",
      "app/demo/cli-exec",
      "--prefix",
      "app_",
      "--uppercase",
      "--",
      "/bin/sh",
      "-c",
      'printf "%s|%s|%s" "$APP_DB_USER" "$APP_DB_PASS" "$KEEP"; exit 7',
    ], { ...owner, KEEP: "kept", APP_DB_USER: "already set" });
    assert.equal(out.code, 7, out.stderr);
    assert.equal(out.stdout, `already set|${HOSTILE.SUBST}|kept`, "a variable already set keeps its value");
    const override = await cli([
      "exec",
      "--path",
      "app/demo/cli-exec",
      "--override",
      "--",
      "/bin/sh",
      "-c",
      'printf %s "$db_user"',
    ], {
      ...owner,
      db_user: "old",
    });
    assert.equal(override.stdout, "app");
    const missing = await cli(["exec", "--path", "app/demo/cli-exec", "--", "no-such-command-anywhere"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /command not found/);
  });

  test("whoami, --json errors, --timeout, and flags over the environment", async () => {
    const who = await cli(["whoami"], reader);
    assert.equal(who.code, 0, who.stderr);
    assert.equal((JSON.parse(who.stdout) as { method: string }).method, "kms");

    const missing = await cli(["read", "app/demo/nothing-here", "--json"], reader);
    assert.equal(missing.code, 4);
    const error = JSON.parse(missing.stderr) as { error: { code: string; step: string; exitCode: number } };
    assert.deepEqual([error.error.code, error.error.exitCode], ["NOT_FOUND", 4]);

    const usage = await cli(["frobnicate", "--json"]);
    assert.equal(usage.code, 2);
    assert.equal((JSON.parse(usage.stderr) as { error: { code: string } }).error.code, "INVALID_INPUT");

    // --url and --auth override CERBERUS_URL and CERBERUS_AUTH.
    const flags = await cli(["whoami", "--url", stack.cerberus, "--auth", "kms"], {
      ...reader,
      CERBERUS_URL: "http://127.0.0.1:9",
      CERBERUS_AUTH: "token",
    });
    assert.equal(flags.code, 0, flags.stderr);

    const slow = await cli(["whoami", "--timeout", "1ms"], reader);
    assert.equal(slow.code, 1);
    assert.match(slow.stderr, /did not finish within its --timeout of 1 ms/);
  });

  test("edit, file edit and login need a terminal: exit 2 without one", async () => {
    for (const argv of [["edit", "app/demo/config"], ["file", "edit", "app/demo/x.txt"], ["login"]]) {
      const out = await cli(argv);
      assert.equal(out.code, 2, `${argv.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr, /terminal/);
    }
  });

  test("completion prints a script for bash, zsh and fish", async () => {
    for (const shell of ["bash", "zsh", "fish"]) {
      const out = await cli(["completion", shell]);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /cerberus-edge/);
      assert.ok(out.stdout.includes("__complete"), `${shell} completes paths`);
    }
    const paths = await cli(["__complete", "secret-path", "app/demo/con"], reader);
    assert.equal(paths.stdout, "app/demo/config\n");
    const sdbs = await cli(["__complete", "secret-path", "ap"], reader);
    assert.equal(sdbs.stdout, "app/demo/\n");
    const quiet = await cli(["__complete", "secret-path", "app/demo/"], {
      ...reader,
      CERBERUS_URL: "http://127.0.0.1:9",
    });
    assert.deepEqual([quiet.stdout, quiet.stderr], ["", ""], "completion fails quietly");
  });
});
