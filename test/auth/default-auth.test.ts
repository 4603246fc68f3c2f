/**
 * A pasted token (`tokenAuth`, `CERBERUS_TOKEN`) and the default chain (`CERBERUS_AUTH`), over
 * the in-memory stack.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultAuth } from "../../src/auth/default-auth.ts";
import { tokenAuth } from "../../src/auth/token-auth.ts";
import { AuthenticationError, CerberusApiError, InvalidInputError } from "../../src/errors.ts";
import { createWorld, logged, rejection, sentTokens } from "../support.ts";
import { listKeys, readSecret } from "../../src/api/secrets.ts";

/** A token the stack issued, obtained by a KMS-auth client of the same world. */
async function issuedToken(world: ReturnType<typeof createWorld>): Promise<string> {
  await world.client.whoami();
  await listKeys(world.client, "app/demo/");
  return sentTokens(world.sent)[0]!;
}

describe("a pasted token", () => {
  it("tokenAuth(token): reads with it and makes no AWS call", async () => {
    const world = createWorld();
    const token = await issuedToken(world);
    world.stack.requests.clear();
    const { client, sent } = world.connect({ provider: tokenAuth(token) });
    assert.deepEqual(await readSecret(client, world.defaults.secretPath), world.defaults.secret);
    assert.deepEqual(sentTokens(sent), [token]);
    assert.equal(logged(world.stack, "kms") + logged(world.stack, "sts") + logged(world.stack, "imds"), 0);
    const me = await client.whoami();
    assert.equal(me.method, "token");
    assert.ok(!JSON.stringify(me).includes(token));
    assert.equal(me.metadata.sdbs, "app/demo/", "what Cerberus tells: the SDBs the token reaches");
    assert.equal(logged(world.stack, "kms") + logged(world.stack, "sts") + logged(world.stack, "imds"), 0);
  });

  it("whoami asks Cerberus about a pasted token: a refused one is a 401, not a made-up identity", async () => {
    const world = createWorld();
    const { client } = world.connect({ provider: tokenAuth("not-a-token-the-stack-issued") });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof CerberusApiError);
    assert.equal(error.status, 401);
    assert.match(error.message, /^checking the pasted token: Cerberus answered HTTP 401/);
    assert.equal(error.step, "token");
  });

  it("CERBERUS_TOKEN through the default chain, with no AWS call", async () => {
    const world = createWorld();
    const token = await issuedToken(world);
    world.stack.requests.clear();
    const { client } = world.connect({ provider: defaultAuth(), env: { CERBERUS_TOKEN: token } });
    assert.deepEqual(await readSecret(client, world.defaults.secretPath), world.defaults.secret);
    assert.equal((await client.whoami()).method, "token");
    assert.equal(logged(world.stack, "kms") + logged(world.stack, "sts") + logged(world.stack, "imds"), 0);
  });

  it("a token with CR/LF or spaces is refused, naming where it came from but not the value", async () => {
    assert.throws(
      () => tokenAuth("tok\r\nX-Evil: 1"),
      (e: unknown) => e instanceof InvalidInputError && !e.message.includes("Evil"),
    );
    const world = createWorld();
    const { client, sent } = world.connect({ provider: tokenAuth(), env: { CERBERUS_TOKEN: "abc def\nghi" } });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "CERBERUS_TOKEN");
    assert.ok(!error.message.includes("ghi"));
    assert.equal(sent.length, 0);
  });

  it("CERBERUS_TOKEN unset for CERBERUS_AUTH=token: an InvalidInputError", async () => {
    const world = createWorld();
    const { client } = world.connect({ provider: defaultAuth(), env: { CERBERUS_AUTH: "token" } });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "CERBERUS_TOKEN");
  });

  it("a revoked pasted token is a 401 for the caller", async () => {
    const world = createWorld();
    const { client } = world.connect({ provider: tokenAuth("not-a-token-the-stack-issued") });
    const error = await rejection(readSecret(client, world.defaults.secretPath));
    assert.ok(error instanceof CerberusApiError);
    assert.equal(error.status, 401);
  });
});

describe("the default chain (CERBERUS_AUTH)", () => {
  const keysOf = (world: ReturnType<typeof createWorld>) => {
    const k = world.stack.seed.roleCredentials(world.defaults.roles.app.arn);
    return {
      AWS_ACCESS_KEY_ID: k.accessKeyId,
      AWS_SECRET_ACCESS_KEY: k.secretAccessKey,
      AWS_SESSION_TOKEN: k.sessionToken,
    };
  };

  for (const [value, method] of [["kms", "kms"], ["kms-v1", "kms-v1"], ["KMS", "kms"]] as const) {
    it(`CERBERUS_AUTH=${value} uses ${method}`, async () => {
      const world = createWorld();
      const { client } = world.connect({ provider: defaultAuth(), env: { CERBERUS_AUTH: value } });
      assert.equal((await client.whoami()).method, method);
    });
  }

  it("CERBERUS_AUTH=sts uses STS with the host's keys", async () => {
    const world = createWorld();
    const { client } = world.connect({ provider: defaultAuth(), env: { CERBERUS_AUTH: "sts", ...keysOf(world) } });
    assert.equal((await client.whoami()).method, "sts");
  });

  it("CERBERUS_AUTH=user logs in with CERBERUS_USERNAME and CERBERUS_PASSWORD", async () => {
    const world = createWorld();
    const { username, password } = world.defaults.user;
    const { client, sent } = world.connect({
      provider: defaultAuth(),
      env: { CERBERUS_AUTH: "user", CERBERUS_USERNAME: username, CERBERUS_PASSWORD: password, ...keysOf(world) },
    });
    const me = await client.whoami();
    assert.deepEqual([me.method, me.principal], ["user", username]);
    assert.deepEqual(await readSecret(client, world.defaults.secretPath), world.defaults.secret);
    assert.ok(!sent.some((s) => s.url.pathname.startsWith("/v2/auth/sts") || s.url.hostname.startsWith("kms")));
    for (const missing of ["CERBERUS_USERNAME", "CERBERUS_PASSWORD"]) {
      const other = world.connect({
        provider: defaultAuth(),
        env: { CERBERUS_AUTH: "user", CERBERUS_USERNAME: username, CERBERUS_PASSWORD: password, [missing]: undefined },
      });
      const error = await rejection(other.client.whoami());
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.equal(error.field, missing);
      assert.ok(!error.message.includes(password));
      assert.equal(other.sent.length, 0);
    }
  });

  it("an unknown CERBERUS_AUTH is an InvalidInputError naming it", async () => {
    const world = createWorld();
    const { client, sent } = world.connect({ provider: defaultAuth(), env: { CERBERUS_AUTH: "ldap" } });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "CERBERUS_AUTH");
    assert.equal(sent.length, 0);
  });

  it("auto with AWS keys: STS", async () => {
    const world = createWorld();
    const { client } = world.connect({ provider: defaultAuth(), env: keysOf(world) });
    assert.equal((await client.whoami()).method, "sts");
  });

  it("auto on EC2 with nothing else: STS with the instance role's credentials", async () => {
    const world = createWorld();
    world.stack.seed.instance({ roles: [world.defaults.roles.app] });
    const { client } = world.connect({ provider: defaultAuth() });
    const me = await client.whoami();
    assert.equal(me.method, "sts");
    assert.match(me.principal, /assumed-role\/app-role\//);
  });

  it("auto with no credentials anywhere (no metadata): KMS, which then needs instance metadata", async () => {
    const world = createWorld();
    const { client } = world.connect({ provider: defaultAuth(), env: { AWS_EC2_METADATA_DISABLED: "true" } });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.match(error.message, /disabled by AWS_EC2_METADATA_DISABLED/);
  });

  it("auto moves on when STS auth is not enabled (404), to KMS", async () => {
    const world = createWorld();
    world.stack.faults.inject("cerberus", { kind: "cerberus-error", code: 99996 }, { path: "/v2/auth/sts-identity" });
    const { client } = world.connect({ provider: defaultAuth(), env: keysOf(world) });
    assert.equal((await client.whoami()).method, "kms");
  });

  it("auto does not move on after a refusal: wrong keys are an answer", async () => {
    const world = createWorld();
    const keys = { ...keysOf(world), AWS_SECRET_ACCESS_KEY: "wrong-secret-0123456789" };
    const { client, sent } = world.connect({ provider: defaultAuth(), env: keys });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof AuthenticationError);
    assert.equal(
      sent.filter((s) => s.url.pathname.startsWith("/v2/auth/iam-principal")).length,
      0,
      "no KMS auth tried",
    );
  });
});
