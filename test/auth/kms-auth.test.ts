/** KMS authentication over the in-memory stack: discovery, candidates, regions, credentials, bad answers. */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, test } from "node:test";
import { kmsAuth } from "../../src/auth/kms-auth.ts";
import { sealCredentials } from "../../src/aws/credentials.ts";
import { createInstanceMetadata } from "../../src/aws/imds.ts";
import { createCerberusClient } from "../../src/client/client.ts";
import {
  AbortedError,
  AuthenticationError,
  AwsError,
  CerberusApiError,
  InvalidInputError,
  PayloadError,
  TransportError,
  UnexpectedAnswerError,
} from "../../src/errors.ts";
import {
  authBodies,
  base64,
  createWorld,
  logged,
  onlyAppRole,
  rejection,
  type Sent,
  sentTokens,
  testRuntime,
  type World,
} from "../support.ts";
import { readSecret } from "../../src/api/secrets.ts";

const ACCOUNT = "111122223333";
const arn = (path: string) => `arn:aws:iam::${ACCOUNT}:role/${path}`;
const APP = arn("app-role");
const CONFIG = "app/demo/config";
const kmsJson = { "content-type": "application/x-amz-json-1.1" };

/** The KMS requests the client sent, by host. */
const kmsHosts = (sent: Sent[]) => sent.filter((s) => s.url.host.startsWith("kms.")).map((s) => s.url.host);

/** Makes KMS answer `plaintext` (as if it decrypted it) to the next Decrypt. */
function decryptsTo(world: Pick<World, "stack">, plaintext: string | Uint8Array): void {
  world.stack.faults.inject("kms", {
    kind: "body",
    body: JSON.stringify({ KeyId: "arn:aws:kms:us-west-2:999988887777:key/k", Plaintext: base64(plaintext) }),
    headers: kmsJson,
  });
}

/** A second registered role with no instance profile path: the instance then has two principals, both on the SDB. */
function twoRegisteredRoles(world: World): string {
  const web = world.stack.seed.role({ name: "web-role", accountId: ACCOUNT });
  world.stack.seed.sdb({ name: "web", iamPrincipals: { [web.arn]: "read" } });
  world.stack.seed.instance({ roles: [web, world.defaults.roles.app], profilePath: "/" });
  return web.arn;
}

describe("KMS auth v2, the EC2 sequence", () => {
  test("discovers account and roles, skips the unregistered ones, decrypts with the winning role's credentials", async () => {
    const world = createWorld({ env: { AWS_REGION: undefined } });
    const { client, sent, stack, events, defaults } = world;
    assert.deepEqual(await readSecret(client, CONFIG), defaults.secret);
    assert.deepEqual(authBodies(sent), [
      { iam_principal_arn: arn("team-a/base-role"), region: "us-west-2" },
      { iam_principal_arn: arn("base-role"), region: "us-west-2" },
      { iam_principal_arn: arn("team-a/app-role"), region: "us-west-2" },
      { iam_principal_arn: APP, region: "us-west-2" },
    ]);
    const decrypt = sent.find((s) => s.url.host.startsWith("kms."))!;
    assert.equal(decrypt.url.href, "https://kms.us-west-2.amazonaws.com/");
    assert.match(
      decrypt.headers.get("authorization")!,
      /^AWS4-HMAC-SHA256 Credential=ASIA\w+\/\d{8}\/us-west-2\/kms\/aws4_request, /,
    );
    assert.match(decrypt.headers.get("x-amz-security-token")!, /^[\x21-\x7e]+$/);
    assert.equal(decrypt.headers.get("x-amz-target"), "TrentService.Decrypt");
    assert.equal(decrypt.headers.get("content-type"), "application/x-amz-json-1.1");
    // KMS decrypts only for the key's principal: a 200 means the app role's credentials signed it.
    assert.deepEqual(stack.requests.entries("kms").map((e) => e.status), [200]);
    const imds = stack.requests.entries("imds").map((e) => `${e.method} ${e.path}`);
    assert.equal(imds.filter((r) => r === "PUT /latest/api/token").length, 1, "one IMDSv2 session for the whole flow");
    assert.deepEqual(imds.filter((r) => r.includes("/security-credentials/") && !r.endsWith("/")), [
      "GET /latest/meta-data/iam/security-credentials/app-role",
    ]);
    assert.ok(imds.includes("GET /latest/dynamic/instance-identity/document"));
    assert.deepEqual(
      events.map((e) => e.type).filter((t) => /^(metadata|auth|kms)\./.test(t)),
      [
        "metadata.account",
        "metadata.roles",
        "auth.region",
        ...Array(3).fill(["auth.attempt", "auth.failure"]).flat(),
        "auth.attempt",
        "auth.payload",
        "kms.decrypt",
        "auth.success",
      ],
    );
    assert.deepEqual(events.find((e) => e.type === "metadata.account"), {
      type: "metadata.account",
      accountId: ACCOUNT,
      source: "iam-info",
    });
    assert.deepEqual(events.find((e) => e.type === "auth.region"), {
      type: "auth.region",
      region: "us-west-2",
      source: "identity-document",
    });
    const success = events.find((e) => e.type === "auth.success");
    assert.ok(success?.type === "auth.success" && success.principal === APP && success.method === "kms");
    const [token] = sentTokens(sent);
    assert.ok(!JSON.stringify(events).includes(token!), "no event carries the token");
  });

  test("tries the instance profile's path first, then the plain role ARN", async () => {
    const world = createWorld();
    const pathRole = world.stack.seed.role({ name: "path-role", accountId: ACCOUNT, path: "team-a/" });
    world.stack.seed.sdb({ name: "pathy", iamPrincipals: { [pathRole.arn]: "read" } });
    world.stack.seed.instance({ roles: [world.defaults.roles.unregistered, pathRole] });
    const info = await world.client.whoami();
    assert.equal(info.principal, arn("team-a/path-role"));
    assert.deepEqual(authBodies(world.sent).map((b) => b.iam_principal_arn), [
      arn("team-a/base-role"),
      arn("base-role"),
      arn("team-a/path-role"),
    ]);
  });

  test("falls back to the plain ARN when the path variant is not registered", async () => {
    const world = createWorld();
    world.stack.seed.instance({ profilePath: "/team-a/sub/" });
    const info = await world.client.whoami();
    assert.equal(info.principal, APP);
    assert.deepEqual(authBodies(world.sent).map((b) => b.iam_principal_arn).slice(-2), [
      arn("team-a/sub/app-role"),
      APP,
    ]);
  });

  test("a role whose decrypt is denied is skipped for the next one", async () => {
    const world = createWorld();
    const web = twoRegisteredRoles(world);
    world.stack.faults.inject("kms", { kind: "kms-error", type: "AccessDeniedException" });
    const info = await world.client.whoami();
    assert.equal(info.principal, APP);
    assert.deepEqual(authBodies(world.sent).map((b) => b.iam_principal_arn), [web, APP]);
    assert.deepEqual(world.stack.requests.entries("kms").map((e) => e.status), [400, 200]);
  });

  test("when every principal fails, one error lists each with its reason", async () => {
    const { client, stack } = createWorld();
    stack.faults.inject("kms", { kind: "kms-error", type: "AccessDeniedException" });
    const error = await rejection(readSecret(client, CONFIG));
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, "AUTH_FAILED");
    assert.equal(error.step, "cerberus-auth");
    assert.deepEqual(error.attempts.map((a) => a.principal), [
      arn("team-a/base-role"),
      arn("base-role"),
      arn("team-a/app-role"),
      APP,
    ]);
    assert.match(error.message, /^KMS authentication failed for every principal \(4 tried in us-west-2\):/);
    assert.match(
      error.message,
      /\n {2}- arn:aws:iam::111122223333:role\/base-role in us-west-2: Cerberus HTTP 400: 99216 /,
    );
    assert.match(
      error.message,
      /\n {2}- arn:aws:iam::111122223333:role\/app-role in us-west-2: KMS AccessDeniedException \(HTTP 400\)$/,
    );
    assert.ok(error.attempts[0]!.error instanceof CerberusApiError);
    const last = error.attempts[3]!.error;
    assert.ok(last instanceof AwsError);
    assert.equal(last.code, "AWS_ERROR");
    assert.equal(last.service, "kms");
    assert.equal(last.awsType, "AccessDeniedException");
    assert.equal(last.status, 400);
    assert.equal(last.retryable, false);
    assert.equal(logged(stack, "kms"), 1, "AccessDenied is not retried");
  });

  test("a Cerberus that cannot be reached fails once, with the host, not once per role; the next call tries again", async () => {
    const { client, stack, clock } = createWorld();
    // Three attempts of the first principal's request (the back-off runs on the injected clock).
    stack.faults.inject("cerberus", { kind: "reset" }, { method: "POST", path: "/v2/auth/", times: 3 });
    const error = await clock.settle(rejection(client.whoami()));
    assert.ok(error instanceof TransportError, String(error));
    assert.equal(error.step, "cerberus-auth");
    assert.equal(error.message, `request to ${new URL(stack.cerberus).host} failed: ECONNRESET`);
    assert.equal(logged(stack, "cerberus", "POST", "/v2/auth/iam-principal"), 3, "one principal, not four");
    assert.equal((await client.whoami()).principal, APP);
  });

  test("a connection reset on the auth request is retried once", async () => {
    const world = createWorld();
    onlyAppRole(world);
    world.stack.faults.inject("cerberus", { kind: "reset" }, { method: "POST", path: "/v2/auth/" });
    assert.equal((await world.clock.settle(world.client.whoami())).principal, APP);
    assert.deepEqual(world.stack.requests.entries("cerberus").map((e) => e.status), [0, 200]);
  });

  test("an auth request that times out is not retried", async () => {
    const world = createWorld({ client: { timeoutMs: 1_000 } });
    onlyAppRole(world);
    world.stack.faults.inject("cerberus", { kind: "hang" }, { method: "POST", path: "/v2/auth/" });
    const error = await world.clock.settle(rejection(world.client.whoami()));
    assert.ok(error instanceof TransportError, String(error));
    assert.equal(error.code, "TIMEOUT");
    assert.match(error.message, /did not answer within 1000 ms/);
    assert.equal(logged(world.stack, "cerberus", "POST"), 1);
  });
});

describe("KMS auth v1 (legacy)", () => {
  test("posts account id and role name to /v1/auth/iam-role", async () => {
    const { client, sent } = createWorld({ auth: { version: 1 } });
    const info = await client.whoami();
    assert.equal(info.method, "kms-v1");
    assert.equal(info.principal, APP);
    assert.ok(sent.every((s) => s.url.pathname !== "/v2/auth/iam-principal"));
    assert.deepEqual(authBodies(sent), [
      { account_id: ACCOUNT, role_name: "base-role", region: "us-west-2" },
      { account_id: ACCOUNT, role_name: "app-role", region: "us-west-2" },
    ]);
  });

  test("rejects an unknown version", () => {
    assert.throws(
      () => kmsAuth({ version: 3 as 1 }),
      (e: unknown) => e instanceof InvalidInputError && e.field === "kmsAuth.version",
    );
  });
});

describe("explicit principal and credentials (not EC2)", () => {
  test("uses the given ARN and credentials and never touches instance metadata", async () => {
    const world = createWorld();
    const credentials = world.stack.seed.roleCredentials(APP);
    const other = world.connect({ auth: { principalArn: APP, region: "us-west-2", credentials } });
    assert.equal((await other.client.whoami()).principal, APP);
    assert.deepEqual(authBodies(other.sent), [{ iam_principal_arn: APP, region: "us-west-2" }]);
    assert.equal(logged(world.stack, "imds"), 0);
    assert.match(
      other.sent.find((s) => s.url.host.startsWith("kms."))!.headers.get("authorization")!,
      new RegExp(`Credential=${credentials.accessKeyId}/`),
    );
  });

  test("takes credentials from AWS_* variables, and from a function", async () => {
    const world = createWorld();
    const credentials = world.stack.seed.roleCredentials(APP);
    const fromEnv = world.connect({
      auth: { principalArn: APP },
      env: {
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_SESSION_TOKEN: credentials.sessionToken,
      },
    });
    const info = await fromEnv.client.whoami();
    assert.equal(info.region, "us-west-2");
    assert.equal(info.principal, APP);
    let calls = 0;
    const fromFunction = world.connect({
      auth: {
        principalArn: APP,
        region: "us-west-2",
        credentials: () => {
          calls++;
          return Promise.resolve(credentials);
        },
      },
    });
    assert.equal((await fromFunction.client.whoami()).principal, APP);
    assert.equal(calls, 1);
    assert.equal(logged(world.stack, "imds"), 0);
  });

  test("without a region or credentials it says what is missing", async () => {
    const world = createWorld();
    const credentials = world.stack.seed.roleCredentials(APP);
    const noRegion = world.connect({ auth: { principalArn: APP, credentials }, env: { AWS_REGION: undefined } });
    const e1 = await rejection(noRegion.client.whoami());
    assert.ok(e1 instanceof InvalidInputError);
    assert.equal(e1.field, "kmsAuth.region");
    assert.match(e1.message, /^kmsAuth\.region: no region/);
    const noCreds = world.connect({
      auth: { principalArn: APP, region: "us-west-2" },
      env: { AWS_EC2_METADATA_DISABLED: "true" },
    });
    const e2 = await rejection(noCreds.client.whoami());
    // A missing setting fails every candidate alike, so it is reported once, as itself.
    assert.ok(e2 instanceof InvalidInputError);
    assert.equal(e2.field, "kmsAuth.credentials");
    assert.equal(e2.step, "credentials");
    assert.match(e2.message, /kmsAuth\.credentials: none given/);
    assert.equal(logged(world.stack, "kms"), 0);
    assert.equal(logged(world.stack, "imds"), 0);
  });

  test("rejects malformed ARNs and regions up front", () => {
    assert.throws(() => kmsAuth({ principalArn: "arn:aws:iam::123:group/x" }), /kmsAuth\.principalArn/);
    assert.throws(() => kmsAuth({ principalArn: "arn:aws:iam::111122223333:group/admins" }), /kmsAuth\.principalArn/);
    assert.throws(() => kmsAuth({ principalArn: 42 as never }), /kmsAuth\.principalArn/);
    assert.throws(() => kmsAuth({ region: "mars-1" }), /kmsAuth\.region/);
    assert.throws(() => kmsAuth({ fallbackRegions: ["us-east-1", "nope"] }), /kmsAuth\.fallbackRegions\[1\]/);
  });

  test("odd option types are typed errors", () => {
    assert.throws(
      () => kmsAuth({ region: 42 as unknown as string }),
      /kmsAuth\.region: "42" is not an AWS region name/,
    );
    assert.throws(() => kmsAuth(null as never), /kmsAuth options: must be an object/);
    assert.throws(
      () => kmsAuth({ fallbackRegions: "us-east-1" as never }),
      /kmsAuth\.fallbackRegions: must be an array/,
    );
    assert.throws(
      () => kmsAuth({ credentials: { accessKeyId: "", secretAccessKey: "x" } }),
      /kmsAuth\.credentials\.accessKeyId/,
    );
    assert.throws(
      () => kmsAuth({ credentials: { accessKeyId: "AKIA\u0000BAD", secretAccessKey: "x" } }),
      /kmsAuth\.credentials\.accessKeyId/,
    );
  });

  test("a kmsEndpoint that is not a string is an InvalidInputError naming it", async () => {
    // Refused when kmsAuth() is called or when the endpoint is first used: either way, named.
    const error = await rejection(
      Promise.resolve().then(() => {
        const world = createWorld({ auth: { kmsEndpoint: 1 as never } });
        onlyAppRole(world);
        return world.client.whoami();
      }),
    );
    assert.ok(error instanceof InvalidInputError, String(error));
    assert.match(error.field, /kmsEndpoint$/);
  });

  test("without principalArn, a runtime that cannot discover an AWS host is told to name one", async () => {
    const world = createWorld();
    for (const runtime of [testRuntime(world.stack.transport, false), undefined]) {
      const client = createCerberusClient({
        url: world.stack.cerberus,
        auth: kmsAuth(),
        env: world.stack.env,
        transport: world.stack.transport,
        clock: world.clock,
        runtime,
      });
      const error = await rejection(client.whoami());
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.equal(error.field, "kmsAuth.principalArn");
      assert.match(error.message, /^kmsAuth\.principalArn: is needed where the runtime cannot discover an AWS host/);
    }
    assert.equal(world.stack.requests.entries().length, 0);
  });
});

describe("credentials stay out of logs and errors", () => {
  test("a session token a header cannot carry is named, not quoted, and not in the cause chain", async () => {
    const world = createWorld();
    const other = world.connect({
      auth: {
        principalArn: APP,
        region: "us-west-2",
        credentials: () =>
          Promise.resolve({
            accessKeyId: "ASIAAPPROLEXXXXXXXXX",
            secretAccessKey: "sk",
            sessionToken: "SESSION-TOKEN-SECRET\n",
          }),
      },
    });
    const error = await rejection(other.client.whoami());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "kmsAuth.credentials().sessionToken");
    assert.match(error.message, /kmsAuth\.credentials\(\)\.sessionToken: must be a string of visible ASCII/);
    const everything = inspect(error, { depth: 20, showHidden: true });
    assert.ok(!everything.includes("SESSION-TOKEN-SECRET"), everything);
    assert.equal(logged(world.stack, "kms"), 0, "refused before signing");
  });

  test("a credentials function that throws is reported without its message", async () => {
    const world = createWorld();
    const other = world.connect({
      auth: {
        principalArn: APP,
        region: "us-west-2",
        credentials: () => Promise.reject(new Error("vault said: secret-xyz")),
      },
    });
    const error = await rejection(other.client.whoami());
    assert.ok(error instanceof AuthenticationError);
    assert.ok(!inspect(error, { depth: 20, showHidden: true }).includes("secret-xyz"));
    assert.match(error.message, /the kmsAuth\.credentials function failed unexpectedly \(Error\)/);
  });

  test("sealed credentials show no secret in inspect or JSON but stay readable", () => {
    const creds = sealCredentials({
      accessKeyId: "AKIAEXAMPLE12345",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG",
      sessionToken: "FwoGZXIvYXdzEJr",
    }, "test");
    for (
      const shown of [
        inspect(creds),
        JSON.stringify(creds),
        String(creds),
        inspect([creds], { depth: 5, showHidden: true }),
      ]
    ) {
      assert.ok(!shown.includes("wJalrXUtnFEMI"), shown);
      assert.ok(!shown.includes("FwoGZXIvYXdzEJr"), shown);
      assert.ok(!shown.includes("AKIAEXAMPLE12345"), shown);
    }
    assert.equal(creds.accessKeyId, "AKIAEXAMPLE12345");
    assert.equal(creds.secretAccessKey, "wJalrXUtnFEMI/K7MDENG");
    assert.equal(creds.sessionToken, "FwoGZXIvYXdzEJr");
  });

  test("sealing twice keeps the credentials readable, extra fields included", () => {
    const once = sealCredentials({ accessKeyId: "AKIAEXAMPLE12345", secretAccessKey: "s", sessionToken: "t" }, "test");
    const twice = sealCredentials(once, "test");
    assert.equal(twice, once);
    assert.equal(twice.accessKeyId, "AKIAEXAMPLE12345");
    assert.equal(twice.secretAccessKey, "s");
    const withArn = sealCredentials(
      { accessKeyId: "AKIAEXAMPLE12345", secretAccessKey: "s", roleArn: "arn:x" },
      "test",
    );
    assert.equal(withArn.accessKeyId, "AKIAEXAMPLE12345");
    assert.equal(withArn.roleArn, "arn:x");
  });
});

describe("region: option, environment, then the instance", () => {
  for (
    const [name, auth, env, expected, source] of [
      ["option", { region: "eu-west-1" }, { AWS_REGION: "us-east-1" }, "eu-west-1", "option"],
      ["AWS_REGION", {}, { AWS_REGION: "us-east-2", AWS_DEFAULT_REGION: "us-east-1" }, "us-east-2", "env"],
      ["AWS_DEFAULT_REGION", {}, { AWS_REGION: undefined, AWS_DEFAULT_REGION: "ap-south-1" }, "ap-south-1", "env"],
      ["identity document", {}, { AWS_REGION: undefined }, "us-west-2", "identity-document"],
    ] as const
  ) {
    test(`from the ${name}`, async () => {
      const world = createWorld({ auth, env });
      onlyAppRole(world);
      const info = await world.client.whoami();
      assert.equal(info.region, expected);
      assert.deepEqual(world.events.filter((e) => e.type === "auth.region"), [{
        type: "auth.region",
        region: expected,
        source,
      }]);
      assert.deepEqual(kmsHosts(world.sent), [`kms.${expected}.amazonaws.com`]);
      assert.equal(authBodies(world.sent)[0]!.region, expected);
      assert.equal(
        logged(world.stack, "imds", "GET", "/latest/dynamic/instance-identity/document"),
        source === "identity-document" ? 1 : 0,
      );
    });
  }

  test("a bad AWS_REGION is a typed error naming the variable", async () => {
    const { client, stack } = createWorld({ env: { AWS_REGION: "not a region" } });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "AWS_REGION");
    assert.equal(logged(stack, "cerberus"), 0);
  });

  test("no region anywhere: the identity document's failure is explained", async () => {
    const world = createWorld({ env: { AWS_REGION: undefined } });
    world.stack.faults.inject("imds", { kind: "status", status: 500 }, {
      path: "/latest/dynamic/instance-identity/document",
    });
    const error = await rejection(world.client.whoami());
    assert.ok(error instanceof AuthenticationError);
    assert.match(
      error.message,
      /needs a region: none was given, AWS_REGION is unset, and the instance identity document could not be read/,
    );
  });

  test("fallback regions are tried in turn when the first region fails", async () => {
    const { client, stack, sent, events } = createWorld({
      auth: { region: "us-west-2", fallbackRegions: ["us-east-1"] },
    });
    stack.faults.inject("cerberus", { kind: "cerberus-error", code: 99215 }, {
      method: "POST",
      path: "/v2/auth/",
      times: 4,
    });
    const info = await client.whoami();
    assert.equal(info.region, "us-east-1");
    assert.deepEqual(kmsHosts(sent), ["kms.us-east-1.amazonaws.com"]);
    assert.deepEqual(
      events.filter((e) => e.type === "auth.region"),
      [{ type: "auth.region", region: "us-west-2", source: "option" }, {
        type: "auth.region",
        region: "us-east-1",
        source: "fallback",
      }],
    );
    // Every answer in us-west-2 was the region failure (not 99216), so every principal is asked again.
    assert.equal(authBodies(sent).filter((b) => b.region === "us-west-2").length, 4);
    assert.equal(authBodies(sent).filter((b) => b.region === "us-east-1").length, 4);
  });

  test("a principal refused with 99216 is not retried in the fallback region", async () => {
    const { client, stack, sent, clock } = createWorld({
      auth: { region: "us-west-2", fallbackRegions: ["us-east-1"] },
    });
    stack.faults.inject("kms", { kind: "status", status: 500 }, { times: 3 });
    const info = await clock.settle(client.whoami());
    assert.equal(info.region, "us-east-1");
    assert.deepEqual(
      kmsHosts(sent),
      [...Array(3).fill("kms.us-west-2.amazonaws.com"), "kms.us-east-1.amazonaws.com"],
      "KMS 5xx retried up to 3 attempts",
    );
    const eastBodies = authBodies(sent).filter((b) => b.region === "us-east-1").map((b) => b.iam_principal_arn);
    assert.deepEqual(eastBodies, [APP], "the refused principals are not asked again in us-east-1");
  });
});

describe("endpoint settings", () => {
  test("AWS_ENDPOINT_URL_KMS on loopback is used as given, over plain http", async () => {
    const world = createWorld();
    onlyAppRole(world);
    const other = world.connect({ env: { AWS_ENDPOINT_URL_KMS: world.stack.env.AWS_ENDPOINT_URL_KMS } });
    assert.equal((await other.client.whoami()).principal, APP);
    assert.deepEqual(
      other.sent.filter((s) => s.method === "POST" && !s.url.pathname.startsWith("/v2/")).map((s) => s.url.href),
      [`${world.stack.kms}/`],
    );
    assert.deepEqual(world.stack.requests.entries("kms").map((e) => e.status), [200]);
  });

  test("a bad KMS endpoint fails once with InvalidInputError, not once per role", async () => {
    const world = createWorld({ env: { AWS_ENDPOINT_URL_KMS: "http://kms.example.com" } });
    twoRegisteredRoles(world);
    const error = await rejection(world.client.whoami());
    assert.ok(error instanceof InvalidInputError, String(error));
    assert.equal(error.field, "AWS_ENDPOINT_URL_KMS");
    assert.match(error.message, /plain http: is not allowed for kms\.example\.com/);
    assert.equal(logged(world.stack, "cerberus", "POST"), 1, "the second role is not tried");
    assert.equal(logged(world.stack, "kms"), 0);
  });

  test("the kmsEndpoint option is checked the same way", async () => {
    const world = createWorld({ auth: { kmsEndpoint: "ftp://kms.example.com" } });
    onlyAppRole(world);
    const error = await rejection(world.client.whoami());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "kmsEndpoint");
  });

  test("an endpoint with credentials in it is refused without echoing them", async () => {
    const { client } = createWorld({ env: { AWS_ENDPOINT_URL: "https://user:pw@kms.example/" } });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof InvalidInputError);
    assert.ok(!error.message.includes("pw@"));
    assert.match(error.message, /^AWS_ENDPOINT_URL: must not carry a user name or password/);
  });

  test("an IMDS endpoint without a scheme names the variable", async () => {
    const { client } = createWorld({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: "169.254.169.254" } });
    const error = await rejection(client.whoami());
    assert.match((error as Error).message, /AWS_EC2_METADATA_SERVICE_ENDPOINT: is not a valid URL/);
  });
});

describe("bad input from the network becomes a typed error naming the step", () => {
  /** The single app role, `prepare`d, fails; returns its attempt. */
  async function failureOf(prepare: (world: World) => void) {
    const world = createWorld();
    onlyAppRole(world);
    prepare(world);
    const error = await rejection(readSecret(world.client, CONFIG));
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal(error.attempts.length, 1);
    const everything = inspect(error, { depth: 20, showHidden: true });
    for (const s of world.sent) {
      for (const name of ["x-amz-security-token", "x-cerberus-token"]) {
        const value = s.headers.get(name);
        if (value) assert.ok(!everything.includes(value), `${name} in the error`);
      }
    }
    assert.equal(logged(world.stack, "cerberus", "GET"), 0);
    return { error, last: error.attempts[0]!, world };
  }

  test("auth_data that is not base64", async () => {
    const { last } = await failureOf(({ stack }) => {
      stack.faults.inject("cerberus", {
        kind: "body",
        body: JSON.stringify({ auth_data: "%%%not-base64%%%" }),
        headers: { "content-type": "application/json" },
      }, { method: "POST" });
    });
    assert.ok(last.error instanceof PayloadError);
    assert.equal(last.error.step, "cerberus-auth");
    assert.match(last.reason, /auth_data: auth_data is not base64/);
  });

  test("a decrypted payload that is not JSON", async () => {
    const { last } = await failureOf((world) => decryptsTo(world, "client_token=tok-secret-value"));
    assert.ok(last.error instanceof PayloadError);
    assert.equal(last.error.step, "auth-payload");
    assert.match(last.reason, /decrypted auth payload is not JSON \(29 bytes\)/);
    assert.ok(!last.reason.includes("tok-secret-value"));
  });

  test("a decrypted payload that is not UTF-8", async () => {
    const { last } = await failureOf((world) => decryptsTo(world, new Uint8Array([0xff, 0xfe, 0x00])));
    assert.match(last.reason, /not UTF-8/);
  });

  test("a payload without client_token or lease_duration", async () => {
    const a = await failureOf((world) => decryptsTo(world, JSON.stringify({ lease_duration: 3600, policies: [] })));
    assert.match(a.last.reason, /the decrypted auth payload is invalid: client_token/);
    const b = await failureOf((world) =>
      decryptsTo(world, JSON.stringify({ client_token: "tok-secret-value", lease_duration: "soon" }))
    );
    assert.match(b.last.reason, /the decrypted auth payload is invalid: lease_duration/);
    assert.ok(!b.last.reason.includes("soon"));
    assert.ok(!b.last.reason.includes("tok-secret-value"));
  });

  test("a lease_duration over a year is refused", async () => {
    const { last } = await failureOf((world) =>
      decryptsTo(world, JSON.stringify({ client_token: "tok", lease_duration: 31_536_001 }))
    );
    assert.equal(last.error.step, "auth-payload");
    assert.match(last.reason, /lease_duration: lease_duration is not a whole number of seconds from 1 to a year/);
  });

  test("a client_token a header cannot carry is refused without quoting it", async () => {
    const { error } = await failureOf((world) =>
      decryptsTo(world, JSON.stringify({ client_token: "tok\nwith-newline-secret", lease_duration: 60 }))
    );
    assert.match(error.message, /client_token: client_token is empty or has characters a header cannot carry/);
    assert.ok(!error.message.includes("with-newline-secret"));
  });

  test("an HTML error page from a WAF", async () => {
    const { last } = await failureOf(({ stack }) =>
      stack.faults.inject("cerberus", { kind: "waf" }, { method: "POST" })
    );
    assert.ok(last.error instanceof UnexpectedAnswerError);
    assert.equal(
      last.reason,
      "HTTP 403 with a text/html body that is not Cerberus JSON (a WAF or proxy in front of Cerberus?)",
    );
    assert.match(last.error.message, /not Cerberus JSON \(HTTP 403, text\/html, \d+ bytes: "<html>/);
  });

  test("a 200 with an HTML body instead of auth_data", async () => {
    const { last } = await failureOf(({ stack }) => {
      stack.faults.inject("cerberus", {
        kind: "body",
        body: "<html>portal</html>",
        headers: { "content-type": "text/html" },
      }, { method: "POST" });
    });
    assert.ok(last.error instanceof UnexpectedAnswerError);
    assert.equal(last.error.status, 200);
    assert.equal(last.error.excerpt, "<html>portal</html>");
    assert.match(last.reason, /^HTTP 200 with a text\/html body that is not Cerberus JSON/);
  });

  test("a truncated payload (metadata and policies replaced) is accepted", async () => {
    const world = createWorld();
    world.stack.seed.tokenPolicies(APP, Array.from({ length: 200 }, (_, i) => `policy-number-${i}-with-a-long-name`));
    const info = await world.client.whoami();
    assert.deepEqual(info.policies, ["_truncated"]);
    assert.deepEqual(info.metadata, { _truncated: "true" });
    assert.deepEqual(await readSecret(world.client, CONFIG), world.defaults.secret);
  });
});

describe("instance metadata, shared by the callers of one authentication", () => {
  test("one caller aborting does not fail the shared IMDS session token of the others", async () => {
    const world = createWorld();
    const imds = createInstanceMetadata(
      { transport: world.stack.transport, clock: world.clock },
      (name) => world.stack.env[name],
    );
    const controller = new AbortController();
    const impatient = rejection(imds.roleNames(controller.signal));
    const patient = imds.roleNames();
    controller.abort();
    assert.ok((await impatient) instanceof AbortedError);
    assert.deepEqual(await patient, ["base-role", "app-role"]);
    assert.equal(logged(world.stack, "imds", "PUT"), 1);
  });
});
