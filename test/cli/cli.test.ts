/**
 * The command line: `run()` with a fake client (every command, exit code and usage error), then
 * the real CLI in a child process against the local stack. Runs under `node --import tsx --test`,
 * `bun test` and `deno test -A`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { CerberusToken, type TokenInfo } from "../../src/auth/token.ts";
import { type CerberusClient, type CerberusClientOptions, createCerberusClient } from "../../src/client/client.ts";
import { readConfig } from "../../src/cli/config.ts";
import { COMMANDS } from "../../src/cli/commands.ts";
import { commandHelp } from "../../src/cli/help.ts";
import { type CliIo, ExitCode, formatEvent, parseArgs, run, USAGE } from "../../src/cli/run.ts";
import {
  AuthenticationError,
  AwsError,
  CerberusApiError,
  CerberusEdgeError,
  InvalidInputError,
  TransportError,
  UnexpectedAnswerError,
} from "../../src/errors.ts";
import type { CerberusEvent } from "../../src/events.ts";
import { type LocalStack, startLocalStack } from "../../src/testing/mod.ts";
import { VERSION } from "../../src/version.ts";
import { baseEnv, type ChildOutcome, cliCommand, ROOT, spawnCli } from "./_cli.ts";

// ---------------------------------------------------------------------------------------------
// Unit tests of run() with a fake client
// ---------------------------------------------------------------------------------------------

const FAKE_TOKEN = "fake-token-0b7c2d9e-never-print-me";
const BASE_ENV: Record<string, string> = { CERBERUS_URL: "https://cerberus.example.com" };

const INFO: TokenInfo = {
  method: "kms",
  principal: "arn:aws:iam::111122223333:role/team-a/app-role",
  region: "us-west-2",
  policies: ["app-demo-read"],
  metadata: { username: "arn:aws:iam::111122223333:role/team-a/app-role", is_admin: "false" },
  leaseDurationSeconds: 3600,
  issuedAt: new Date("2026-11-29T12:00:00.000Z"),
  expiresAt: new Date("2026-11-29T13:00:00.000Z"),
  renewable: false,
};

const SECRETS: Record<string, Record<string, string>> = {
  "app/demo/config": { greeting: "hello", port: "8080", empty: "" },
};

/** Behaviour of the fake client: `fail` makes authentication, hence every command, reject with it. */
interface FakeBehaviour {
  fail?: unknown;
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  created: CerberusClientOptions[];
}

const json = (status: number, body?: unknown) =>
  Promise.resolve(
    new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    }),
  );

/** A real client on a fake Cerberus that serves {@link SECRETS} and the listing of `app/demo/`. */
function fakeClient(options: CerberusClientOptions, behaviour: FakeBehaviour = {}): CerberusClient {
  const token = new CerberusToken(FAKE_TOKEN, INFO);
  return createCerberusClient({
    ...options,
    url: "https://cerberus.example.com",
    clock: { now: () => INFO.issuedAt.getTime(), setTimer: () => () => {} },
    auth: {
      method: "kms",
      authenticate: () => ("fail" in behaviour ? Promise.reject(behaviour.fail) : Promise.resolve(token)),
    },
    transport: (url) => {
      const { pathname, search } = new URL(url);
      const path = pathname.replace("/v1/secret/", "");
      if (search === "?list=true") {
        return path.replace(/\/?$/, "/") === "app/demo/"
          ? json(200, { data: { keys: ["config", "sub/"] } })
          : json(404);
      }
      return SECRETS[path] ? json(200, { data: SECRETS[path] }) : json(404);
    },
  });
}

async function cli(
  argv: string[],
  options: { env?: Record<string, string>; behaviour?: FakeBehaviour } = {},
): Promise<Outcome> {
  const env = options.env ?? BASE_ENV;
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) };
  const created: CerberusClientOptions[] = [];
  const code = await run(argv, (name) => env[name], io, {
    createClient: (opts) => {
      created.push(opts);
      return fakeClient(opts, options.behaviour);
    },
  });
  assert.ok(!stdout.includes(FAKE_TOKEN) && !stderr.includes(FAKE_TOKEN), "the token must never be printed");
  return { code, stdout, stderr, created };
}

/** Asserts a failed run: the code, nothing on stdout, and a first stderr line `cerberus-edge: …`. */
function assertFailure(outcome: Outcome, code: number, pattern?: RegExp): void {
  assert.equal(outcome.code, code, `exit code (stderr: ${outcome.stderr})`);
  assert.equal(outcome.stdout, "", "stdout carries only results");
  assert.ok(outcome.stderr.endsWith("\n"), "stderr ends with a newline");
  const [first] = outcome.stderr.split("\n");
  assert.match(first!, /^cerberus-edge: \S/);
  if (pattern) assert.match(first!, pattern);
}

describe("cli run(): help and version", () => {
  for (const argv of [["--help"], ["-h"], ["help"], ["--bogus", "--help"]]) {
    test(`${argv.join(" ")} prints the usage on stdout and exits 0`, async () => {
      const out = await cli(argv, { env: {} });
      assert.equal(out.code, 0);
      assert.equal(out.stdout, USAGE);
      assert.equal(out.stderr, "");
      assert.equal(out.created.length, 0, "no client for help");
    });
  }

  for (
    const [argv, name] of [
      [["help", "read"], "read"],
      [["read", "--bogus", "--help"], "read"],
      [["whoami", "-h"], "whoami"],
      [["file", "get", "--help"], "file get"],
      [["help", "sdb", "create"], "sdb create"],
    ] as const
  ) {
    test(`${argv.join(" ")} prints the help of ${name} on stdout and exits 0`, async () => {
      const out = await cli([...argv], { env: {} });
      assert.equal(out.code, 0);
      assert.equal(out.stdout, commandHelp(COMMANDS.find((c) => c.name === name)!));
      assert.match(out.stdout, new RegExp(`^Usage: cerberus-edge ${name}`));
      assert.match(out.stdout, /\nExample:\n {2}cerberus-edge /);
      assert.equal(out.stderr, "");
    });
  }

  test("every command has a summary, an example that runs it, and help lines that fit a terminal", () => {
    for (const command of COMMANDS) {
      assert.ok(command.example.startsWith(`cerberus-edge ${command.name}`), command.name);
      const help = commandHelp(command);
      assert.ok(help.split("\n").every((line) => line.length <= 110), `${command.name} help fits`);
      assert.ok(USAGE.includes(command.name), `usage lists ${command.name}`);
    }
  });

  test("the usage names every command, option, variable and exit code", () => {
    for (
      const word of [
        "read <path>",
        "<command> --help",
        "list <path>",
        "whoami",
        "--verbose",
        "--help",
        "--version",
        "CERBERUS_URL",
        "CERBERUS_ADDR",
        "CERBERUS_AUTH",
        "CERBERUS_REGION",
        "AWS_REGION",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "3 authentication refused",
        "4 not found",
        "--timeout",
        "--json",
        "exec",
        "completion",
      ]
    ) {
      assert.ok(USAGE.includes(word), `usage mentions ${word}`);
    }
    assert.ok(USAGE.split("\n").every((line) => line.length <= 100), "usage lines fit a terminal");
  });

  test("--version prints the version", async () => {
    const out = await cli(["--version"], { env: {} });
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, `cerberus-edge ${VERSION}\n`, ""]);
  });
});

describe("cli run(): usage errors exit 2 before any client exists", () => {
  const cases: [string[], RegExp][] = [
    [[], /missing command/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["read"], /read needs <path>/],
    [["read", "app/demo/config", "extra"], /read takes <path>, got 2 arguments/],
    [["list"], /list needs <path>/],
    [["list", "a/b", "c/d"], /list takes <path>, got 2/],
    [["whoami", "me"], /whoami takes no arguments/],
    [["read", "app/demo/config", "--key"], /--key needs a value/],
    [["read", "app/demo/config", "--key="], /--key needs a non-empty value/],
    [["read", "app/demo/config", "--key", "a", "--key", "b"], /--key given more than once/],
    [["list", "app/demo", "--key", "k"], /--key is not an option of list/],
    [["whoami", "--key=k"], /--key is not an option of whoami/],
    [["whoami", "--nope"], /unknown option "--nope"/],
    [["-x", "read", "app/demo/config"], /unknown option "-x"/],
    [["--verbose=yes", "whoami"], /--verbose takes no value/],
    [["read", "app/demo/config", "--format", "yaml"], /--format must be one of json, env, dotenv, shell/],
    [["read", "app/demo/config", "--timeout", "soon"], /--timeout must be a duration/],
    [["file"], /file needs a sub-command: ls, get, put, rm, edit/],
    [["file", "cat", "x"], /unknown command "file cat": file takes ls, get, put, rm, edit/],
    [["exec", "--path", "app/demo/config"], /exec needs a command after --/],
    [["exec", "--", "env"], /exec needs at least one --path/],
    [["exec", "--path", "app/demo/config", "env"], /put the command to run after --/],
    [["write", "app/demo/config"], /write needs key=value pairs or --json/],
    [["write", "app/demo/config", "novalue"], /"novalue" is not key=value/],
    [["completion", "tcsh"], /completion supports bash, zsh, fish/],
  ];
  for (const [argv, pattern] of cases) {
    test(`[${argv.join(" ")}]`, async () => {
      const out = await cli(argv);
      assertFailure(out, ExitCode.USAGE, pattern);
      assert.equal(out.stderr.split("\n").length, 2, "exactly one line");
      assert.equal(out.created.length, 0);
    });
  }

  test("a path after -- may look like an option; a value may too; global options go anywhere", () => {
    const odd = parseArgs(["read", "--", "-odd/sdb/name"]);
    assert.deepEqual([odd.command?.name, odd.args, odd.options], ["read", ["-odd/sdb/name"], {}]);
    const key = parseArgs(["read", "--key", "--verbose", "app/demo/config"]);
    assert.deepEqual([key.args, key.options], [["app/demo/config"], { key: "--verbose" }]);
    const verbose = parseArgs(["--verbose", "list", "app/demo/", "-r", "--url=https://x.example"]);
    assert.deepEqual([verbose.command?.name, verbose.args, verbose.options], ["list", ["app/demo/"], {
      verbose: true,
      recursive: true,
      url: "https://x.example",
    }]);
    const exec = parseArgs(["exec", "--path", "a/b/c", "--path", "a/b/d", "--", "env", "--path", "x"]);
    assert.deepEqual([exec.command?.name, exec.args, exec.options.path], ["exec", ["env", "--path", "x"], [
      "a/b/c",
      "a/b/d",
    ]]);
    const write = parseArgs(["write", "a/b/c", "--json", "-", "--json-errors"]);
    assert.deepEqual(write.options, { json: "-", "json-errors": true }, "write's --json reads a file");
  });
});

describe("cli run(): configuration from the environment", () => {
  test("missing CERBERUS_URL exits 2 and names the variable", async () => {
    assertFailure(await cli(["whoami"], { env: {} }), ExitCode.USAGE, /CERBERUS_URL: is not set/);
    assertFailure(await cli(["whoami"], { env: { CERBERUS_URL: "  " } }), ExitCode.USAGE, /CERBERUS_URL/);
  });

  const badUrls: [Record<string, string>, RegExp][] = [
    [
      { CERBERUS_URL: "http://cerberus.example.com" },
      /CERBERUS_URL: plain http: is not allowed for cerberus.example.com/,
    ],
    [{ CERBERUS_ADDR: "http://10.0.0.1:8080" }, /CERBERUS_ADDR: plain http: is not allowed for 10.0.0.1/],
    [{ CERBERUS_URL: "not a url" }, /CERBERUS_URL: is not a valid URL/],
    [{ CERBERUS_URL: "ftp://cerberus.example.com" }, /CERBERUS_URL: ftp: is not https: or http:/],
    [{ CERBERUS_URL: "https://user:pw@cerberus.example.com" }, /CERBERUS_URL: must not carry a user name or password/],
  ];
  for (const [env, pattern] of badUrls) {
    test(`invalid URL ${JSON.stringify(env)} exits 2`, async () => {
      const out = await cli(["whoami"], { env });
      assertFailure(out, ExitCode.USAGE, pattern);
      assert.ok(!out.stderr.includes("pw@"), "credentials in a URL are not echoed");
    });
  }

  test("http: is accepted for loopback hosts, CERBERUS_ADDR is an alias, CERBERUS_URL wins", async () => {
    for (const url of ["http://127.0.0.1:8080", "http://localhost:1234/", "http://[::1]:9"]) {
      const out = await cli(["whoami"], { env: { CERBERUS_URL: url } });
      assert.equal(out.code, 0, out.stderr);
      assert.equal(String(out.created[0]!.url), new URL(url).href);
    }
    const alias = await cli(["whoami"], { env: { CERBERUS_ADDR: "https://addr.example.com" } });
    assert.equal(String(alias.created[0]!.url), "https://addr.example.com/");
    const both = await cli(["whoami"], {
      env: { CERBERUS_URL: "https://url.example.com", CERBERUS_ADDR: "https://addr.example.com" },
    });
    assert.equal(String(both.created[0]!.url), "https://url.example.com/");
  });

  test("CERBERUS_AUTH selects the default chain (auto), KMS auth v2 or v1, or STS; anything else exits 2", async () => {
    const byDefault = await cli(["whoami"]);
    assert.equal(byDefault.created[0]!.auth.method, "auto");
    const v2 = await cli(["whoami"], { env: { ...BASE_ENV, CERBERUS_AUTH: "KMS" } });
    assert.equal(v2.created[0]!.auth.method, "kms");
    const v1 = await cli(["whoami"], { env: { ...BASE_ENV, CERBERUS_AUTH: "kms-v1" } });
    assert.equal(v1.created[0]!.auth.method, "kms-v1");
    const sts = await cli(["whoami"], { env: { ...BASE_ENV, CERBERUS_AUTH: "STS" } });
    assert.equal(sts.created[0]!.auth.method, "sts");
    assertFailure(
      await cli(["whoami"], { env: { ...BASE_ENV, CERBERUS_AUTH: "iam" } }),
      ExitCode.USAGE,
      /CERBERUS_AUTH: "iam" is not one of auto, token, sts, kms, kms-v1, user/,
    );
  });

  test("CERBERUS_REGION is passed as the explicit region and checked", async () => {
    assert.deepEqual(readConfig((n) => ({ ...BASE_ENV, CERBERUS_REGION: "eu-west-1" })[n]), {
      url: new URL("https://cerberus.example.com"),
      auth: "auto",
      region: "eu-west-1",
    });
    assert.equal(readConfig((n) => BASE_ENV[n]).region, undefined, "unset: the library resolves AWS_REGION itself");
    assertFailure(
      await cli(["whoami"], { env: { ...BASE_ENV, CERBERUS_REGION: "moon-1" } }),
      ExitCode.USAGE,
      /CERBERUS_REGION: "moon-1" is not an AWS region/,
    );
  });

  test("the client is told who calls (X-Cerberus-Client) and gets no listener without --verbose", async () => {
    const out = await cli(["whoami"]);
    assert.equal(out.created[0]!.userAgent, `cerberus-edge-cli/${VERSION}`);
    assert.equal(out.created[0]!.onEvent, undefined);
  });
});

describe("cli run(): commands", () => {
  test("read prints the secret map as pretty JSON with a final newline", async () => {
    const out = await cli(["read", "app/demo/config"]);
    assert.equal(out.code, 0);
    assert.equal(out.stdout, `${JSON.stringify(SECRETS["app/demo/config"], null, 2)}\n`);
    assert.deepEqual(JSON.parse(out.stdout), SECRETS["app/demo/config"]);
    assert.equal(out.stderr, "");
  });

  test("read --key prints the value raw", async () => {
    const cases: [string[], string][] = [
      [["read", "app/demo/config", "--key", "greeting"], "hello\n"],
      [["read", "--key=greeting", "app/demo/config"], "hello\n"],
      [["read", "app/demo/config", "--key", "port"], "8080\n"],
      [["read", "app/demo/config", "--key", "empty"], "\n"],
    ];
    for (const [argv, expected] of cases) {
      const out = await cli(argv);
      assert.deepEqual([out.code, out.stdout, out.stderr], [0, expected, ""], argv.join(" "));
    }
  });

  test("list prints one key per line; an empty listing prints nothing", async () => {
    const out = await cli(["list", "app/demo"]);
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, "config\nsub/\n", ""]);
    const none = await cli(["list", "app/nothing/"]);
    assert.deepEqual([none.code, none.stdout, none.stderr], [0, "", ""]);
  });

  test("whoami prints principal, method, region, policies, metadata and expiry as JSON, never the token", async () => {
    const out = await cli(["whoami"]);
    assert.equal(out.code, 0);
    assert.deepEqual(JSON.parse(out.stdout), {
      principal: INFO.principal,
      method: "kms",
      region: "us-west-2",
      policies: ["app-demo-read"],
      metadata: INFO.metadata,
      expiresAt: "2026-11-29T13:00:00.000Z",
    });
    assert.ok(out.stdout.endsWith("}\n"));
    assert.ok(!/token/i.test(out.stdout));
  });
});

describe("cli run(): exit codes of failures", () => {
  test("AuthenticationError exits 3: a first line that stands alone, then one indented line per attempt", async () => {
    const denied = new AwsError("KMS AccessDeniedException (HTTP 400)", {
      step: "kms-decrypt",
      service: "kms",
      awsType: "AccessDeniedException",
      status: 400,
    });
    const unregistered = new CerberusApiError("Cerberus HTTP 400: 99216 IAM principal not valid", {
      step: "cerberus-auth",
      status: 400,
      errors: [{ code: 99216, message: "IAM principal not valid" }],
      errorId: "id-1",
    });
    const error = new AuthenticationError("KMS authentication failed for every principal (2 tried in us-west-2):", {
      attempts: [
        {
          principal: "arn:aws:iam::111122223333:role/team-a/web",
          region: "us-west-2",
          reason: "Cerberus HTTP 400: 99216 IAM principal not valid",
          error: unregistered,
        },
        {
          principal: "arn:aws:iam::111122223333:role/app-role",
          region: "us-west-2",
          reason: "KMS AccessDeniedException (HTTP 400)",
          error: denied,
        },
      ],
    });
    const out = await cli(["read", "app/demo/config"], { behaviour: { fail: error } });
    assertFailure(out, ExitCode.AUTH_FAILED);
    assert.equal(
      out.stderr,
      "cerberus-edge: KMS authentication failed for every principal (2 tried in us-west-2)\n" +
        "  - arn:aws:iam::111122223333:role/team-a/web in us-west-2: Cerberus HTTP 400: 99216 IAM principal not valid\n" +
        "  - arn:aws:iam::111122223333:role/app-role in us-west-2: KMS AccessDeniedException (HTTP 400)\n",
    );
  });

  test("an AuthenticationError with an attempt that failed for availability exits 1 (a retry may succeed)", async () => {
    const refused = new CerberusApiError("Cerberus HTTP 400: 99216 not on any SDB", {
      step: "cerberus-auth",
      status: 400,
      errors: [{ code: 99216, message: "not on any SDB" }],
    });
    const attempt = (principal: string, error: CerberusEdgeError) => ({
      principal,
      region: "us-west-2",
      reason: error.message,
      error,
    });
    const cases: [CerberusEdgeError[], number][] = [
      [[
        refused,
        new TransportError("request to 127.0.0.1:1 failed: ECONNREFUSED", { step: "kms-decrypt", timedOut: false }),
      ], ExitCode.FAILURE],
      [
        [new TransportError("request to cerberus timed out after 10000 ms", { step: "cerberus-auth", timedOut: true })],
        ExitCode.FAILURE,
      ],
      [[
        refused,
        new AwsError("KMS ThrottlingException (HTTP 400)", {
          step: "kms-decrypt",
          service: "kms",
          awsType: "ThrottlingException",
          status: 400,
        }),
      ], ExitCode.FAILURE],
      [
        [refused, new CerberusApiError("Cerberus HTTP 503 with an empty body", { step: "cerberus-auth", status: 503 })],
        ExitCode.FAILURE,
      ],
      [[
        refused,
        new AwsError("KMS AccessDeniedException (HTTP 400)", {
          step: "kms-decrypt",
          service: "kms",
          awsType: "AccessDeniedException",
          status: 400,
        }),
      ], ExitCode.AUTH_FAILED],
      [[], ExitCode.AUTH_FAILED],
    ];
    for (const [errors, code] of cases) {
      const error = new AuthenticationError("KMS authentication failed for every principal:", {
        attempts: errors.map((e, i) => attempt(`arn:aws:iam::111122223333:role/r${i}`, e)),
      });
      const out = await cli(["whoami"], { behaviour: { fail: error } });
      assertFailure(out, code, /^cerberus-edge: KMS authentication failed for every principal$/);
      assert.equal(out.stderr.split("\n").length, errors.length + 2);
    }
  });

  test("a 401 anywhere, or a 403 while authenticating, exits 3; a 403 on a secret exits 1", async () => {
    const rejected = new CerberusApiError("Cerberus HTTP 401: 99105 token invalid", {
      step: "request",
      status: 401,
      errors: [{ code: 99105, message: "token invalid" }],
    });
    assertFailure(
      await cli(["list", "app/demo"], { behaviour: { fail: rejected } }),
      ExitCode.AUTH_FAILED,
      /99105/,
    );
    const authForbidden = new CerberusApiError("Cerberus HTTP 403 with an empty body", {
      step: "cerberus-auth",
      status: 403,
    });
    assertFailure(
      await cli(["whoami"], { behaviour: { fail: authForbidden } }),
      ExitCode.AUTH_FAILED,
    );
    const denied = new CerberusApiError("Cerberus HTTP 403: 99994 Access denied", {
      step: "request",
      status: 403,
      errors: [{ code: 99994, message: "Access denied" }],
    });
    assertFailure(
      await cli(["read", "app/other/config"], { behaviour: { fail: denied } }),
      ExitCode.FAILURE,
      /99994 Access denied/,
    );
  });

  test("a redirect or a 404 from an authentication endpoint exits 2 with a hint (the configuration points elsewhere)", async () => {
    const wrongPath = new CerberusApiError("KMS authentication as x: Cerberus answered HTTP 404 with an empty body", {
      step: "cerberus-auth",
      status: 404,
    });
    const redirect = new CerberusApiError("x: Cerberus answered a redirect (HTTP 301) to https://elsewhere", {
      step: "cerberus-auth",
      status: 301,
    });
    for (const error of [wrongPath, redirect]) {
      const auth = new AuthenticationError("KMS authentication failed for every principal (1 tried in us-west-2):", {
        attempts: [{ principal: "arn:aws:iam::111122223333:role/r", region: "us-west-2", reason: "x", error }],
      });
      for (const fail of [error, auth]) {
        const out = await cli(["whoami"], { behaviour: { fail } });
        assertFailure(out, ExitCode.USAGE);
        assert.match(out.stderr, /\n {2}hint: check CERBERUS_URL \(the server's base URL, with no \/v1 or \/v2 path\)/);
      }
    }
  });

  test("a WAF page or a 429 is unavailability: exit 1", async () => {
    const waf = new UnexpectedAnswerError("reading x: the answer is not Cerberus JSON", {
      step: "request",
      status: 403,
      contentType: "text/html",
      excerpt: "<html>",
    });
    const throttled = new CerberusApiError("x: Cerberus answered HTTP 429: no details", {
      step: "cerberus-auth",
      status: 429,
    });
    const auth = new AuthenticationError("STS authentication failed (tried us-west-2):", {
      attempts: [{ principal: "p", region: "us-west-2", reason: "throttled", error: throttled }],
    });
    for (const fail of [waf, auth]) assertFailure(await cli(["whoami"], { behaviour: { fail } }), ExitCode.FAILURE);
  });

  test("a missing secret or key exits 4", async () => {
    assertFailure(
      await cli(["read", "app/demo/missing"]),
      ExitCode.NOT_FOUND,
      /^cerberus-edge: no secret at app\/demo\/missing \(reading app\/demo\/missing: Cerberus answered HTTP 404 with an empty body\)$/,
    );
    assertFailure(
      await cli(["read", "app/demo/missing", "--key", "k"]),
      ExitCode.NOT_FOUND,
      /no secret at app\/demo\/missing/,
    );
    assertFailure(await cli(["read", "app/demo/config", "--key", "nope"]), ExitCode.NOT_FOUND, /has no key "nope"/);
  });

  test("a path the library rejects exits 2", async () => {
    const bad = new InvalidInputError('"app/../x" contains a ".." segment', { field: "path" });
    assertFailure(
      await cli(["read", "app/../x"], { behaviour: { fail: bad } }),
      ExitCode.USAGE,
      /path: "app\/\.\.\/x" contains a "\.\." segment/,
    );
  });

  test("transport and other failures exit 1 with one line", async () => {
    const down = new TransportError("request to cerberus.example.com failed: ECONNREFUSED", {
      step: "request",
      timedOut: false,
    });
    const out = await cli(["list", "app/demo"], { behaviour: { fail: down } });
    assertFailure(out, ExitCode.FAILURE, /ECONNREFUSED/);
    const multiLine = new CerberusEdgeError("first\nsecond\r\nthird", { step: "response" });
    const flat = await cli(["whoami"], { behaviour: { fail: multiLine } });
    assert.equal(flat.stderr, "cerberus-edge: first second third\n");
  });

  test("an error that is not cerberus-edge's is named by type only (its message could quote a header)", async () => {
    const leak = new TypeError(`Headers.set: "${FAKE_TOKEN}\u0000" is an invalid header value.`);
    const out = await cli(["read", "app/demo/config"], { behaviour: { fail: leak } });
    assertFailure(out, ExitCode.FAILURE, /unexpected internal error \(TypeError/);
    assert.equal(out.stderr.split("\n").length, 2);
    const thrownString = await cli(["whoami"], { behaviour: { fail: `raw ${FAKE_TOKEN}` } });
    assertFailure(thrownString, ExitCode.FAILURE, /unexpected internal error \(string/);
  });
});

describe("cli run(): --verbose", () => {
  test("progress events go to stderr, one line each, the result to stdout", async () => {
    const events: CerberusEvent[] = [
      { type: "auth.region", region: "us-west-2", source: "env" },
      { type: "metadata.account", accountId: "111122223333", source: "iam-info" },
      {
        type: "metadata.roles",
        roles: ["web", "app-role"],
        instanceProfileArn: "arn:aws:iam::111122223333:instance-profile/team-a/app-profile",
      },
      { type: "metadata.fallback-v1", reason: "PUT /latest/api/token answered 403" },
      { type: "auth.attempt", method: "kms", principal: INFO.principal, region: "us-west-2" },
      { type: "auth.failure", principal: INFO.principal, region: "us-west-2", reason: "Cerberus HTTP 400:\n99216" },
      { type: "auth.payload", principal: INFO.principal, region: "us-west-2", bytes: 312 },
      { type: "kms.decrypt", region: "us-west-2", keyId: "arn:aws:kms:us-west-2:999999999999:key/abc" },
      {
        type: "auth.success",
        method: "kms",
        principal: INFO.principal,
        region: "us-west-2",
        expiresAt: INFO.expiresAt,
        policies: ["app-demo-read"],
      },
      { type: "token.refresh", reason: "expiring" },
      { type: "request.retry", step: "kms-decrypt", attempt: 1, delayMs: 100, reason: "ThrottlingException" },
    ];
    let stdout = "";
    let stderr = "";
    const code = await run(["--verbose", "whoami"], (n) => BASE_ENV[n], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
    }, {
      createClient: (opts) => {
        const client = fakeClient(opts);
        return {
          ...client,
          whoami: () => {
            for (const event of events) opts.onEvent!(event);
            return client.whoami();
          },
        };
      },
    });
    assert.equal(code, 0);
    assert.equal(JSON.parse(stdout).principal, INFO.principal);
    const lines = stderr.trimEnd().split("\n");
    assert.equal(lines.length, events.length);
    assert.ok(lines.every((line) => line.startsWith("[cerberus-edge] ")));
    assert.match(lines[0]!, /region us-west-2 \(from env\)/);
    assert.match(lines[5]!, /failed as .* Cerberus HTTP 400: 99216$/);
    assert.match(
      lines[8]!,
      /authenticated as .*app-role in us-west-2, policies: app-demo-read, expires 2026-11-29T13:00:00.000Z/,
    );
  });

  test("every event type has its own line; an unknown type prints its type only", () => {
    assert.equal(formatEvent({ type: "some.future", secret: "x" } as unknown as CerberusEvent), "event some.future");
  });
});

// ---------------------------------------------------------------------------------------------
// The real CLI in a child process, against the local stack
// ---------------------------------------------------------------------------------------------

/**
 * A forwarding proxy on 127.0.0.1 that keeps the `Host` header (so SigV4 signatures still
 * verify) and lets the test look at every exchange: that is how the tokens the stack issues
 * are learnt (the KMS Decrypt plaintext, the `X-Cerberus-Token` of later requests).
 */
async function startSniffer(
  target: string,
  onExchange: (
    exchange: {
      path: string;
      requestHeaders: Record<string, string | string[] | undefined>;
      status: number;
      body: Buffer;
    },
  ) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (upstreamRes) => {
          const parts: Buffer[] = [];
          upstreamRes.on("data", (chunk: Buffer) => parts.push(chunk));
          upstreamRes.on("end", () => {
            const body = Buffer.concat(parts);
            onExchange({
              path: req.url ?? "/",
              requestHeaders: req.headers,
              status: upstreamRes.statusCode ?? 0,
              body,
            });
            const headers = { ...upstreamRes.headers };
            delete headers["transfer-encoding"];
            delete headers["connection"];
            headers["content-length"] = String(body.length);
            res.writeHead(upstreamRes.statusCode ?? 502, headers);
            res.end(body);
          });
        },
      );
      forward.on("error", () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

describe("cli in a child process, against the local stack", () => {
  let stack: LocalStack;
  let kmsProxy: Awaited<ReturnType<typeof startSniffer>>;
  let cerberusProxy: Awaited<ReturnType<typeof startSniffer>>;
  /** Every client token the stack issued (from KMS Decrypt plaintexts and STS auth answers). */
  const issued = new Set<string>();
  /** Every token the CLI sent to Cerberus. */
  const sent = new Set<string>();
  /** Every stream of every run, checked against every token at the end as well. */
  const streams: string[] = [];
  let env: Record<string, string>;

  before(async () => {
    stack = await startLocalStack();
    kmsProxy = await startSniffer(stack.kms, ({ status, body }) => {
      if (status !== 200) return;
      const plaintext = (JSON.parse(body.toString("utf8")) as { Plaintext?: string }).Plaintext;
      if (!plaintext) return;
      const payload = JSON.parse(Buffer.from(plaintext, "base64").toString("utf8")) as { client_token?: string };
      if (payload.client_token) issued.add(payload.client_token);
    });
    cerberusProxy = await startSniffer(stack.cerberus, ({ path, requestHeaders, status, body }) => {
      const token = requestHeaders["x-cerberus-token"];
      if (typeof token === "string") sent.add(token);
      // STS and user auth answer the token itself (no KMS payload to sniff).
      if (path.startsWith("/v2/auth/sts-identity") && status === 200) {
        const answer = JSON.parse(body.toString("utf8")) as { client_token?: string };
        if (answer.client_token) issued.add(answer.client_token);
      }
      if (path.startsWith("/v2/auth/user") && status === 200) {
        const answer = JSON.parse(body.toString("utf8")) as { data?: { client_token?: { client_token?: string } } };
        const token = answer.data?.client_token?.client_token;
        if (token) issued.add(token);
      }
    });
    // KMS auth, the flow these runs check step by step (the default chain is tested on its own).
    env = {
      ...baseEnv(),
      ...stack.env,
      AWS_ENDPOINT_URL_KMS: kmsProxy.url,
      CERBERUS_URL: cerberusProxy.url,
      CERBERUS_AUTH: "kms",
    };
  });

  after(async () => {
    await kmsProxy?.close();
    await cerberusProxy?.close();
    await stack?.close();
  });

  /** Runs the CLI and checks what holds for every run: no token anywhere, one-line errors. */
  async function cerberusEdge(
    argv: string[],
    extraEnv: Record<string, string | undefined> = {},
  ): Promise<ChildOutcome> {
    const childEnv = { ...env };
    for (const [name, value] of Object.entries(extraEnv)) {
      if (value === undefined) delete childEnv[name];
      else childEnv[name] = value;
    }
    const out = await spawnCli(argv, childEnv);
    streams.push(out.stdout, out.stderr);
    for (const token of [...issued, ...sent]) {
      assert.ok(!out.stdout.includes(token) && !out.stderr.includes(token), `a token was printed by ${argv.join(" ")}`);
    }
    if (out.code !== 0) {
      assert.equal(out.stdout, "", "stdout carries only results");
      assert.match(out.stderr, /^cerberus-edge: \S[^\n]*\n/, `first stderr line: ${out.stderr}`);
      assert.doesNotMatch(out.stderr, /\n\s+at |Error: /, "no stack trace");
    }
    return out;
  }

  test("read prints the secret map as JSON (exit 0)", async () => {
    const out = await cerberusEdge(["read", "app/demo/config"]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), stack.defaults!.secret);
    assert.ok(out.stdout.endsWith("}\n"));
    assert.equal(out.stderr, "");
  });

  test("read --key prints the value raw", async () => {
    const out = await cerberusEdge(["read", "app/demo/config", "--key", "greeting"]);
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, "hello from the local stack\n", ""]);
  });

  test("list prints one key per line", async () => {
    const out = await cerberusEdge(["list", "app/demo"]);
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, "config\n", ""]);
  });

  test("whoami prints the app role's facts (KMS auth v2 and v1), never the token", async () => {
    const before = issued.size;
    const out = await cerberusEdge(["whoami"]);
    assert.equal(out.code, 0, out.stderr);
    const facts = JSON.parse(out.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(facts), ["principal", "method", "region", "policies", "metadata", "expiresAt"]);
    assert.equal(facts.principal, stack.defaults!.roles.app.arn);
    assert.equal(facts.method, "kms");
    assert.equal(facts.region, "us-west-2");
    assert.ok(Date.parse(String(facts.expiresAt)) > Date.now());
    assert.equal(issued.size, before + 1, "whoami authenticated once, and the test saw the token it got");

    const v1 = await cerberusEdge(["whoami"], { CERBERUS_AUTH: "kms-v1" });
    assert.equal(v1.code, 0, v1.stderr);
    assert.equal((JSON.parse(v1.stdout) as { method: string }).method, "kms-v1");

    // A host with AWS keys in its environment and nothing else: STS auth.
    const keys = stack.seed.roleCredentials(stack.defaults!.roles.app.arn);
    const sts = await cerberusEdge(["read", stack.defaults!.secretPath], {
      CERBERUS_AUTH: "sts",
      AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9",
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_SESSION_TOKEN: keys.sessionToken,
    });
    assert.equal(sts.code, 0, sts.stderr);
    assert.deepEqual(JSON.parse(sts.stdout), stack.defaults!.secret);
    // The same host with nothing set but the keys: the default chain (auto) takes STS too.
    const auto = await cerberusEdge(["whoami"], {
      CERBERUS_AUTH: undefined,
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_SESSION_TOKEN: keys.sessionToken,
    });
    assert.equal(auto.code, 0, auto.stderr);
    assert.equal((JSON.parse(auto.stdout) as { method: string }).method, "sts");
    assert.ok(!sts.stdout.includes(keys.secretAccessKey) && !sts.stderr.includes(keys.secretAccessKey));
  });

  test("CERBERUS_AUTH=user logs in with CERBERUS_USERNAME/CERBERUS_PASSWORD; the password is never printed", async () => {
    const { username, password } = stack.defaults!.user;
    const out = await cerberusEdge(["whoami"], {
      CERBERUS_AUTH: "user",
      CERBERUS_USERNAME: username,
      CERBERUS_PASSWORD: password,
    });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(
      [
        (JSON.parse(out.stdout) as { method: string }).method,
        (JSON.parse(out.stdout) as { principal: string }).principal,
      ],
      ["user", username],
    );
    const missing = await cerberusEdge(["whoami"], { CERBERUS_AUTH: "user", CERBERUS_USERNAME: username });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /CERBERUS_PASSWORD/);
    for (const run of [out, missing]) assert.ok(!run.stdout.includes(password) && !run.stderr.includes(password));
  });

  test("a pasted CERBERUS_TOKEN reads with no AWS call (every AWS endpoint unreachable)", async () => {
    const first = await cerberusEdge(["whoami"]);
    assert.equal(first.code, 0, first.stderr);
    const token = [...sent].at(-1)!;
    const out = await cerberusEdge(["read", stack.defaults!.secretPath], {
      CERBERUS_AUTH: undefined,
      CERBERUS_TOKEN: token,
      AWS_ENDPOINT_URL_KMS: "http://127.0.0.1:9",
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9",
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:9/creds",
    });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), stack.defaults!.secret);
    const me = await cerberusEdge(["whoami"], { CERBERUS_AUTH: "token", CERBERUS_TOKEN: token });
    assert.equal((JSON.parse(me.stdout) as { method: string }).method, "token");
  });

  test("CERBERUS_REGION is the KMS region; CERBERUS_ADDR is an alias of CERBERUS_URL", async () => {
    const out = await cerberusEdge(["whoami"], {
      AWS_REGION: undefined,
      CERBERUS_REGION: "us-west-2",
      CERBERUS_URL: undefined,
      CERBERUS_ADDR: cerberusProxy.url,
    });
    assert.equal(out.code, 0, out.stderr);
    assert.equal((JSON.parse(out.stdout) as { region: string }).region, "us-west-2");
  });

  test("--verbose prints progress to stderr, the result alone to stdout", async () => {
    const out = await cerberusEdge(["read", "app/demo/config", "--verbose"]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), stack.defaults!.secret);
    const lines = out.stderr.trimEnd().split("\n");
    assert.ok(lines.every((line) => line.startsWith("[cerberus-edge] ")), out.stderr);
    assert.ok(
      lines.some((line) => line.includes(`failed as ${stack.defaults!.roles.unregistered.arn}`)),
      "the unregistered role's failure is shown",
    );
    assert.ok(lines.some((line) => line.includes(`authenticated as ${stack.defaults!.roles.app.arn}`)));
  });

  test("a missing secret or key exits 4", async () => {
    const missing = await cerberusEdge(["read", "app/demo/missing"]);
    assert.equal(missing.code, 4, missing.stderr);
    assert.match(missing.stderr, /^cerberus-edge: no secret at app\/demo\/missing /);
    const key = await cerberusEdge(["read", "app/demo/config", "--key", "nope"]);
    assert.equal(key.code, 4, key.stderr);
    assert.equal(key.stderr, 'cerberus-edge: secret app/demo/config has no key "nope"\n');
  });

  test("usage and configuration errors exit 2 without calling Cerberus", async () => {
    const before = stack.requests.entries("cerberus").length;
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [["read", "app/../x"], {}, /path: .*"\.\." segment/],
      [["frobnicate"], {}, /unknown command "frobnicate"/],
      [["read", "app/demo/config", "--nope"], {}, /unknown option "--nope"/],
      [["whoami"], { CERBERUS_URL: undefined }, /CERBERUS_URL: is not set/],
      [
        ["whoami"],
        { CERBERUS_URL: "http://cerberus.example.com" },
        /CERBERUS_URL: plain http: is not allowed for cerberus.example.com/,
      ],
      [["whoami"], { CERBERUS_AUTH: "iam" }, /CERBERUS_AUTH/],
    ];
    for (const [argv, extra, pattern] of cases) {
      const out = await cerberusEdge(argv, extra);
      assert.equal(out.code, 2, `${argv.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr, pattern);
      assert.equal(out.stderr.split("\n").length, 2, "one line");
    }
    assert.equal(stack.requests.entries("cerberus").length, before, "no request reached Cerberus");
  });

  test("--help prints the usage to stdout (exit 0)", async () => {
    const out = await cerberusEdge(["--help"], { CERBERUS_URL: undefined });
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, USAGE, ""]);
  });

  test("authentication failure exits 3: one summary line, then every attempt", async () => {
    const fault = stack.faults.inject("kms", { kind: "kms-error", type: "AccessDeniedException" }, { times: Infinity });
    try {
      const out = await cerberusEdge(["read", "app/demo/config"]);
      assert.equal(out.code, 3, out.stderr);
      const [first, ...attempts] = out.stderr.trimEnd().split("\n");
      assert.match(first!, /^cerberus-edge: KMS authentication failed for every principal \(\d tried in us-west-2\)$/);
      assert.ok(attempts.length >= 2);
      assert.ok(attempts.every((line) => line.startsWith("  - arn:aws:iam::111122223333:role/")), out.stderr);
      assert.ok(attempts.some((line) => line.includes("AccessDeniedException")), out.stderr);
    } finally {
      fault.remove();
    }
  });

  test("a CERBERUS_URL with a path (…/v1) exits 2 with a hint, not 3", async () => {
    const out = await cerberusEdge(["whoami"], { CERBERUS_URL: `${cerberusProxy.url}/v1` });
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /\n {2}hint: check CERBERUS_URL/);
  });

  test("Cerberus or KMS unreachable exits 1, not 3 (nothing refused the principal)", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const cerberusDown = await cerberusEdge(["whoami"], { CERBERUS_URL: `http://127.0.0.1:${port}` });
    assert.equal(cerberusDown.code, 1, cerberusDown.stderr);
    assert.equal(
      cerberusDown.stderr,
      `cerberus-edge: request to 127.0.0.1:${port} failed: ECONNREFUSED\n`,
      "once, not per role",
    );
    const kmsDown = await cerberusEdge(["whoami"], { AWS_ENDPOINT_URL_KMS: `http://127.0.0.1:${port}` });
    assert.equal(kmsDown.code, 1, kmsDown.stderr);
    assert.match(kmsDown.stderr, /role\/app-role in us-west-2: request to 127\.0\.0\.1:\d+ failed/);
    const imdsDown = await cerberusEdge(["whoami"], { AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${port}` });
    assert.equal(imdsDown.code, 1, imdsDown.stderr);
    assert.match(imdsDown.stderr, /could not discover the instance's IAM roles .*request to 127\.0\.0\.1:\d+ failed/);
  });

  test("a result that cannot be written (disk full) exits 1, not 0", {
    skip: !existsSync("/dev/full") && "no /dev/full here",
  }, async () => {
    const { command, args } = cliCommand();
    const full = openSync("/dev/full", "w");
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(command, [...args, "read", "app/demo/config", "--key", "greeting"], {
          cwd: ROOT,
          env,
          stdio: ["ignore", full, "pipe"],
        });
        child.on("error", reject);
        child.on("close", resolve);
      });
      assert.equal(code, 1);
    } finally {
      closeSync(full);
    }
  });

  test("other failures exit 1 (Cerberus answers 500 for the secret)", async () => {
    const fault = stack.faults.inject("cerberus", { kind: "status", status: 500 }, {
      path: "/v1/secret/",
      times: Infinity,
    });
    try {
      const out = await cerberusEdge(["read", "app/demo/config"]);
      assert.equal(out.code, 1, out.stderr);
      assert.match(out.stderr, /^cerberus-edge: reading app\/demo\/config: Cerberus answered HTTP 500/);
      assert.equal(out.stderr.split("\n").length, 2, "one line");
    } finally {
      fault.remove();
    }
  });

  test("no stream of any run contained any token the stack issued", () => {
    assert.ok(issued.size >= 5, `the test saw the issued tokens (${issued.size})`);
    assert.ok(
      sent.size >= 1 && [...sent].every((token) => issued.has(token)),
      "the tokens sent to Cerberus are ones the test knows",
    );
    for (const text of streams) {
      for (const token of issued) assert.ok(!text.includes(token));
    }
  });
});
