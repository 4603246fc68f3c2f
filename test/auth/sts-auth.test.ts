/**
 * STS auth over the in-memory stack, whose Cerberus replays the signed GetCallerIdentity to its
 * STS, which checks the signature with its own SigV4 verifier (independent of aws4fetch).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AwsV4Signer } from "aws4fetch";
import { stsAuth } from "../../src/auth/sts-auth.ts";
import { AuthenticationError, InvalidInputError } from "../../src/errors.ts";
import { createWorld, logged, rejection } from "../support.ts";
import { readSecret } from "../../src/api/secrets.ts";

const BODY = "Action=GetCallerIdentity&Version=2011-06-15";

describe("STS auth", () => {
  it("temporary keys: signs only host, x-amz-date and the session token, sends no body, and reads the secret", async () => {
    const world = createWorld();
    const credentials = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    const { client, sent } = world.connect({ provider: stsAuth({ region: "us-west-2", credentials }) });
    assert.deepEqual(await readSecret(client, world.defaults.secretPath), world.defaults.secret);
    const auth = sent.filter((s) => s.url.pathname === "/v2/auth/sts-identity");
    assert.equal(auth.length, 1);
    assert.equal(auth[0]!.method, "POST");
    assert.equal(auth[0]!.body, "");
    assert.match(auth[0]!.headers.get("authorization") ?? "", /SignedHeaders=host;x-amz-date;x-amz-security-token,/);
    assert.match(
      auth[0]!.headers.get("authorization") ?? "",
      /Credential=ASIA[^/]*\/\d{8}\/us-west-2\/sts\/aws4_request/,
    );
    assert.equal(auth[0]!.headers.get("x-amz-security-token"), credentials.sessionToken);
    // Nothing went to STS from the client: only Cerberus's replay reached it.
    assert.ok(sent.every((s) => s.url.origin === new URL(world.stack.cerberus).origin));
    assert.equal(logged(world.stack, "sts", "POST"), 1);
    const me = await client.whoami();
    assert.equal(me.method, "sts");
    assert.match(me.principal, /^arn:aws:sts::111122223333:assumed-role\/app-role\//);
    assert.equal(me.region, "us-west-2");
  });

  it("long-term keys: signs host and x-amz-date only", async () => {
    const world = createWorld();
    const user = world.stack.seed.iamUser("deployer");
    world.stack.seed.sdb({ name: "deploy", iamPrincipals: { [user.arn]: "read" }, secrets: { keys: { a: "1" } } });
    const { client, sent } = world.connect({
      provider: stsAuth({ region: "us-east-1", credentials: user.credentials }),
    });
    assert.deepEqual(await readSecret(client, "app/deploy/keys"), { a: "1" });
    const auth = sent.find((s) => s.url.pathname === "/v2/auth/sts-identity")!;
    assert.match(auth.headers.get("authorization") ?? "", /SignedHeaders=host;x-amz-date,/);
    assert.equal(auth.headers.get("x-amz-security-token"), null);
    assert.equal((await client.whoami()).principal, user.arn);
  });

  it("a China region signs for sts.<region>.amazonaws.com.cn", async () => {
    const world = createWorld();
    const credentials = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    const { client, sent } = world.connect({ provider: stsAuth({ region: "cn-north-1", credentials }) });
    assert.equal((await client.whoami()).region, "cn-north-1");
    const auth = sent.find((s) => s.url.pathname === "/v2/auth/sts-identity")!;
    assert.match(auth.headers.get("authorization") ?? "", /\/cn-north-1\/sts\/aws4_request/);
  });

  it("credentials from the host: the AWS_* key variables", async () => {
    const world = createWorld();
    const k = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    const { client } = world.connect({
      provider: stsAuth(),
      env: {
        AWS_ACCESS_KEY_ID: k.accessKeyId,
        AWS_SECRET_ACCESS_KEY: k.secretAccessKey,
        AWS_SESSION_TOKEN: k.sessionToken,
      },
    });
    assert.equal((await client.whoami()).region, "us-west-2", "AWS_REGION from the stack's env");
  });

  it("the region: CERBERUS_REGION before AWS_REGION", async () => {
    const world = createWorld();
    const credentials = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    const { client, events } = world.connect({
      provider: stsAuth({ credentials }),
      env: { CERBERUS_REGION: "us-east-2" },
    });
    assert.equal((await client.whoami()).region, "us-east-2");
    assert.ok(events.some((e) => e.type === "auth.region" && e.region === "us-east-2" && e.source === "env"));
  });

  it("no credentials anywhere: an InvalidInputError naming stsAuth.credentials, and no request", async () => {
    const world = createWorld();
    const { client, sent } = world.connect({
      provider: stsAuth({ region: "us-west-2" }),
      env: { AWS_EC2_METADATA_DISABLED: "true" },
    });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "stsAuth.credentials");
    assert.equal(sent.length, 0);
  });

  it("a wrong secret is refused once, in one region only, with no secret in the message", async () => {
    const world = createWorld();
    const k = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    const wrong = { ...k, secretAccessKey: "not-the-secret-0123456789" };
    const { client, sent } = world.connect({
      provider: stsAuth({ region: "us-west-2", fallbackRegions: ["us-east-1"], credentials: wrong }),
    });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.attempts.length, 1, "a refusal is not retried in another region");
    assert.match(error.message, /99237|99106/);
    assert.ok(!error.message.includes(wrong.secretAccessKey));
    assert.ok(!error.message.includes(k.sessionToken!));
    assert.equal(sent.filter((s) => s.url.pathname === "/v2/auth/sts-identity").length, 1);
  });

  it("Cerberus unable to reach STS in one region: the next fallback region is tried", async () => {
    const world = createWorld();
    const credentials = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    // 99997 (HTTP 503) to every attempt in the first region.
    world.stack.faults.inject("cerberus", { kind: "cerberus-error", code: 99997 }, {
      path: "/v2/auth/sts-identity",
      times: 3,
    });
    const { client, events } = world.connect({
      provider: stsAuth({ region: "us-west-2", fallbackRegions: ["us-east-1"], credentials }),
    });
    assert.equal((await world.clock.settle(client.whoami())).region, "us-east-1");
    assert.equal(logged(world.stack, "cerberus", "POST", "/v2/auth/sts-identity"), 4);
    assert.ok(events.some((e) => e.type === "auth.region" && e.source === "fallback"));
  });

  it("a skewed local clock: STS refuses the signature (99237), Cerberus's Date corrects it, signed once more", async () => {
    const world = createWorld();
    const credentials = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    // The local clock is 20 minutes behind AWS (and Cerberus, whose clock is AWS's).
    world.stack.clock.skew("sts", 20 * 60_000);
    world.stack.clock.skew("cerberus", 20 * 60_000);
    const { client, events, sent } = world.connect({ provider: stsAuth({ region: "us-west-2", credentials }) });
    assert.equal((await client.whoami()).method, "sts");
    const dates = sent.filter((s) => s.url.pathname === "/v2/auth/sts-identity").map((s) =>
      s.headers.get("x-amz-date")
    );
    assert.equal(dates.length, 2, "signed twice: before and after the correction");
    assert.ok(events.some((e) => e.type === "request.retry" && e.reason === "clock skew corrected"));
    // The skew is the client's: the next authentication signs right the first time.
    const before = sent.length;
    await client.logout();
    await client.whoami();
    assert.equal(sent.slice(before).filter((s) => s.url.pathname === "/v2/auth/sts-identity").length, 1);
  });

  it("a 99237 whose Date agrees with the local clock is a refusal, not a skew: no second signature", async () => {
    const world = createWorld();
    const credentials = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    world.stack.clock.skew("sts", 20 * 60_000);
    const { client, sent } = world.connect({ provider: stsAuth({ region: "us-west-2", credentials }) });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.match(error.message, /99237/);
    assert.equal(sent.filter((s) => s.url.pathname === "/v2/auth/sts-identity").length, 1);
  });

  it("a server message quoting the session token is scrubbed", async () => {
    const world = createWorld();
    const credentials = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    world.stack.faults.inject("cerberus", {
      kind: "cerberus-error",
      code: 99106,
      message: `the token ${credentials.sessionToken} is not valid`,
    }, { path: "/v2/auth/sts-identity" });
    const { client } = world.connect({ provider: stsAuth({ region: "us-west-2", credentials }) });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof AuthenticationError);
    assert.ok(!error.message.includes(credentials.sessionToken!), error.message);
    assert.match(error.message, /\[redacted\]/);
  });

  it("a signature over one extra header is refused by the replay (the stack's independent verifier)", async () => {
    const world = createWorld();
    const k = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    const signed = await new AwsV4Signer({
      method: "POST",
      url: "https://sts.us-west-2.amazonaws.com/",
      headers: { "x-extra": "1" },
      body: BODY,
      accessKeyId: k.accessKeyId,
      secretAccessKey: k.secretAccessKey,
      sessionToken: k.sessionToken,
      service: "sts",
      region: "us-west-2",
    }).sign();
    const response = await world.stack.transport(`${world.stack.cerberus}/v2/auth/sts-identity`, {
      method: "POST",
      headers: {
        authorization: signed.headers.get("authorization")!,
        "x-amz-date": signed.headers.get("x-amz-date")!,
        "x-amz-security-token": k.sessionToken!,
      },
    });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /99237/);
  });

  it("refuses bad options at once", () => {
    assert.throws(() => stsAuth({ region: "mars-1" }), InvalidInputError);
    assert.throws(() => stsAuth({ fallbackRegions: "us-east-1" as unknown as string[] }), InvalidInputError);
    assert.throws(() => stsAuth({ credentials: { accessKeyId: "AKIA\nX", secretAccessKey: "s" } }), InvalidInputError);
  });
});
