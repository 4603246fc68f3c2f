import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createInstanceMetadataClient, type InstanceMetadataOptions } from "../src/aws/imds.ts";
import { MetadataError } from "../src/errors.ts";
import type { CerberusEvent } from "../src/events.ts";
import { FakeClock } from "./helpers/fake-clock.ts";
import { FakeWorld } from "./helpers/fake-world.ts";
import { rejection } from "./helpers/setup.ts";

function imds(env: Record<string, string> = {}, extra: Partial<InstanceMetadataOptions> = {}) {
  const world = new FakeWorld();
  world.addRole("app-role");
  const clock = new FakeClock();
  const events: CerberusEvent[] = [];
  const client = createInstanceMetadataClient({
    transport: world.transport,
    clock,
    env: (name) => env[name],
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return { world, clock, client, events };
}

describe("instance metadata: IMDSv2", () => {
  test("takes one session token with the TTL header and reuses it", async () => {
    const { world, client } = imds();
    await client.identityDocument();
    await client.iamInfo();
    await client.roleNames();
    const puts = world.seen.filter((s) => s.method === "PUT");
    assert.equal(puts.length, 1);
    assert.equal(puts[0]!.headers.get("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
    for (const get of world.seen.filter((s) => s.method === "GET")) {
      assert.equal(get.headers.get("x-aws-ec2-metadata-token"), "imds-token-1");
    }
  });

  test("renews the session token near the end of its TTL", async () => {
    const { world, clock, client } = imds();
    await client.roleNames();
    clock.set(clock.now() + 21600_000 - 30_000);
    await client.roleNames();
    assert.equal(world.count("imds", "PUT"), 2);
  });

  test("takes a new session token once when a GET answers 401", async () => {
    const { world, client } = imds();
    await client.roleNames();
    world.imdsTokens.clear();
    assert.deepEqual(await client.roleNames(), ["app-role"]);
    assert.equal(world.count("imds", "PUT"), 2);
  });

  test("reads and validates each document", async () => {
    const { client } = imds();
    assert.deepEqual(await client.identityDocument(), { accountId: "111122223333", region: "us-west-2", instanceId: "i-0abc" });
    assert.deepEqual(await client.iamInfo(), { instanceProfileArn: "arn:aws:iam::111122223333:instance-profile/app-profile", instanceProfileId: "AIPA" });
    assert.deepEqual(await client.roleNames(), ["app-role"]);
    const creds = await client.roleCredentials("app-role");
    assert.equal(creds.accessKeyId, "ASIAAPPROLEXXXXXXXXX");
    assert.equal(creds.secretAccessKey, "secret-of-app-role");
    assert.equal(creds.sessionToken, "session-of-app-role");
    assert.equal(creds.expiration?.toISOString(), "2026-11-29T18:00:00.000Z");
  });

  test("rejects malformed documents with the field named and no value echoed", async () => {
    const { world, client } = imds();
    world.accountId = "not-an-account";
    const e1 = await rejection(client.identityDocument());
    assert.ok(e1 instanceof MetadataError);
    assert.match(e1.message, /instance identity document .* invalid: accountId: accountId is not 12 digits/);
    world.override("imds:GET /latest/meta-data/iam/security-credentials/app-role", new Response(JSON.stringify({ Code: "Success", AccessKeyId: 42, SecretAccessKey: "leak-me" })));
    const e2 = await rejection(client.roleCredentials("app-role"));
    assert.match(String((e2 as Error).message), /AccessKeyId: expected string, got a number/);
    assert.ok(!String((e2 as Error).message).includes("leak-me"));
    world.override("imds:GET /latest/meta-data/iam/info", new Response("<html>"));
    assert.match(String(((await rejection(client.iamInfo())) as Error).message), /not JSON/);
    world.override("imds:GET /latest/meta-data/iam/security-credentials/", new Response("good\nbad role name!\n"));
    assert.match(String(((await rejection(client.roleNames())) as Error).message), /malformed role name/);
    world.override("imds:GET /latest/meta-data/iam/security-credentials/", new Response("\n"));
    assert.match(String(((await rejection(client.roleNames())) as Error).message), /no IAM role/);
  });

  test("a role name that would change the path is refused before any request", async () => {
    const { world, client } = imds();
    await rejection(client.roleCredentials("../../user-data"));
    assert.equal(world.seen.length, 0);
  });

  test("a missing instance profile is a 404 MetadataError", async () => {
    const { world, client } = imds();
    world.override("imds:GET /latest/meta-data/iam/info", new Response("", { status: 404 }));
    const error = await rejection(client.iamInfo());
    assert.ok(error instanceof MetadataError);
    assert.equal(error.status, 404);
  });
});

describe("instance metadata: IMDSv1 fallback", () => {
  for (const status of [403, 404, 405]) {
    test(`falls back to IMDSv1 when the token PUT answers ${status}`, async () => {
      const { world, client, events } = imds();
      world.override("imds:PUT /latest/api/token", new Response("", { status }));
      assert.deepEqual(await client.roleNames(), ["app-role"]);
      const get = world.seen.find((s) => s.method === "GET")!;
      assert.equal(get.headers.get("x-aws-ec2-metadata-token"), null);
      assert.ok(events.some((e) => e.type === "metadata.fallback-v1"));
      // Remembered: the next read goes straight to v1.
      await client.roleNames();
      assert.equal(world.count("imds", "PUT"), 1);
    });
  }

  test("falls back on a token timeout after 1 s of the injected clock", async () => {
    const { world, clock, client } = imds();
    world.override("imds:PUT /latest/api/token", "timeout");
    const pending = client.roleNames();
    await clock.advance(999);
    assert.equal(world.count("imds", "GET"), 0);
    await clock.advance(1);
    assert.deepEqual(await pending, ["app-role"]);
  });

  test("does not fall back on 400", async () => {
    const { world, client } = imds();
    world.override("imds:PUT /latest/api/token", new Response("", { status: 400 }));
    const error = await rejection(client.roleNames());
    assert.ok(error instanceof MetadataError);
    assert.match(error.message, /HTTP 400/);
    assert.equal(world.count("imds", "GET"), 0);
  });

  test("AWS_EC2_METADATA_V1_DISABLED refuses the fallback", async () => {
    const { world, client } = imds({ AWS_EC2_METADATA_V1_DISABLED: "true" });
    world.override("imds:PUT /latest/api/token", new Response("", { status: 403 }));
    const error = await rejection(client.roleNames());
    assert.match((error as Error).message, /IMDSv1 is disabled/);
    assert.equal(world.count("imds", "GET"), 0);
  });

  test("a GET timing out is a timeout error after 1 s", async () => {
    const { world, clock, client } = imds();
    world.override("imds:GET /latest/meta-data/iam/info", "timeout");
    const pending = rejection(client.iamInfo());
    await clock.advance(1000);
    const error = await pending;
    assert.equal((error as { code?: string }).code, "TIMEOUT");
  });
});

describe("instance metadata: settings", () => {
  test("AWS_EC2_METADATA_SERVICE_ENDPOINT moves every request", async () => {
    const { world, client } = imds({ AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9/" });
    await rejection(client.roleNames());
    assert.equal(world.seen[0]!.host, "127.0.0.1:9");
  });

  test("IPv6 endpoint mode", async () => {
    const { world, client } = imds({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" });
    await rejection(client.roleNames());
    assert.equal(world.seen[0]!.host, "[fd00:ec2::254]");
  });

  test("AWS_EC2_METADATA_DISABLED stops all requests", async () => {
    const { world, client } = imds({ AWS_EC2_METADATA_DISABLED: "true" });
    const error = await rejection(client.roleNames());
    assert.match((error as Error).message, /disabled by AWS_EC2_METADATA_DISABLED/);
    assert.equal(world.seen.length, 0);
  });

  test("explicit endpoint and TTL options win", async () => {
    const { world, client } = imds({}, { endpoint: "http://169.254.169.254", tokenTtlSeconds: 60 });
    await client.roleNames();
    assert.equal(world.seen[0]!.headers.get("x-aws-ec2-metadata-token-ttl-seconds"), "60");
  });
});
