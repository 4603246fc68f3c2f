import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AuthenticationError, CerberusApiError, InvalidInputError, KmsError, PayloadError } from "../src/errors.ts";
import { json } from "./helpers/fake-world.ts";
import { settle } from "./helpers/fake-clock.ts";
import { APP_ROLE_ARN, WEB_ROLE_ARN, rejection, setup } from "./helpers/setup.ts";

const enc = new TextEncoder();

function authBodies(world: ReturnType<typeof setup>["world"]): Record<string, string>[] {
  return world.seen.filter((s) => s.host === "cerberus.test" && s.path.startsWith("/v2/auth") || s.path.startsWith("/v1/auth")).map((s) => JSON.parse(s.body));
}

describe("KMS auth v2, the seed's sequence", () => {
  test("discovers account and roles, skips the unregistered role, decrypts with the winning role's credentials", async () => {
    const { world, client, events } = setup();
    assert.deepEqual(await client.readSecret("app/demo/config"), { greeting: "hello", db_password: "s3cr3t-value" });
    assert.deepEqual(authBodies(world), [
      { iam_principal_arn: WEB_ROLE_ARN, region: "us-west-2" },
      { iam_principal_arn: APP_ROLE_ARN, region: "us-west-2" },
    ]);
    const decrypt = world.seen.find((s) => s.host.startsWith("kms."))!;
    assert.equal(decrypt.host, "kms.us-west-2.amazonaws.com");
    assert.match(decrypt.headers.get("authorization")!, /Credential=ASIAAPPROLE\w+\/\d{8}\/us-west-2\/kms\/aws4_request/);
    assert.equal(decrypt.headers.get("x-amz-security-token"), "session-of-app-role");
    assert.equal(decrypt.headers.get("x-amz-target"), "TrentService.Decrypt");
    assert.equal(decrypt.headers.get("content-type"), "application/x-amz-json-1.1");
    assert.equal(world.count("imds", "PUT", "/latest/api/token"), 1, "one IMDSv2 session for the whole flow");
    const types = events.map((e) => e.type);
    assert.deepEqual(types.filter((t) => t.startsWith("metadata.") || t.startsWith("auth.") || t.startsWith("kms.")), [
      "metadata.account",
      "metadata.roles",
      "auth.region",
      "auth.attempt",
      "auth.failure",
      "auth.attempt",
      "auth.payload",
      "kms.decrypt",
      "auth.success",
    ]);
    const region = events.find((e) => e.type === "auth.region");
    assert.deepEqual(region, { type: "auth.region", region: "us-west-2", source: "identity-document" });
  });

  test("tries the instance profile's path first, then the plain role ARN", async () => {
    const { world, client } = setup();
    world.instanceProfileArn = "arn:aws:iam::111122223333:instance-profile/team-a/app-profile";
    world.principals.clear();
    world.register("arn:aws:iam::111122223333:role/team-a/app-role", world.roles.get("app-role")!.AccessKeyId, "tok-path");
    const info = await client.whoami();
    assert.equal(info.principal, "arn:aws:iam::111122223333:role/team-a/app-role");
    assert.deepEqual(authBodies(world).map((b) => b.iam_principal_arn), [
      "arn:aws:iam::111122223333:role/team-a/web-role",
      WEB_ROLE_ARN,
      "arn:aws:iam::111122223333:role/team-a/app-role",
    ]);
  });

  test("falls back to the plain ARN when the path variant is not registered", async () => {
    const { world, client } = setup();
    world.instanceProfileArn = "arn:aws:iam::111122223333:instance-profile/team-a/sub/app-profile";
    const info = await client.whoami();
    assert.equal(info.principal, APP_ROLE_ARN);
    assert.ok(authBodies(world).some((b) => b.iam_principal_arn === "arn:aws:iam::111122223333:role/team-a/sub/app-role"));
  });

  test("a role whose decrypt is denied is skipped for the next one", async () => {
    const { world, client } = setup();
    world.register(WEB_ROLE_ARN, "ASIASOMEBODYELSEXX");
    const info = await client.whoami();
    assert.equal(info.principal, APP_ROLE_ARN);
    assert.equal(world.decryptCount, 2);
  });

  test("when every principal fails, one error lists each with its reason", async () => {
    const { world, client } = setup();
    world.principals.clear();
    world.register(APP_ROLE_ARN, "ASIASOMEBODYELSEXX");
    const error = await rejection(client.readSecret("app/demo/config"));
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, "AUTH_FAILED");
    assert.equal(error.attempts.length, 2);
    assert.match(error.message, /web-role in us-west-2: Cerberus HTTP 400: 99216/);
    assert.match(error.message, /app-role in us-west-2: KMS AccessDeniedException \(HTTP 400\)/);
    assert.ok(error.attempts[0]!.error instanceof CerberusApiError);
    assert.ok(error.attempts[1]!.error instanceof KmsError);
  });

  test("a failed authentication is not cached: the next call tries again", async () => {
    const { world, client } = setup();
    // Each auth request is retried once on a connection error: two candidates, two tries each.
    world.override("cerberus:POST /v2/auth/iam-principal", "reset", "reset", "reset", "reset");
    const error = await rejection(client.whoami());
    assert.match((error as Error).message, /ECONNRESET/);
    assert.equal((await client.whoami()).principal, APP_ROLE_ARN);
  });
});

test("a connection reset on the auth request is retried once", async () => {
  const { world, client } = setup();
  world.roles.delete("web-role");
  world.override("cerberus:POST /v2/auth/iam-principal", "reset");
  assert.equal((await client.whoami()).principal, APP_ROLE_ARN);
  assert.equal(world.authCount, 1);
});

describe("KMS auth v1 (legacy)", () => {
  test("posts account id and role name to /v1/auth/iam-role", async () => {
    const { world, client } = setup({ auth: { version: 1 } });
    world.principals.clear();
    world.register("111122223333/app-role", world.roles.get("app-role")!.AccessKeyId, "tok-v1");
    const info = await client.whoami();
    assert.equal(info.method, "kms-v1");
    const bodies = world.seen.filter((s) => s.path === "/v1/auth/iam-role").map((s) => JSON.parse(s.body));
    assert.deepEqual(bodies, [
      { account_id: "111122223333", role_name: "web-role", region: "us-west-2" },
      { account_id: "111122223333", role_name: "app-role", region: "us-west-2" },
    ]);
  });

  test("rejects an unknown version", () => {
    assert.throws(() => setup({ auth: { version: 3 as 1 } }), InvalidInputError);
  });
});

describe("explicit principal and credentials (not EC2)", () => {
  test("uses the given ARN and credentials and never touches instance metadata", async () => {
    const { world, client } = setup({
      auth: { principalArn: APP_ROLE_ARN, region: "us-west-2", credentials: { accessKeyId: "ASIAAPPROLEXXXXXXXX", secretAccessKey: "x", sessionToken: "s" } },
    });
    world.principals.clear();
    world.register(APP_ROLE_ARN, "ASIAAPPROLEXXXXXXXX");
    assert.equal((await client.whoami()).principal, APP_ROLE_ARN);
    assert.equal(world.count("imds"), 0);
  });

  test("takes credentials from AWS_* variables and a function", async () => {
    const env = { AWS_ACCESS_KEY_ID: "AKIAENVKEY000000", AWS_SECRET_ACCESS_KEY: "envsecret", AWS_REGION: "us-west-2" };
    const a = setup({ auth: { principalArn: APP_ROLE_ARN }, env });
    a.world.register(APP_ROLE_ARN, "AKIAENVKEY000000");
    assert.equal((await a.client.whoami()).region, "us-west-2");
    const b = setup({ auth: { principalArn: APP_ROLE_ARN, region: "us-west-2", credentials: async () => ({ accessKeyId: "AKIAFNKEY0000000", secretAccessKey: "fn" }) } });
    b.world.register(APP_ROLE_ARN, "AKIAFNKEY0000000");
    assert.equal((await b.client.whoami()).principal, APP_ROLE_ARN);
  });

  test("without a region or credentials it says what is missing", async () => {
    const noRegion = setup({ auth: { principalArn: APP_ROLE_ARN, credentials: { accessKeyId: "AKIAX0000000000000", secretAccessKey: "x" } } });
    const e1 = await rejection(noRegion.client.whoami());
    assert.ok(e1 instanceof InvalidInputError);
    assert.match(e1.message, /kmsAuth.region: no region/);
    const noCreds = setup({ auth: { principalArn: APP_ROLE_ARN, region: "us-west-2" } });
    const e2 = await rejection(noCreds.client.whoami());
    assert.ok(e2 instanceof AuthenticationError);
    assert.match(e2.message, /credentials: none given/);
  });

  test("rejects malformed ARNs and regions up front", () => {
    assert.throws(() => setup({ auth: { principalArn: "arn:aws:iam::123:group/x" } }), /principalArn/);
    assert.throws(() => setup({ auth: { principalArn: "arn:aws:iam::111122223333:group/admins" } }), /principalArn/);
    assert.throws(() => setup({ auth: { region: "mars-1" } }), /kmsAuth.region/);
    assert.throws(() => setup({ auth: { fallbackRegions: ["us-east-1", "nope"] } }), /fallbackRegions\[1\]/);
  });
});

describe("region, per the seed's note", () => {
  for (const [name, auth, env, expected, source] of [
    ["option", { region: "eu-west-1" }, { AWS_REGION: "us-east-1" }, "eu-west-1", "option"],
    ["AWS_REGION", {}, { AWS_REGION: "us-east-2", AWS_DEFAULT_REGION: "us-east-1" }, "us-east-2", "env"],
    ["AWS_DEFAULT_REGION", {}, { AWS_DEFAULT_REGION: "ap-south-1" }, "ap-south-1", "env"],
    ["identity document", {}, {}, "us-west-2", "identity-document"],
  ] as const) {
    test(`from the ${name}`, async () => {
      const { world, client, events } = setup({ auth, env });
      world.register(APP_ROLE_ARN, world.roles.get("app-role")!.AccessKeyId);
      await client.whoami();
      assert.deepEqual(events.find((e) => e.type === "auth.region"), { type: "auth.region", region: expected, source });
      assert.ok(world.seen.some((s) => s.host === `kms.${expected}.amazonaws.com`));
      assert.equal(authBodies(world)[0]!.region, expected);
    });
  }

  test("a bad AWS_REGION is a typed error naming the variable", async () => {
    const { client } = setup({ env: { AWS_REGION: "not a region" } });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "AWS_REGION");
  });

  test("fallback regions are tried in turn when the first region fails", async () => {
    const { world, client, events } = setup({ auth: { region: "us-west-2", fallbackRegions: ["us-east-1"] } });
    const regionDown = json(400, { error_id: "x", errors: [{ code: 99215, message: "region not supported" }] });
    world.override("cerberus:POST /v2/auth/iam-principal", regionDown.clone(), regionDown.clone());
    const info = await client.whoami();
    assert.equal(info.region, "us-east-1");
    assert.ok(world.seen.some((s) => s.host === "kms.us-east-1.amazonaws.com"));
    assert.ok(events.some((e) => e.type === "auth.region" && e.source === "fallback"));
    // web-role got 99216 in us-west-2? No: both answers were the region failure, so both were retried.
    assert.equal(authBodies(world).filter((b) => b.region === "us-east-1").length, 2);
  });

  test("a principal refused with 99216 is not retried in the fallback region", async () => {
    const { world, client, clock } = setup({ auth: { region: "us-west-2", fallbackRegions: ["us-east-1"] } });
    const down = () => json(500, { __type: "KMSInternalException", message: "internal" });
    world.override("kms:us-west-2", down(), down(), down());
    const info = await settle(client.whoami(), clock);
    assert.equal(info.region, "us-east-1");
    assert.equal(world.seen.filter((s) => s.host === "kms.us-west-2.amazonaws.com").length, 3, "KMS 5xx retried up to 3 attempts");
    const webTries = authBodies(world).filter((b) => b.iam_principal_arn === WEB_ROLE_ARN);
    assert.equal(webTries.length, 1, "web-role is not registered: no point asking again in us-east-1");
  });
});

describe("bad input from the network becomes a typed error naming the step", () => {
  async function failureOf(prepare: (s: ReturnType<typeof setup>) => void) {
    const s = setup();
    s.world.principals.delete(WEB_ROLE_ARN);
    prepare(s);
    const error = await rejection(s.client.readSecret("app/demo/config"));
    assert.ok(error instanceof AuthenticationError, String(error));
    const last = error.attempts.at(-1)!;
    assert.ok(!error.message.includes("tok-app-role-secret-value"));
    assert.ok(!error.message.includes("secret-of-app-role"));
    return { error, last };
  }

  test("auth_data that is not base64", async () => {
    const { last } = await failureOf(({ world }) => {
      world.principals.get(APP_ROLE_ARN)!.cerberusAnswer = json(200, { auth_data: "%%%not-base64%%%" });
    });
    assert.ok(last.error instanceof PayloadError);
    assert.equal(last.error.step, "cerberus-auth");
    assert.match(last.reason, /auth_data is not base64/);
  });

  test("a decrypted payload that is not JSON", async () => {
    const { last } = await failureOf(({ world }) => {
      world.principals.get(APP_ROLE_ARN)!.plaintext = enc.encode("client_token=tok-app-role-secret-value");
    });
    assert.equal(last.error.step, "auth-payload");
    assert.match(last.reason, /decrypted auth payload is not JSON/);
  });

  test("a decrypted payload that is not UTF-8", async () => {
    const { last } = await failureOf(({ world }) => {
      world.principals.get(APP_ROLE_ARN)!.plaintext = new Uint8Array([0xff, 0xfe, 0x00]);
    });
    assert.match(last.reason, /not UTF-8/);
  });

  test("a payload without client_token or lease_duration", async () => {
    const a = await failureOf(({ world }) => {
      world.principals.get(APP_ROLE_ARN)!.payload = { lease_duration: 3600, policies: [] };
    });
    assert.match(a.last.reason, /client_token: missing/);
    const b = await failureOf(({ world }) => {
      world.principals.get(APP_ROLE_ARN)!.payload = { client_token: "tok-app-role-secret-value", lease_duration: "soon" };
    });
    assert.match(b.last.reason, /lease_duration: expected number, got a string/);
  });

  test("an HTML error page from a WAF", async () => {
    const { last } = await failureOf(({ world }) => {
      world.principals.get(APP_ROLE_ARN)!.cerberusAnswer = new Response("<html><body>Request blocked</body></html>", { status: 403, headers: { "content-type": "text/html" } });
    });
    assert.ok(last.error instanceof CerberusApiError);
    assert.match(last.reason, /HTTP 403/);
    assert.match(last.error.message, /non-JSON body \(text\/html, \d+ bytes; a WAF or load balancer/);
  });

  test("a 200 with an HTML body instead of auth_data", async () => {
    const { last } = await failureOf(({ world }) => {
      world.principals.get(APP_ROLE_ARN)!.cerberusAnswer = new Response("<html>portal</html>", { status: 200, headers: { "content-type": "text/html" } });
    });
    assert.match(last.reason, /expected JSON, got text\/html/);
  });

  test("a truncated payload (metadata and policies replaced) is accepted", async () => {
    const { world, client } = setup();
    world.principals.get(APP_ROLE_ARN)!.payload = { client_token: "tok-app-role-secret-value", policies: ["_truncated"], metadata: { _truncated: "true" }, lease_duration: 3600, renewable: false };
    const info = await client.whoami();
    assert.deepEqual(info.policies, ["_truncated"]);
    assert.deepEqual(info.metadata, { _truncated: "true" });
  });
});

test("a client_token a header cannot carry is refused without quoting it", async () => {
  const s = setup();
  s.world.principals.delete(WEB_ROLE_ARN);
  s.world.principals.get(APP_ROLE_ARN)!.payload = { client_token: "tok\nwith-newline-secret", lease_duration: 60 };
  const error = await rejection(s.client.readSecret("app/demo/config"));
  assert.ok(error instanceof AuthenticationError);
  assert.match(error.message, /client_token has characters a header cannot carry/);
  assert.ok(!error.message.includes("with-newline-secret"));
});
