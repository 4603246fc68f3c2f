/**
 * The emulated EC2 instance metadata service (IMDSv2 tokens, v1 switch, documents and
 * credentials) and the container credentials endpoint.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CredentialsAnswer, imdsGet, imdsToken, json, memoryStack } from "./helpers.ts";

describe("instance metadata", () => {
  it("requires the TTL header for a token and refuses forwarded requests", async () => {
    const stack = memoryStack();
    const put = (headers: Record<string, string>) =>
      stack.transport(new Request(`${stack.imds}/latest/api/token`, { method: "PUT", headers }));
    assert.equal((await put({})).status, 400);
    assert.equal((await put({ "x-aws-ec2-metadata-token-ttl-seconds": "0" })).status, 400);
    assert.equal((await put({ "x-aws-ec2-metadata-token-ttl-seconds": "21601" })).status, 400);
    assert.equal(
      (await put({ "x-aws-ec2-metadata-token-ttl-seconds": "60", "x-forwarded-for": "10.0.0.1" })).status,
      403,
    );
    const ok = await put({ "x-aws-ec2-metadata-token-ttl-seconds": "60" });
    assert.equal(ok.headers.get("x-aws-ec2-metadata-token-ttl-seconds"), "60");
    assert.equal((await stack.transport(new Request(`${stack.imds}/latest/api/token`))).status, 405);
  });

  it("expires tokens and switches IMDSv1 on and off", async () => {
    const stack = memoryStack();
    const token = await imdsToken(stack, "60");
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region", token)).status, 200);
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region")).status, 200, "v1 is enabled by default");
    stack.seed.instance({ v1Enabled: false });
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region")).status, 401);
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region", "forged")).status, 401);
    stack.clock.advance(61_000);
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region", token)).status, 401);
  });

  it("serves the identity document, profile, role listing and credentials", async () => {
    const stack = memoryStack();
    const token = await imdsToken(stack);
    assert.equal(await (await imdsGet(stack, "/latest/meta-data/placement/region", token)).text(), "us-west-2");
    assert.equal(await (await imdsGet(stack, "/latest/meta-data/instance-id", token)).text(), "i-0123456789abcdef0");
    const creds = await json<CredentialsAnswer>(
      await imdsGet(stack, "/latest/meta-data/iam/security-credentials/app-role", token),
    );
    assert.deepEqual(Object.keys(creds), [
      "Code",
      "LastUpdated",
      "Type",
      "AccessKeyId",
      "SecretAccessKey",
      "Token",
      "Expiration",
    ]);
    assert.equal(creds["Code"], "Success");
    assert.match(creds["Expiration"], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const notFound = await imdsGet(stack, "/latest/meta-data/iam/security-credentials/nope", token);
    assert.equal(notFound.status, 404);
    assert.match(notFound.headers.get("content-type") ?? "", /html/);
    stack.seed.instance({ roles: ["a-role", "b-role", "c-role"], profilePath: "ops/eu/", profileName: "x" });
    assert.equal(
      await (await imdsGet(stack, "/latest/meta-data/iam/security-credentials/", token)).text(),
      "a-role\nb-role\nc-role",
    );
    const info = await json(await imdsGet(stack, "/latest/meta-data/iam/info", token));
    assert.equal(info["InstanceProfileArn"], "arn:aws:iam::111122223333:instance-profile/ops/eu/x");
    stack.seed.instance({ roles: [] });
    assert.equal((await imdsGet(stack, "/latest/meta-data/iam/info", token)).status, 404);
  });
});

describe("container credentials endpoint", () => {
  it("checks the Authorization token", async () => {
    const stack = memoryStack();
    const container = stack.defaults.container;
    assert.equal(container.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], container.fullUri);
    const get = (headers: Record<string, string>, url = container.fullUri) =>
      stack.transport(new Request(url, { headers }));
    const ok = await get({ authorization: container.authorizationToken ?? "" });
    assert.equal(ok.status, 200);
    const body = await json<CredentialsAnswer>(ok);
    assert.equal(body["RoleArn"], stack.defaults.roles.app.arn);
    assert.match(body["AccessKeyId"], /^ASIA/);
    assert.equal((await get({})).status, 401);
    assert.equal((await get({ authorization: "wrong" })).status, 403);
    assert.equal((await get({}, `${stack.ecs}/v2/credentials/unknown`)).status, 400);
    const open = stack.seed.container(stack.defaults.roles.app.arn, { requireAuthorization: false });
    assert.equal((await get({}, open.fullUri)).status, 200);
  });
});
