/**
 * KMS auth on a host that is neither EC2 nor ECS: the principal comes from a signed STS
 * GetCallerIdentity call with the host's keys, unless it is named.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { callerPrincipal } from "../../src/aws/caller-identity.ts";
import { AuthenticationError, InvalidInputError } from "../../src/errors.ts";
import { createWorld, logged, rejection } from "../support.ts";
import { readSecret } from "../../src/api/secrets.ts";

function keys(world: ReturnType<typeof createWorld>, arn: string) {
  const k = world.stack.seed.roleCredentials(arn);
  return {
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ACCESS_KEY_ID: k.accessKeyId,
    AWS_SECRET_ACCESS_KEY: k.secretAccessKey,
    AWS_SESSION_TOKEN: k.sessionToken,
  };
}

describe("KMS auth on any host", () => {
  it("no metadata, only environment keys: the principal comes from GetCallerIdentity (assumed role → role)", async () => {
    const world = createWorld();
    const { client, events } = world.connect({ env: keys(world, world.defaults.roles.app.arn) });
    assert.deepEqual(await readSecret(client, world.defaults.secretPath), world.defaults.secret);
    assert.equal((await client.whoami()).principal, world.defaults.roles.app.arn);
    assert.equal(logged(world.stack, "sts", "POST"), 1, "one GetCallerIdentity");
    assert.equal(logged(world.stack, "imds"), 0);
    const tried = events.filter((e) => e.type === "auth.attempt").map((e) => (e as { principal: string }).principal);
    assert.deepEqual(tried, [world.defaults.roles.app.arn]);
  });

  it("CERBERUS_PRINCIPAL_ARN names the principal: no STS call", async () => {
    const world = createWorld();
    const env = { ...keys(world, world.defaults.roles.app.arn), CERBERUS_PRINCIPAL_ARN: world.defaults.roles.app.arn };
    const { client } = world.connect({ env });
    assert.equal((await client.whoami()).principal, world.defaults.roles.app.arn);
    assert.equal(logged(world.stack, "sts"), 0);
  });

  it("a malformed CERBERUS_PRINCIPAL_ARN is an InvalidInputError naming it", async () => {
    const world = createWorld();
    const { client } = world.connect({ env: { CERBERUS_PRINCIPAL_ARN: "arn:aws:iam::1:group/x" } });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "CERBERUS_PRINCIPAL_ARN");
  });

  it("a role with an IAM path cannot be known from STS: the refusal says so", async () => {
    const world = createWorld();
    const role = world.stack.seed.role({ name: "pathed", path: "team-b/" });
    world.stack.seed.sdb({ name: "pathed", iamPrincipals: { [role.arn]: "read" }, secrets: { s: { a: "1" } } });
    const { client } = world.connect({ env: keys(world, role.arn) });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.match(error.message, /arn:aws:iam::111122223333:role\/pathed in us-west-2/);
    assert.match(error.message, /does not tell a role's IAM path: if the role has one, set CERBERUS_PRINCIPAL_ARN/);
  });

  it("callerPrincipal keeps an IAM user's ARN as it is", async () => {
    const world = createWorld();
    const user = world.stack.seed.iamUser("ci-bot");
    const env = (name: string) => ({ AWS_REGION: "us-west-2", AWS_ENDPOINT_URL_STS: world.stack.sts })[name];
    const http = { transport: world.stack.transport, clock: world.clock };
    assert.equal(await callerPrincipal(http, env, user.credentials), user.arn);
  });

  it("no region for the STS call: an InvalidInputError naming AWS_REGION", async () => {
    const world = createWorld();
    const user = world.stack.seed.iamUser("ci-bot-2");
    const http = { transport: world.stack.transport, clock: world.clock };
    const error = await callerPrincipal(http, () => undefined, user.credentials).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "AWS_REGION");
  });
});
