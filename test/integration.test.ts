/**
 * The core over the local stack served on 127.0.0.1, through the runtime's real transport:
 * the KMS sequence end to end, and the failures a real deployment throws at it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AuthenticationError,
  CerberusApiError,
  type CerberusEvent,
  createCerberusClient,
  kmsAuth,
  type KmsAuthOptions,
  listKeys,
  readKey,
  readSecret,
  UnexpectedAnswerError,
} from "../mod.ts";
import { type LocalStack, startLocalStack } from "../src/testing/mod.ts";

let stack: LocalStack;

before(async () => {
  stack = await startLocalStack();
});
after(async () => {
  await stack.close();
});

function client(auth: KmsAuthOptions = {}, env: Record<string, string> = {}) {
  const events: CerberusEvent[] = [];
  const cerberus = createCerberusClient({
    url: stack.cerberus,
    auth: kmsAuth(auth),
    env: { ...stack.env, ...env },
    onEvent: (e) => events.push(e),
  });
  return { cerberus, events };
}

describe("no auth option: the default chain", () => {
  test("on an EC2 instance (no AWS keys, no token), the default chain signs STS auth with the instance role", async () => {
    const own = await startLocalStack();
    try {
      own.seed.instance({ roles: [own.defaults!.roles.app] });
      const cerberus = createCerberusClient({ url: own.cerberus, env: { ...own.env } });
      assert.deepEqual(await readSecret(cerberus, own.defaults!.secretPath), own.defaults!.secret);
      const me = await cerberus.whoami();
      assert.equal(me.method, "sts");
      assert.match(me.principal, /:assumed-role\/app-role\//);
    } finally {
      await own.close();
    }
  });

  test("the instance's first role refused by STS auth is an answer: no fall back to KMS", async () => {
    // The default instance lists base-role (on no SDB) before app-role.
    const cerberus = createCerberusClient({ url: stack.cerberus, env: { ...stack.env } });
    const error = await cerberus.whoami().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.match(error.message, /STS authentication failed/);
    assert.match(error.message, /99216/);
  });

  test("where STS auth is not enabled, the default chain takes KMS auth", async () => {
    stack.faults.inject("cerberus", { kind: "cerberus-error", code: 99996 }, { path: "/v2/auth/sts-identity" });
    try {
      const cerberus = createCerberusClient({ url: stack.cerberus, env: { ...stack.env } });
      assert.deepEqual(await readSecret(cerberus, stack.defaults!.secretPath), stack.defaults!.secret);
      assert.equal((await cerberus.whoami()).method, "kms");
    } finally {
      stack.faults.clear();
    }
  });

  test("with AWS keys in the environment, STS auth", async () => {
    const k = stack.seed.roleCredentials(stack.defaults!.roles.app.arn);
    const env = {
      ...stack.env,
      AWS_ACCESS_KEY_ID: k.accessKeyId,
      AWS_SECRET_ACCESS_KEY: k.secretAccessKey,
      AWS_SESSION_TOKEN: k.sessionToken!,
    };
    const cerberus = createCerberusClient({ url: stack.cerberus, env });
    assert.deepEqual(await readSecret(cerberus, stack.defaults!.secretPath), stack.defaults!.secret);
    assert.equal((await cerberus.whoami()).method, "sts");
  });
});

describe("KMS auth over the loopback stack", () => {
  test("the EC2 sequence: roles from IMDS, the unregistered role skipped, secret read", async () => {
    stack.faults.clear();
    const { cerberus, events } = client();
    assert.deepEqual(await readSecret(cerberus, stack.defaults!.secretPath), stack.defaults!.secret);
    const tried = events.filter((e) => e.type === "auth.attempt").map((e) => (e as { principal: string }).principal);
    assert.deepEqual(tried, [
      "arn:aws:iam::111122223333:role/team-a/base-role",
      "arn:aws:iam::111122223333:role/base-role",
      "arn:aws:iam::111122223333:role/team-a/app-role",
      "arn:aws:iam::111122223333:role/app-role",
    ]);
    const info = await cerberus.whoami();
    assert.equal(info.principal, stack.defaults!.roles.app.arn);
    assert.equal(info.region, "us-west-2");
    assert.ok(info.expiresAt.getTime() > Date.now() + 50 * 60_000);
    assert.deepEqual(await listKeys(cerberus, "app/demo/"), ["config"]);
    assert.equal(await readKey(cerberus, stack.defaults!.secretPath, "greeting"), "hello from the local stack");
  });

  test("KMS auth v1", async () => {
    const { cerberus } = client({ version: 1 });
    assert.equal((await cerberus.whoami()).method, "kms-v1");
    assert.deepEqual(await readSecret(cerberus, stack.defaults!.secretPath), stack.defaults!.secret);
  });

  test("explicit principal and static credentials (no metadata)", async () => {
    const credentials = stack.seed.roleCredentials(stack.defaults!.roles.app.arn);
    const { cerberus } = client({ principalArn: stack.defaults!.roles.app.arn, credentials, region: "us-west-2" }, {
      AWS_EC2_METADATA_DISABLED: "true",
    });
    assert.deepEqual(await readSecret(cerberus, stack.defaults!.secretPath), stack.defaults!.secret);
  });

  test("on ECS: the task role named by the container credentials endpoint, no metadata", async () => {
    const container = stack.defaults!.container;
    const { cerberus, events } = client({}, { ...container.env, AWS_EC2_METADATA_DISABLED: "true" });
    assert.deepEqual(await readSecret(cerberus, stack.defaults!.secretPath), stack.defaults!.secret);
    assert.equal((await cerberus.whoami()).principal, stack.defaults!.roles.app.arn);
    assert.ok(!events.some((e) => e.type === "metadata.roles"));
  });

  test("on ECS with an explicit principal, the container supplies its credentials", async () => {
    const container = stack.defaults!.container;
    const { cerberus } = client({ principalArn: stack.defaults!.roles.app.arn }, {
      ...container.env,
      AWS_EC2_METADATA_DISABLED: "true",
    });
    assert.equal((await cerberus.whoami()).principal, stack.defaults!.roles.app.arn);
  });

  test("container credentials without the authorization token are refused, and say so", async () => {
    const container = stack.defaults!.container;
    const { cerberus } = client({}, {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: container.fullUri,
      AWS_EC2_METADATA_DISABLED: "true",
    });
    const error = await cerberus.whoami().catch((e: unknown) => e);
    assert.ok(error instanceof AuthenticationError);
    assert.match(error.message, /container credentials endpoint answered HTTP 40[13]/);
  });

  test("IMDSv1 fallback when the token PUT is refused", async () => {
    stack.faults.inject("imds", { kind: "status", status: 403 }, { path: "/latest/api/token", times: 1 });
    const { cerberus, events } = client();
    await cerberus.whoami();
    assert.ok(events.some((e) => e.type === "metadata.fallback-v1"));
    stack.faults.clear();
  });

  test("the server expires the token; a 401 99105 re-authenticates once", async () => {
    const { cerberus, events } = client();
    await readSecret(cerberus, stack.defaults!.secretPath);
    stack.clock.advance(2 * 3600_000); // server time only: the client still thinks its token is fresh
    try {
      assert.deepEqual(await readSecret(cerberus, stack.defaults!.secretPath), stack.defaults!.secret);
      assert.ok(events.some((e) => e.type === "token.refresh" && e.reason === "rejected"));
    } finally {
      stack.clock.setOffset(0);
    }
  });

  test("KMS clock skew is corrected from the Date header", async () => {
    stack.clock.skew("kms", 20 * 60_000);
    try {
      const { cerberus, events } = client();
      await cerberus.whoami();
      assert.ok(events.some((e) => e.type === "request.retry" && e.reason === "clock skew corrected"));
    } finally {
      stack.clock.skew("kms", 0);
    }
  });

  test("KMS throttling is retried", async () => {
    stack.faults.inject("kms", { kind: "throttle" }, { times: 1 });
    const { cerberus, events } = client();
    await cerberus.whoami();
    assert.ok(events.some((e) => e.type === "request.retry" && e.reason === "ThrottlingException"));
    stack.faults.clear();
  });

  test("a region where KMS is down falls back to the next region", async () => {
    stack.faults.inject("kms", { kind: "kms-error", type: "KMSInternalException" }, { times: Infinity });
    const { cerberus } = client({ region: "us-west-2", fallbackRegions: ["us-east-1"] });
    // Every KMS call fails in both regions: the error lists both regions for the app role.
    const error = await cerberus.whoami().catch((e: unknown) => e);
    stack.faults.clear();
    assert.ok(error instanceof AuthenticationError);
    assert.ok(error.attempts.some((a) => a.region === "us-west-2" && /KMSInternalException/.test(a.reason)));
    assert.ok(error.attempts.some((a) => a.region === "us-east-1" && /KMSInternalException/.test(a.reason)));
    const { cerberus: healthy } = client({ region: "us-west-2", fallbackRegions: ["us-east-1"] });
    assert.equal((await healthy.whoami()).region, "us-west-2");
  });

  test("a WAF page in front of Cerberus is named as such", async () => {
    const { cerberus } = client();
    await cerberus.whoami();
    stack.faults.inject("cerberus", { kind: "waf" }, { path: "/v1/secret/", times: 1 });
    const error = await readSecret(cerberus, stack.defaults!.secretPath).catch((e: unknown) => e);
    stack.faults.clear();
    assert.ok(error instanceof UnexpectedAnswerError);
    assert.equal(error.status, 403);
    assert.match(error.message, /^reading app\/demo\/config: the answer is not Cerberus JSON \(HTTP 403, text\/html/);
  });

  test("a redirect to another origin is not followed", async () => {
    const { cerberus } = client();
    await cerberus.whoami();
    stack.faults.inject("cerberus", { kind: "redirect" }, { path: "/v1/secret/", times: 1 });
    const error = await readSecret(cerberus, stack.defaults!.secretPath).catch((e: unknown) => e);
    stack.faults.clear();
    assert.ok(error instanceof CerberusApiError);
    assert.match(error.message, /not followed/);
  });

  test("200 concurrent first calls over sockets: one authentication, one KMS call", async () => {
    stack.requests.clear();
    const { cerberus, events } = client();
    const results = await Promise.all(
      Array.from({ length: 200 }, () => readSecret(cerberus, stack.defaults!.secretPath)),
    );
    assert.equal(results.length, 200);
    assert.equal(events.filter((e) => e.type === "auth.success").length, 1);
    assert.equal(events.filter((e) => e.type === "kms.decrypt").length, 1);
    assert.equal(stack.requests.entries("kms").length, 1);
  });
});
