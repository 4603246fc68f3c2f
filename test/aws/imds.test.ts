/**
 * src/aws/imds.ts against the emulated instance metadata service: IMDSv2 sessions, the IMDSv1
 * fallback, the documents and their validation, and the AWS_EC2_METADATA_* settings.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createInstanceMetadata } from "../../src/aws/imds.ts";
import { AbortedError, AwsError, InvalidInputError, TransportError } from "../../src/errors.ts";
import type { CerberusEvent } from "../../src/events.ts";
import { rejection } from "../internal/_helpers.ts";
import { envOf, world } from "./_stack.ts";

const TOKEN_PATH = "/latest/api/token";
const CREDENTIALS = "/latest/meta-data/iam/security-credentials/";

function imds(vars: Record<string, string> = {}, options: Parameters<typeof world>[0] = {}) {
  const w = world(options);
  const events: CerberusEvent[] = [];
  const env = { AWS_EC2_METADATA_SERVICE_ENDPOINT: w.stack.imds, ...vars };
  const client = createInstanceMetadata(w.http, envOf(env), (e) => events.push(e));
  const puts = () => w.log("imds").filter((l) => l.startsWith("PUT")).length;
  const gets = () => w.seen.filter((s) => s.init.method === "GET");
  return { ...w, events, client, puts, gets };
}

describe("instance metadata: IMDSv2 sessions", () => {
  it("takes one session token, with the 6-hour TTL header, and sends it on every GET", async () => {
    const { client, seen, puts, gets } = imds();
    await client.identityDocument();
    await client.instanceProfileArn();
    await client.roleNames();
    await client.roleCredentials("app-role");
    assert.equal(puts(), 1);
    const put = seen.find((s) => s.init.method === "PUT")!;
    assert.equal(put.url.pathname, TOKEN_PATH);
    assert.equal(put.header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
    const token = gets()[0]!.header("x-aws-ec2-metadata-token");
    assert.ok(token && token.length > 20);
    assert.ok(gets().every((g) => g.header("x-aws-ec2-metadata-token") === token));
  });

  it("concurrent first reads share the one session-token request", async () => {
    const { client, puts } = imds();
    await Promise.all([client.identityDocument(), client.instanceProfileArn(), client.roleNames(), client.roleNames()]);
    assert.equal(puts(), 1);
  });

  it("renews the session token a minute before its TTL ends", async () => {
    const { clock, client, puts } = imds();
    await client.roleNames();
    clock.set(clock.now() + 21_600_000 - 60_001);
    await client.roleNames();
    assert.equal(puts(), 1);
    clock.set(clock.now() + 2);
    await client.roleNames();
    assert.equal(puts(), 2);
  });

  it("takes a new session token once when a GET answers 401", async () => {
    const { stack, client, puts, log } = imds();
    await client.roleNames();
    stack.faults.inject("imds", { kind: "status", status: 401 }, { method: "GET" });
    assert.deepEqual(await client.roleNames(), ["base-role", "app-role"]);
    assert.equal(puts(), 2);
    assert.deepEqual(log("imds").slice(-3), [
      `GET ${CREDENTIALS} 401`,
      `PUT ${TOKEN_PATH} 200`,
      `GET ${CREDENTIALS} 200`,
    ]);
  });

  it("a second 401 in a row is an error, not a loop", async () => {
    const { stack, client, puts } = imds();
    await client.roleNames();
    stack.faults.inject("imds", { kind: "status", status: 401 }, { method: "GET", times: 2 });
    const error = await rejection(client.roleNames());
    assert.ok(error instanceof AwsError);
    assert.equal(error.service, "imds");
    assert.equal(error.status, 401);
    assert.equal(puts(), 2);
  });

  it("a session-token answer that is not a header-safe token is refused", async () => {
    const { stack, client, gets } = imds();
    stack.faults.inject("imds", { kind: "body", body: "tok\r\nX-Injected: 1" }, { method: "PUT" });
    const error = await rejection(client.roleNames());
    assert.ok(error instanceof AwsError);
    assert.match(error.message, /empty or malformed session token/);
    assert.ok(!error.message.includes("X-Injected"));
    assert.equal(gets().length, 0);
  });
});

describe("instance metadata: documents", () => {
  it("reads the identity document, the instance profile, the role list and role credentials", async () => {
    const { clock, stack, client } = imds();
    assert.deepEqual(await client.identityDocument(), { accountId: "111122223333", region: "us-west-2" });
    assert.equal(await client.instanceProfileArn(), "arn:aws:iam::111122223333:instance-profile/team-a/app-profile");
    assert.deepEqual(await client.roleNames(), ["base-role", "app-role"]);
    const creds = await client.roleCredentials("app-role");
    assert.match(creds.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
    assert.ok(creds.secretAccessKey.length >= 20);
    assert.ok(creds.sessionToken && creds.sessionToken.length > 20);
    assert.equal(creds.expiration?.getTime(), clock.now() + stack.instance.credentialTtlMs);
    assert.ok(!JSON.stringify(creds).includes(creds.secretAccessKey), "sealed");
  });

  it("reads a role list with surrounding blank lines and CRLF", async () => {
    const { stack, client } = imds();
    stack.faults.inject("imds", { kind: "body", body: "\r\nfirst-role\r\n\r\nsecond.role@x\n" }, { path: CREDENTIALS });
    assert.deepEqual(await client.roleNames(), ["first-role", "second.role@x"]);
  });

  it("malformed documents are refused with the field named and no value echoed", async () => {
    const { stack, client } = imds();
    stack.faults.inject("imds", {
      kind: "body",
      body: JSON.stringify({ accountId: "not-an-account", region: "us-west-2" }),
    }, { path: "/latest/dynamic/" });
    const identity = await rejection(client.identityDocument());
    assert.ok(identity instanceof AwsError);
    assert.equal(identity.step, "metadata");
    assert.equal(
      identity.message,
      "the instance identity document from instance metadata is invalid: accountId: accountId is not 12 digits",
    );

    stack.faults.inject("imds", {
      kind: "body",
      body: JSON.stringify({ Code: "Success", AccessKeyId: 42, SecretAccessKey: "leak-me-secret" }),
    }, { path: `${CREDENTIALS}app-role` });
    const creds = await rejection(client.roleCredentials("app-role"));
    assert.ok(creds instanceof AwsError);
    assert.match(creds.message, /AccessKeyId: expected string, got a number/);
    assert.ok(!creds.message.includes("leak-me"));

    stack.faults.inject("imds", {
      kind: "body",
      body: "<html>leak-me</html>",
      headers: { "content-type": "text/html" },
    }, { path: "/latest/meta-data/iam/info" });
    const info = await rejection(client.instanceProfileArn());
    assert.match((info as Error).message, /^iam\/info from instance metadata is not JSON \(.*, 20 bytes\)$/);

    stack.faults.inject("imds", {
      kind: "body",
      body: JSON.stringify({ Code: "Success", InstanceProfileArn: "arn:aws:iam::111122223333:role/leak-me" }),
    }, { path: "/latest/meta-data/iam/info" });
    assert.match(
      ((await rejection(client.instanceProfileArn())) as Error).message,
      /InstanceProfileArn is not an instance profile ARN$/,
    );

    stack.faults.inject("imds", { kind: "body", body: "good\nbad role name!\n" }, { path: CREDENTIALS });
    assert.match(((await rejection(client.roleNames())) as Error).message, /malformed role name/);
    stack.faults.inject("imds", { kind: "body", body: "\n" }, { path: CREDENTIALS });
    assert.match(((await rejection(client.roleNames())) as Error).message, /no IAM role/);
  });

  it("a document whose Code is not Success is refused, naming the code", async () => {
    const { stack, client } = imds();
    stack.faults.inject("imds", {
      kind: "body",
      body: JSON.stringify({
        Code: "AssumeRoleUnauthorizedAccess\x1b[2J",
        AccessKeyId: "ASIAAAAAAAAAAAAAAAAA",
        SecretAccessKey: "x",
      }),
    }, { path: `${CREDENTIALS}app-role` });
    const error = await rejection(client.roleCredentials("app-role"));
    assert.ok(error instanceof AwsError);
    assert.equal(error.message, "the credentials of role app-role reports Code AssumeRoleUnauthorizedAccess [2J");
  });

  it('a role name is one path segment: it cannot reach another document (".." included)', async () => {
    const { client, seen } = imds();
    await rejection(client.roleCredentials("../../user-data"));
    await rejection(client.roleCredentials(".."));
    for (const request of seen.filter((s) => s.init.method === "GET")) {
      assert.ok(
        request.url.pathname.startsWith(CREDENTIALS) && request.url.pathname.length > CREDENTIALS.length,
        request.url.pathname,
      );
    }
  });

  it("an instance without a profile: iam/info answers 404, an AwsError with the status", async () => {
    const { stack, client } = imds();
    stack.seed.instance({ roles: [] });
    const error = await rejection(client.instanceProfileArn());
    assert.ok(error instanceof AwsError);
    assert.equal(error.status, 404);
    assert.equal(error.retryable, false);
  });
});

describe("instance metadata: the IMDSv1 fallback", () => {
  for (const status of [403, 404, 405]) {
    it(`falls back to IMDSv1 when the token PUT answers ${status}, and remembers it for 5 minutes`, async () => {
      const { clock, stack, client, events, puts, gets } = imds();
      stack.faults.inject("imds", { kind: "status", status }, { method: "PUT" });
      assert.deepEqual(await client.roleNames(), ["base-role", "app-role"]);
      assert.equal(gets()[0]!.header("x-aws-ec2-metadata-token"), undefined);
      assert.deepEqual(events.filter((e) => e.type === "metadata.fallback-v1"), [
        { type: "metadata.fallback-v1", reason: `session token request answered HTTP ${status}` },
      ]);
      await client.identityDocument();
      clock.set(clock.now() + 5 * 60_000 - 1);
      await client.roleNames();
      assert.equal(puts(), 1, "remembered: no new PUT within 5 minutes");
      clock.set(clock.now() + 1);
      await client.roleNames();
      assert.equal(puts(), 2, "after 5 minutes IMDSv2 is tried again");
      assert.ok(gets().at(-1)!.header("x-aws-ec2-metadata-token"), "and used, now that it answers");
    });
  }

  it("falls back when the token request times out after 1 s of the injected clock", async () => {
    const { clock, stack, client, gets, events } = imds();
    stack.faults.inject("imds", { kind: "hang" }, { method: "PUT" });
    let settled = false;
    const pending = client.roleNames().finally(() => (settled = true));
    await clock.advance(999);
    assert.equal(settled, false);
    assert.equal(gets().length, 0);
    await clock.advance(1);
    assert.deepEqual(await pending, ["base-role", "app-role"]);
    assert.equal(gets()[0]!.header("x-aws-ec2-metadata-token"), undefined);
    assert.equal(events.find((e) => e.type === "metadata.fallback-v1")?.type, "metadata.fallback-v1");
  });

  it("does not fall back on 400 (a bad request is not a missing IMDSv2), nor remember it", async () => {
    const { stack, client, gets, puts } = imds();
    stack.faults.inject("imds", { kind: "status", status: 400 }, { method: "PUT" });
    const error = await rejection(client.roleNames());
    assert.ok(error instanceof AwsError);
    assert.equal(error.status, 400);
    assert.match(error.message, /HTTP 400/);
    assert.equal(gets().length, 0);
    await client.roleNames();
    assert.equal(puts(), 2);
  });

  it("does not fall back on a network error", async () => {
    const { stack, client, gets } = imds();
    stack.faults.inject("imds", { kind: "reset" }, { method: "PUT" });
    const error = await rejection(client.roleNames());
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TRANSPORT_ERROR");
    assert.equal(gets().length, 0);
  });

  it("AWS_EC2_METADATA_V1_DISABLED=true refuses the fallback", async () => {
    const { stack, client, gets } = imds({ AWS_EC2_METADATA_V1_DISABLED: "TRUE" });
    stack.faults.inject("imds", { kind: "status", status: 403 }, { method: "PUT" });
    const error = await rejection(client.roleNames());
    assert.ok(error instanceof AwsError);
    assert.match(
      error.message,
      /IMDSv2 is unavailable \(session token request answered HTTP 403\) and IMDSv1 is disabled by AWS_EC2_METADATA_V1_DISABLED/,
    );
    assert.equal(gets().length, 0);
  });

  it("an instance with IMDSv1 off still works through IMDSv2", async () => {
    const { stack, client } = imds();
    stack.seed.instance({ v1Enabled: false });
    assert.deepEqual(await client.roleNames(), ["base-role", "app-role"]);
  });

  it("a GET that gets no answer is a TIMEOUT after 1 s", async () => {
    const { clock, stack, client } = imds();
    await client.roleNames();
    stack.faults.inject("imds", { kind: "hang" }, { path: "/latest/meta-data/iam/info" });
    const pending = rejection(client.instanceProfileArn());
    await clock.advance(1000);
    const error = await pending;
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TIMEOUT");
    assert.equal(error.step, "metadata");
    assert.equal(error.message, `${new URL(stack.imds).host} did not answer within 1000 ms`);
  });

  it("a caller's abort stops that read only; the shared session-token request goes on", async () => {
    const { clock, stack, client, puts } = imds();
    stack.faults.inject("imds", { kind: "latency", ms: 500 }, { method: "PUT" });
    const controller = new AbortController();
    const quitter = rejection(client.roleNames(controller.signal));
    const patient = client.identityDocument();
    await clock.advance(100);
    controller.abort();
    assert.ok((await quitter) instanceof AbortedError);
    assert.deepEqual(await clock.settle(patient, 100), { accountId: "111122223333", region: "us-west-2" });
    assert.equal(puts(), 1);
  });
});

describe("instance metadata: settings", () => {
  it("AWS_EC2_METADATA_SERVICE_ENDPOINT moves every request (and a trailing slash is fine)", async () => {
    const { client, seen } = imds({ AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9/" });
    const error = await rejection(client.roleNames());
    assert.ok(error instanceof TransportError);
    assert.equal(error.message, "request to 127.0.0.1:9 failed: ENOTFOUND");
    assert.equal(seen[0]!.url.href, "http://127.0.0.1:9/latest/api/token");
  });

  it("by default: http://169.254.169.254", async () => {
    const { client, seen } = imds({ AWS_EC2_METADATA_SERVICE_ENDPOINT: "" }, { routeAwsHostnames: true });
    assert.deepEqual(await client.identityDocument(), { accountId: "111122223333", region: "us-west-2" });
    assert.ok(seen.every((s) => s.url.origin === "http://169.254.169.254"));
  });

  it("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6: http://[fd00:ec2::254]", async () => {
    const { client, seen } = imds({
      AWS_EC2_METADATA_SERVICE_ENDPOINT: "",
      AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6",
    }, { routeAwsHostnames: true });
    assert.deepEqual(await client.roleNames(), ["base-role", "app-role"]);
    assert.ok(seen.every((s) => s.url.host === "[fd00:ec2::254]"));
  });

  it("an endpoint with a password or a query is refused, without echoing it", async () => {
    for (const endpoint of ["http://user:hunter22@169.254.169.254", "http://169.254.169.254/?hunter22"]) {
      const { client, seen } = imds({ AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint });
      const error = await rejection(client.roleNames());
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.field, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
      assert.ok(!error.message.includes("hunter22"));
      assert.equal(seen.length, 0);
    }
  });

  it("AWS_EC2_METADATA_DISABLED=true stops every request", async () => {
    const { client, seen } = imds({ AWS_EC2_METADATA_DISABLED: "true" });
    for (
      const read of [
        client.roleNames(),
        client.identityDocument(),
        client.instanceProfileArn(),
        client.roleCredentials("app-role"),
      ]
    ) {
      const error = await rejection(read);
      assert.ok(error instanceof AwsError);
      assert.match(error.message, /disabled by AWS_EC2_METADATA_DISABLED/);
    }
    assert.equal(seen.length, 0);
  });
});
