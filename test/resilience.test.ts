/**
 * The fault matrix over the in-memory stack, on the injected clock: one row per fault a real
 * deployment throws at a client. Each row either recovers within its budget or fails with its
 * typed error, and that error maps to the command line's exit code (the README's contract).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inspect } from "node:util";
import { readSecret, writeSecret } from "../src/api/secrets.ts";
import { stsAuth } from "../src/auth/sts-auth.ts";
import { userAuth } from "../src/auth/user-auth.ts";
import { ExitCode, exitCodeOf } from "../src/cli/run.ts";
import type { CerberusClientOptions } from "../src/client/client.ts";
import {
  AuthenticationError,
  AwsError,
  CerberusApiError,
  CerberusEdgeError,
  TransportError,
  UnexpectedAnswerError,
} from "../src/errors.ts";
import type { Fault, FaultScope, ServiceName } from "../src/testing/mod.ts";
import { createWorld, logged, onlyAppRole, rejection, sentTokens, type World } from "./support.ts";

const CONFIG = "app/demo/config";

/** A world whose instance has the app role only: one principal to try. */
function worldWith(client: Partial<CerberusClientOptions> = {}): World {
  const world = createWorld({ client });
  onlyAppRole(world);
  return world;
}

type Injection = [ServiceName, Fault, FaultScope];

interface Row {
  name: string;
  /** Faults met by the authentication (from the start). */
  auth?: Injection[];
  /** Faults met by the read (after the client holds a token). */
  read?: Injection[];
  client?: Partial<CerberusClientOptions>;
  /** `undefined`: the read recovers; else the error's class, code and the CLI's exit code. */
  fails?: { error: new (...args: never[]) => CerberusEdgeError; code: string; exit: number };
  /** Least clock time the row takes (a `Retry-After` obeyed). */
  waitsMs?: number;
  /** Requests the faulty service saw, at most. */
  maxRequests?: [ServiceName, number];
}

const ROWS: Row[] = [
  { name: "KMS 500 once", auth: [["kms", { kind: "status", status: 500 }, {}]] },
  { name: "KMS throttled twice", auth: [["kms", { kind: "throttle" }, { times: 2 }]] },
  {
    name: "KMS throttled for good",
    auth: [["kms", { kind: "throttle" }, { times: Infinity }]],
    fails: { error: AuthenticationError, code: "AUTH_FAILED", exit: ExitCode.FAILURE },
    maxRequests: ["kms", 3],
  },
  {
    name: "Cerberus 503 on the auth POST once",
    auth: [["cerberus", { kind: "status", status: 503 }, { method: "POST" }]],
  },
  {
    name: "Cerberus 503 on the auth POST for good",
    auth: [["cerberus", { kind: "status", status: 503 }, { method: "POST", times: Infinity }]],
    fails: { error: AuthenticationError, code: "AUTH_FAILED", exit: ExitCode.FAILURE },
    maxRequests: ["cerberus", 3],
  },
  { name: "Cerberus 503 on the read twice", read: [["cerberus", { kind: "status", status: 503 }, { times: 2 }]] },
  {
    name: "Cerberus 503 on the read for good",
    read: [["cerberus", { kind: "status", status: 503 }, { times: Infinity }]],
    fails: { error: CerberusApiError, code: "CERBERUS_ERROR", exit: ExitCode.FAILURE },
    maxRequests: ["cerberus", 3],
  },
  {
    name: "Cerberus 429 with Retry-After: 1 on the read",
    read: [["cerberus", { kind: "throttle" }, {}]],
    waitsMs: 1_000,
  },
  {
    name: "Cerberus 429 whose Retry-After passes the budget: fails at once",
    read: [["cerberus", {
      kind: "body",
      status: 429,
      body: "slow down",
      headers: { "content-type": "text/plain", "retry-after": "3600" },
    }, {}]],
    fails: { error: UnexpectedAnswerError, code: "UNEXPECTED_ANSWER", exit: ExitCode.FAILURE },
    maxRequests: ["cerberus", 1],
  },
  { name: "a connection reset on the read", read: [["cerberus", { kind: "reset" }, {}]] },
  { name: "a connection reset on the auth POST", auth: [["cerberus", { kind: "reset" }, { method: "POST" }]] },
  {
    name: "slow headers on the read once (past the 2 s timeout)",
    client: { timeoutMs: 2_000 },
    read: [["cerberus", { kind: "latency", ms: 60_000 }, {}]],
  },
  {
    name: "a read that never answers: three timeouts",
    client: { timeoutMs: 2_000 },
    read: [["cerberus", { kind: "hang" }, { times: Infinity }]],
    fails: { error: TransportError, code: "TIMEOUT", exit: ExitCode.FAILURE },
    maxRequests: ["cerberus", 3],
  },
  {
    name: "a read that never answers, cut by the 5 s budget",
    client: { timeoutMs: 4_000, budgetMs: 5_000 },
    read: [["cerberus", { kind: "hang" }, { times: Infinity }]],
    fails: { error: TransportError, code: "TIMEOUT", exit: ExitCode.FAILURE },
    maxRequests: ["cerberus", 2],
  },
  {
    name: "an auth POST that never answers is not sent again",
    client: { timeoutMs: 2_000 },
    auth: [["cerberus", { kind: "hang" }, { method: "POST", times: Infinity }]],
    fails: { error: TransportError, code: "TIMEOUT", exit: ExitCode.FAILURE },
    maxRequests: ["cerberus", 1],
  },
  {
    name: "a redirect on the read to another origin",
    read: [["cerberus", { kind: "redirect", location: "https://elsewhere.example/steal" }, {}]],
    fails: { error: CerberusApiError, code: "CERBERUS_ERROR", exit: ExitCode.USAGE },
    maxRequests: ["cerberus", 1],
  },
  {
    name: "a redirect on the auth POST",
    auth: [["cerberus", { kind: "redirect", location: "https://elsewhere.example/" }, { method: "POST" }]],
    fails: { error: AuthenticationError, code: "AUTH_FAILED", exit: ExitCode.USAGE },
  },
  {
    name: "a redirect from KMS",
    auth: [["kms", { kind: "redirect", location: "https://elsewhere.example/" }, { times: Infinity }]],
    fails: { error: AuthenticationError, code: "AUTH_FAILED", exit: ExitCode.USAGE },
  },
];

describe("fault matrix: KMS authentication and a read", () => {
  for (const row of ROWS) {
    test(row.name, async () => {
      const world = worldWith(row.client);
      const inject = (faults: Injection[] = []) => {
        for (const [service, fault, scope] of faults) world.stack.faults.inject(service, fault, scope);
      };
      if (row.read) {
        await world.client.whoami();
        world.stack.requests.clear();
      }
      inject(row.auth);
      inject(row.read);
      const started = world.clock.now();
      const outcome = await world.clock.settle(
        readSecret(world.client, CONFIG).then((data) => ({ data }), (error: unknown) => ({ error })),
      );
      if (!row.fails) {
        assert.ok("data" in outcome, `recovers: ${"error" in outcome ? String(outcome.error) : ""}`);
        assert.deepEqual(outcome.data, world.defaults.secret);
      } else {
        assert.ok("error" in outcome, "fails");
        const error = outcome.error;
        assert.ok(error instanceof row.fails.error, String(error));
        assert.equal((error as CerberusEdgeError).code, row.fails.code);
        assert.equal(exitCodeOf(error), row.fails.exit, `exit code of ${String(error)}`);
      }
      // Nothing the client learnt or sent in secret shows in the error or in any event.
      const shown = inspect("error" in outcome ? outcome.error : undefined, { depth: 10, showHidden: true }) +
        JSON.stringify(world.events);
      const secrets = [
        ...sentTokens(world.sent),
        ...world.sent.flatMap((s) => s.headers.get("x-amz-security-token") ?? []),
        ...Object.values(world.defaults.secret),
      ];
      for (const secret of secrets) assert.ok(!shown.includes(secret), "a token, session token or secret value shown");
      if (row.waitsMs !== undefined) assert.ok(world.clock.now() - started >= row.waitsMs, "Retry-After obeyed");
      if (row.maxRequests) {
        const [service, most] = row.maxRequests;
        const seen = row.read
          ? logged(world.stack, service, "GET", "/v1/secret/")
          : logged(world.stack, service, "POST");
        assert.ok(seen <= most, `${service} saw ${seen} requests, at most ${most} expected`);
      }
    });
  }

  test("a skewed clock for KMS: the signature is refused, corrected from Date, and accepted", async () => {
    const world = worldWith();
    world.stack.clock.skew("kms", 20 * 60_000);
    assert.deepEqual(await readSecret(world.client, CONFIG), world.defaults.secret);
    assert.equal(logged(world.stack, "kms"), 2);
  });

  test("a skewed clock for STS auth: 99237, corrected from Cerberus's Date, and accepted", async () => {
    const world = worldWith();
    world.stack.clock.skew("sts", 20 * 60_000);
    world.stack.clock.skew("cerberus", 20 * 60_000);
    const credentials = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    const { client } = world.connect({ provider: stsAuth({ region: "us-west-2", credentials }) });
    assert.deepEqual(await readSecret(client, CONFIG), world.defaults.secret);
  });

  test("a write meeting a 503 or a reset is not sent again; a 429 is", async () => {
    const world = worldWith();
    const { username, password } = world.defaults.user;
    const { client } = world.connect({ provider: userAuth({ credentials: { username, password } }) });
    await client.whoami();
    for (const fault of [{ kind: "status", status: 503 }, { kind: "reset" }] as Fault[]) {
      world.stack.requests.clear();
      world.stack.faults.inject("cerberus", fault, { method: "POST", path: "/v1/secret/" });
      const error = await world.clock.settle(rejection(writeSecret(client, "app/demo/w", { a: "1" })));
      assert.ok(error instanceof CerberusEdgeError, String(error));
      assert.equal(logged(world.stack, "cerberus", "POST", "/v1/secret/"), 1, `${fault.kind}: sent once`);
    }
    world.stack.requests.clear();
    world.stack.faults.inject("cerberus", { kind: "throttle" }, { method: "POST", path: "/v1/secret/" });
    await world.clock.settle(writeSecret(client, "app/demo/w", { a: "1" }));
    assert.equal(logged(world.stack, "cerberus", "POST", "/v1/secret/"), 2, "429: the server did not act on it");
  });

  test("throttling is an AwsError the CLI reports as unavailable (1), not as a refusal (3)", async () => {
    const world = worldWith({ attempts: 1 });
    world.stack.faults.inject("kms", { kind: "throttle" }, { times: Infinity });
    const error = await world.clock.settle(rejection(readSecret(world.client, CONFIG)));
    assert.ok(error instanceof AuthenticationError);
    assert.ok(error.attempts.every((a) => a.error instanceof AwsError && a.error.retryable));
    assert.equal(exitCodeOf(error), ExitCode.FAILURE);
  });
});
