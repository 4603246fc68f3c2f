import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, test } from "node:test";
import { kmsAuth } from "../src/auth/kms-auth.ts";
import { CerberusToken } from "../src/auth/token.ts";
import { sealCredentials } from "../src/aws/credentials.ts";
import { checkCerberusUrl, createClient } from "../src/client.ts";
import { CerberusApiError, InvalidInputError, PayloadError } from "../src/errors.ts";
import { encodeSecretPath } from "../src/paths.ts";
import { CLIENT_HEADER, VERSION } from "../src/version.ts";
import { FakeClock } from "./helpers/fake-clock.ts";
import { json } from "./helpers/fake-world.ts";
import { rejection, setup } from "./helpers/setup.ts";

describe("secrets: read, read a key, list", () => {
  test("reads the map and sends the token and client headers", async () => {
    const { world, client } = setup();
    assert.deepEqual(await client.readSecret("app/demo/config"), { greeting: "hello", db_password: "s3cr3t-value" });
    const read = world.seen.find((s) => s.path === "/v1/secret/app/demo/config")!;
    assert.equal(read.headers.get("x-cerberus-token"), "tok-app-role-secret-value");
    assert.equal(read.headers.get("x-cerberus-client"), `cerberus-edge/${VERSION}`);
    for (const s of world.seen.filter((x) => x.host === "cerberus.test")) assert.equal(s.headers.get("x-cerberus-client"), CLIENT_HEADER);
  });

  test("reads one key; a missing key or secret is NOT_FOUND", async () => {
    const { client } = setup();
    assert.equal(await client.readKey("app/demo/config", "greeting"), "hello");
    const missingKey = await rejection(client.readKey("app/demo/config", "nope"));
    assert.equal((missingKey as { code?: string }).code, "NOT_FOUND");
    const missingSecret = await rejection(client.readSecret("app/demo/absent"));
    assert.ok(missingSecret instanceof CerberusApiError);
    assert.equal(missingSecret.status, 404);
    assert.equal(missingSecret.code, "NOT_FOUND");
    assert.match(missingSecret.message, /HTTP 404 with an empty body/);
  });

  test("lists keys, folders end in /, an absent path lists as []", async () => {
    const { world, client } = setup();
    assert.deepEqual((await client.listKeys("app/demo/")).sort(), ["config", "nested/", "other"]);
    assert.deepEqual(await client.listKeys("app/demo/nothing-here"), []);
    assert.ok(world.seen.some((s) => s.path === "/v1/secret/app/demo/?list=true"));
  });

  test("reads a version by id", async () => {
    const { world, client } = setup();
    await client.readSecret("app/demo/config", { versionId: "0b1c2d3e-aaaa-bbbb-cccc-1234567890ab" });
    assert.ok(world.seen.some((s) => s.path === "/v1/secret/app/demo/config?versionId=0b1c2d3e-aaaa-bbbb-cccc-1234567890ab"));
    await assert.rejects(client.readSecret("app/demo/config", { versionId: "x&list=true" }), InvalidInputError);
  });

  test("segments are percent-encoded", async () => {
    const { world, client } = setup();
    world.secrets.set("app/demo/with space?#", { k: "v" });
    assert.deepEqual(await client.readSecret("app/demo/with space?#"), { k: "v" });
    assert.ok(world.seen.some((s) => s.path === "/v1/secret/app/demo/with%20space%3F%23"));
  });

  test("a malformed secret body is a PayloadError naming the path", async () => {
    const { world, client } = setup();
    world.override("cerberus:GET /v1/secret/app/demo/config", json(200, { data: ["not", "a", "map"] }));
    const error = await rejection(client.readSecret("app/demo/config"));
    assert.ok(error instanceof PayloadError);
    assert.match(error.message, /secret app\/demo\/config is invalid: data: is not a key\/value map/);
  });

  test("a redirect is reported, not followed", async () => {
    const { world, client } = setup();
    world.override("cerberus:GET /v1/secret/app/demo/config", new Response(null, { status: 302, headers: { location: "https://evil.example/steal?x=1" } }));
    const error = await rejection(client.readSecret("app/demo/config"));
    assert.ok(error instanceof CerberusApiError);
    assert.match(error.message, /redirect \(HTTP 302\) to https:\/\/evil\.example; not followed/);
    assert.ok(!world.seen.some((s) => s.host === "evil.example"));
  });
});

describe("secret paths", () => {
  test("valid paths are encoded per segment", () => {
    assert.equal(encodeSecretPath("app/demo/config", { minSegments: 3 }), "app/demo/config");
    assert.equal(encodeSecretPath("/app/demo/a b/ü", { minSegments: 3 }), "app/demo/a%20b/%C3%BC");
    assert.equal(encodeSecretPath("app/demo/", { folder: true }), "app/demo/");
  });

  for (const [path, message] of [
    ["", /is empty/],
    ["app/../etc/passwd", /contains a "\.\." segment/],
    ["app/./demo/x", /contains a "\." segment/],
    ["app//demo", /empty segment at position 2/],
    ["app/demo/x\u0000y", /control character/],
    ["app/demo/x\ny", /control character/],
    ["app\\demo\\x", /backslash/],
    ["app", /needs at least 3 segments/],
    ["app/demo/config/", /ends with "\/"/],
  ] as const) {
    test(`rejects ${JSON.stringify(path)}`, () => {
      const error = (() => {
        try {
          encodeSecretPath(path, { minSegments: 3 });
        } catch (e) {
          return e;
        }
      })();
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.field, "path");
      assert.match(error.message, message);
    });
  }

  test("non-strings are a typed error, not a TypeError", async () => {
    const { client, world } = setup();
    await assert.rejects(client.readSecret(42 as unknown as string), InvalidInputError);
    await assert.rejects(client.listKeys(null as unknown as string), InvalidInputError);
    await assert.rejects(client.readKey("app/demo/config", undefined as unknown as string), InvalidInputError);
    assert.equal(world.seen.length, 0);
  });
});

describe("client options", () => {
  test("URL rules: https, or http on loopback only", () => {
    assert.equal(checkCerberusUrl("https://cerberus.example.com").host, "cerberus.example.com");
    assert.equal(checkCerberusUrl("http://127.0.0.1:8080").port, "8080");
    assert.equal(checkCerberusUrl("http://localhost:1").hostname, "localhost");
    assert.equal(checkCerberusUrl("http://[::1]:1").hostname, "[::1]");
    assert.throws(() => checkCerberusUrl("http://cerberus.example.com"), /loopback hosts only/);
    assert.throws(() => checkCerberusUrl("http://10.0.0.1"), /loopback hosts only/);
    assert.equal(checkCerberusUrl("http://cerberus.internal", true).protocol, "http:");
    assert.throws(() => checkCerberusUrl("ftp://x"), /ftp: is not https: or http:/);
    assert.throws(() => checkCerberusUrl("https://user:pw@x"), /user name or password/);
    assert.throws(() => checkCerberusUrl("https://x/?a=1"), /query or fragment/);
    assert.throws(() => checkCerberusUrl("not a url"), /not a valid URL/);
  });

  test("bad options are typed errors naming the option", () => {
    assert.throws(() => createClient(undefined as never), /options: must be an object/);
    assert.throws(() => createClient({ url: "https://x" } as never), /options.auth/);
    assert.throws(() => createClient({ url: "https://x", auth: kmsAuth(), timeoutMs: 0 }), /options.timeoutMs/);
  });

  test("a base URL with a path prefix keeps it", async () => {
    const seen: string[] = [];
    const client = createClient({
      url: "https://gw.example/cerberus/",
      auth: { method: "fixed", authenticate: async () => new CerberusToken("t", { method: "fixed", principal: "p", policies: [], metadata: {}, leaseDurationSeconds: 60, issuedAt: new Date(), expiresAt: new Date(Date.now() + 60_000), renewable: false }) },
      transport: async (req) => {
        seen.push(req.url);
        return json(200, { data: { k: "v" } });
      },
      clock: new FakeClock(Date.now()),
    });
    await client.readSecret("a/b/c");
    assert.deepEqual(seen, ["https://gw.example/cerberus/v1/secret/a/b/c"]);
  });
});

describe("nothing secret in logs", () => {
  test("a token shows no value in inspect, JSON or strings", () => {
    const token = new CerberusToken("super-secret-token", { method: "kms", principal: "arn:p", policies: [], metadata: {}, leaseDurationSeconds: 1, issuedAt: new Date(0), expiresAt: new Date(1000), renewable: false });
    for (const shown of [inspect(token), JSON.stringify(token), String(token), `${token}`, inspect({ nested: { token } }, { depth: 5 })]) {
      assert.ok(!shown.includes("super-secret-token"), shown);
    }
    assert.equal(token.reveal(), "super-secret-token");
  });

  test("sealed credentials show no secret in inspect or JSON but stay readable", () => {
    const creds = sealCredentials({ accessKeyId: "AKIAEXAMPLE12345", secretAccessKey: "wJalrXUtnFEMI/K7MDENG", sessionToken: "FwoGZXIvYXdzEJr" });
    for (const shown of [inspect(creds), JSON.stringify(creds), String(creds), inspect([creds], { depth: 5, showHidden: true })]) {
      assert.ok(!shown.includes("wJalrXUtnFEMI"), shown);
      assert.ok(!shown.includes("FwoGZXIvYXdzEJr"), shown);
    }
    assert.equal(creds.secretAccessKey, "wJalrXUtnFEMI/K7MDENG");
    assert.equal(creds.sessionToken, "FwoGZXIvYXdzEJr");
  });

  test("the client object itself reveals no token once authenticated", async () => {
    const { client } = setup();
    await client.readSecret("app/demo/config");
    assert.ok(!inspect(client, { depth: 10, showHidden: true }).includes("tok-app-role-secret-value"));
  });
});

test("sealing twice keeps the credentials readable", () => {
  const once = sealCredentials({ accessKeyId: "AKIAEXAMPLE12345", secretAccessKey: "s", sessionToken: "t" });
  const twice = sealCredentials(once);
  assert.equal(twice.accessKeyId, "AKIAEXAMPLE12345");
  assert.equal(twice.secretAccessKey, "s");
  assert.equal(sealCredentials({ ...{ accessKeyId: "AKIAEXAMPLE12345", secretAccessKey: "s" }, roleArn: "arn:x" } as never as { accessKeyId: string; secretAccessKey: string }).accessKeyId, "AKIAEXAMPLE12345");
});
