/** The client over the in-memory stack: reads, lists, options, re-authentication, aborts, timeouts. */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, test } from "node:test";
import { kmsAuth } from "../../src/auth/kms-auth.ts";
import { createCerberusClient } from "../../src/client/client.ts";
import { AbortedError, CerberusApiError, InvalidInputError, PayloadError, TransportError } from "../../src/errors.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { CLIENT_HEADER, VERSION } from "../../src/version.ts";
import { createWorld, fixedAuth, logged, onlyAppRole, rejection, sentTokens } from "../support.ts";
import { listKeys, readKey, readSecret } from "../../src/api/secrets.ts";

const CONFIG = "app/demo/config";
const json = { "content-type": "application/json" };

describe("secrets: read, read a key, list", () => {
  test("reads the map and sends the token and client headers", async () => {
    const { client, defaults, sent, stack } = createWorld();
    assert.deepEqual(await readSecret(client, CONFIG), defaults.secret);
    const read = sent.find((s) => s.url.pathname === "/v1/secret/app/demo/config")!;
    const [token] = sentTokens(sent);
    assert.match(token!, /^[\x21-\x7e]+$/);
    assert.equal(read.headers.get("x-cerberus-token"), token);
    assert.equal(read.headers.get("accept"), "application/json");
    assert.equal(CLIENT_HEADER, `cerberus-edge/${VERSION}`);
    const cerberus = stack.requests.entries("cerberus");
    assert.ok(cerberus.length >= 2);
    for (const entry of cerberus) assert.equal(entry.client, CLIENT_HEADER);
  });

  test("userAgent is appended to X-Cerberus-Client", async () => {
    const { client, stack } = createWorld({ client: { userAgent: "my-tool/1.2" } });
    await readSecret(client, CONFIG);
    for (const entry of stack.requests.entries("cerberus")) assert.equal(entry.client, `${CLIENT_HEADER} my-tool/1.2`);
  });

  test("reads one key; a missing key or secret is NOT_FOUND", async () => {
    const { client } = createWorld();
    assert.equal(await readKey(client, CONFIG, "greeting"), "hello from the local stack");
    const missingKey = await rejection(readKey(client, CONFIG, "nope"));
    assert.ok(missingKey instanceof CerberusApiError);
    assert.equal(missingKey.code, "NOT_FOUND");
    assert.equal(missingKey.status, 0);
    const missingSecret = await rejection(readSecret(client, "app/demo/absent"));
    assert.ok(missingSecret instanceof CerberusApiError);
    assert.equal(missingSecret.status, 404);
    assert.equal(missingSecret.code, "NOT_FOUND");
    assert.match(missingSecret.message, /HTTP 404 with an empty body/);
  });

  test("lists keys, folders end in /, an absent path lists as []", async () => {
    const { client, stack, sent } = createWorld();
    stack.seed.secret("app/demo/other", { a: "1" });
    stack.seed.secret("app/demo/nested/deep", { b: "2" });
    assert.deepEqual((await listKeys(client, "app/demo/")).sort(), ["config", "nested/", "other"]);
    assert.deepEqual(await listKeys(client, "app/demo/nothing-here"), []);
    assert.ok(sent.some((s) => s.url.pathname + s.url.search === "/v1/secret/app/demo/?list=true"));
  });

  test("reads a version by id", async () => {
    const { client, sent, defaults } = createWorld();
    assert.deepEqual(await readSecret(client, CONFIG, { versionId: "CURRENT" }), defaults.secret);
    const unknown = await rejection(readSecret(client, CONFIG, { versionId: "0b1c2d3e-aaaa-bbbb-cccc-1234567890ab" }));
    assert.equal((unknown as CerberusApiError).code, "NOT_FOUND");
    const queries = sent.filter((s) => s.url.pathname === "/v1/secret/app/demo/config").map((s) => s.url.search);
    assert.deepEqual(queries, ["?versionId=CURRENT", "?versionId=0b1c2d3e-aaaa-bbbb-cccc-1234567890ab"]);
    const before = sent.length;
    const bad = await rejection(readSecret(client, CONFIG, { versionId: "x&list=true" }));
    assert.ok(bad instanceof InvalidInputError);
    assert.equal(bad.field, "versionId");
    assert.equal(sent.length, before);
  });

  test("segments are percent-encoded", async () => {
    const { client, stack, sent } = createWorld();
    stack.seed.secret("app/demo/with space?#", { k: "v" });
    assert.deepEqual(await readSecret(client, "app/demo/with space?#"), { k: "v" });
    assert.ok(sent.some((s) => s.url.pathname === "/v1/secret/app/demo/with%20space%3F%23" && s.url.search === ""));
  });

  test("a malformed secret body is a PayloadError naming the path", async () => {
    const { client, stack } = createWorld();
    stack.faults.inject("cerberus", {
      kind: "body",
      body: JSON.stringify({ data: ["not", "a", "map"] }),
      headers: json,
    }, { method: "GET", path: "/v1/secret/" });
    const error = await rejection(readSecret(client, CONFIG));
    assert.ok(error instanceof PayloadError);
    assert.equal(error.step, "request");
    assert.match(
      error.message,
      /reading app\/demo\/config \(GET \/v1\/secret\/app\/demo\/config\) is invalid: data: data is not a map of string values/,
    );
  });

  test("a malformed listing is a PayloadError too", async () => {
    const { client, stack } = createWorld();
    stack.faults.inject(
      "cerberus",
      { kind: "body", body: JSON.stringify({ data: { keys: "config" } }), headers: json },
      { method: "GET", path: "/v1/secret/" },
    );
    const error = await rejection(listKeys(client, "app/demo/"));
    assert.ok(error instanceof PayloadError);
    assert.match(error.message, /listing app\/demo\/ \(GET \/v1\/secret\/app\/demo\/\) is invalid: data\.keys/);
  });

  test("a redirect is reported, not followed", async () => {
    const { client, stack, sent } = createWorld();
    stack.faults.inject("cerberus", { kind: "redirect", status: 302, location: "https://evil.example/steal?x=1" }, {
      method: "GET",
      path: "/v1/secret/",
    });
    const error = await rejection(readSecret(client, CONFIG));
    assert.ok(error instanceof CerberusApiError);
    assert.equal(error.status, 302);
    assert.match(error.message, /redirect \(HTTP 302\) to https:\/\/evil\.example; not followed/);
    assert.ok(!error.message.includes("steal"));
    assert.ok(!sent.some((s) => s.url.host === "evil.example"));
  });

  test("every request goes out with redirect: manual (Cerberus, IMDS and KMS alike)", async () => {
    const { client, sent } = createWorld();
    await readSecret(client, CONFIG);
    assert.ok(new Set(sent.map((s) => s.url.host)).size >= 3, "Cerberus, IMDS and KMS hosts");
    assert.deepEqual([...new Set(sent.map((s) => s.redirect))], ["manual"]);
  });

  test("secret keys named constructor, prototype and __proto__ survive", async () => {
    const { client, stack } = createWorld();
    const body = '{"data":{"constructor":"c","prototype":"p","__proto__":"x","normal":"n"}}';
    stack.faults.inject("cerberus", { kind: "body", body, headers: json }, { method: "GET", path: "/v1/secret/" });
    const data = await readSecret(client, CONFIG);
    assert.deepEqual(Object.keys(data).sort(), ["__proto__", "constructor", "normal", "prototype"]);
    assert.equal(data["constructor"], "c");
    assert.equal(Object.getOwnPropertyDescriptor(data, "__proto__")?.value, "x");
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
  });

  test("null read options are the same as none", async () => {
    const { client, defaults } = createWorld();
    assert.deepEqual(await readSecret(client, CONFIG, null as never), defaults.secret);
    assert.deepEqual(await listKeys(client, "app/demo/", null as never), await listKeys(client, "app/demo/"));
    assert.equal(await readKey(client, CONFIG, "environment", null as never), "local");
  });

  test("bad arguments are typed errors, not TypeErrors, and send nothing", async () => {
    const { client, stack } = createWorld();
    await assert.rejects(readSecret(client, 42 as unknown as string), InvalidInputError);
    await assert.rejects(listKeys(client, null as unknown as string), InvalidInputError);
    await assert.rejects(readKey(client, CONFIG, undefined as unknown as string), InvalidInputError);
    await assert.rejects(readKey(client, CONFIG, ""), InvalidInputError);
    await assert.rejects(readSecret(client, "app/demo/"), /path: "app\/demo\/" ends with "\/"/);
    assert.equal(stack.requests.entries().length, 0);
  });
});

describe("client options", () => {
  /** The URL of the first request of a client on `url` (a fixed token, answered by a fake). */
  async function firstUrl(url: string, allowInsecureHttp?: boolean): Promise<string> {
    const clock = new ManualClock();
    const seen: string[] = [];
    const client = createCerberusClient({
      url,
      allowInsecureHttp,
      auth: fixedAuth(clock),
      clock,
      transport: (u) => {
        seen.push(u);
        return Promise.resolve(new Response(JSON.stringify({ data: { k: "v" } }), { headers: json }));
      },
    });
    assert.deepEqual(await readSecret(client, "a/b/c"), { k: "v" });
    return seen[0]!;
  }

  test("URL rules: https, or http on loopback only (unless allowInsecureHttp)", async () => {
    assert.equal(await firstUrl("https://cerberus.example.com"), "https://cerberus.example.com/v1/secret/a/b/c");
    assert.equal(await firstUrl("http://127.0.0.1:8080"), "http://127.0.0.1:8080/v1/secret/a/b/c");
    assert.equal(await firstUrl("http://localhost:1"), "http://localhost:1/v1/secret/a/b/c");
    assert.equal(await firstUrl("http://[::1]:1"), "http://[::1]:1/v1/secret/a/b/c");
    assert.equal(await firstUrl("http://cerberus.internal", true), "http://cerberus.internal/v1/secret/a/b/c");
    const auth = kmsAuth();
    const refused = (url: string) => () => createCerberusClient({ url, auth });
    assert.throws(
      refused("http://cerberus.example.com"),
      /url: plain http: is not allowed for cerberus\.example\.com; use https:/,
    );
    assert.throws(refused("http://10.0.0.1"), /plain http: is not allowed/);
    assert.throws(refused("ftp://x"), /url: ftp: is not https: or http:/);
    assert.throws(refused("not a url"), /url: is not a valid URL/);
    assert.throws(refused("https://x/?a=1"), /query or fragment/);
    assert.throws(refused("https://host/?"), /query or fragment/);
    assert.throws(refused("https://host/#"), /query or fragment/);
    const withPassword = (() => {
      try {
        refused("https://user:pw-secret@x")();
      } catch (e) {
        return e;
      }
    })();
    assert.ok(withPassword instanceof InvalidInputError);
    assert.match(withPassword.message, /user name or password/);
    assert.ok(!withPassword.message.includes("pw-secret"));
  });

  test("a base URL with a path prefix keeps it", async () => {
    assert.equal(await firstUrl("https://gw.example/cerberus/"), "https://gw.example/cerberus/v1/secret/a/b/c");
    assert.equal(await firstUrl("https://gw.example/cerberus"), "https://gw.example/cerberus/v1/secret/a/b/c");
  });

  test("bad options are typed errors naming the option", () => {
    const auth = kmsAuth();
    assert.throws(() => createCerberusClient(undefined as never), /options: must be an object/);
    assert.throws(() => createCerberusClient({ url: "https://x" } as never), /options\.auth/);
    assert.throws(
      () => createCerberusClient({ url: "https://x", auth: {} as never }),
      /options\.auth: must be an auth provider/,
    );
    assert.throws(() => createCerberusClient({ url: "https://x", auth, timeoutMs: 0 }), /options\.timeoutMs/);
    assert.throws(
      () => createCerberusClient({ url: "https://x", auth, userAgent: "bad\nagent" }),
      /options\.userAgent/,
    );
  });

  test("timeouts must fit a timer", () => {
    for (const timeoutMs of [Infinity, 2 ** 31, -1, Number.NaN, "10" as unknown as number]) {
      assert.throws(() => createCerberusClient({ url: "https://x", auth: kmsAuth(), timeoutMs }), InvalidInputError);
    }
  });
});

describe("re-authentication", () => {
  /** Revokes `token` on the server, as Cerberus does on logout. */
  async function revoke(stack: ReturnType<typeof createWorld>["stack"], token: string): Promise<void> {
    const answer = await stack.transport(`${stack.cerberus}/v1/auth`, {
      method: "DELETE",
      headers: { "X-Cerberus-Token": token },
    });
    assert.equal(answer.status, 204);
  }

  test("a 401 with 99105 re-authenticates once and retries", async () => {
    const { client, stack, sent, events } = createWorld();
    stack.seed.secret("app/demo/other", { a: "1" });
    await readSecret(client, CONFIG);
    await revoke(stack, sentTokens(sent)[0]!);
    assert.deepEqual(await readSecret(client, "app/demo/other"), { a: "1" });
    assert.equal(logged(stack, "kms"), 2);
    assert.equal(sentTokens(sent).length, 2);
    const reads = stack.requests.entries("cerberus").filter((e) => e.path === "/v1/secret/app/demo/other").map((e) =>
      e.status
    );
    assert.deepEqual(reads, [401, 200]);
    assert.ok(events.some((e) => e.type === "token.refresh" && e.reason === "rejected"));
  });

  test("a burst of 401s for the same token makes one re-authentication", async () => {
    const { client, stack, sent } = createWorld();
    await readSecret(client, CONFIG);
    await revoke(stack, sentTokens(sent)[0]!);
    await Promise.all(Array.from({ length: 100 }, () => readSecret(client, CONFIG)));
    assert.equal(logged(stack, "kms"), 2);
    assert.equal(sentTokens(sent).length, 2);
  });

  test("a second 401 after re-authenticating is thrown, not looped on", async () => {
    const { client, stack } = createWorld();
    await client.whoami();
    stack.faults.inject("cerberus", { kind: "cerberus-error", code: 99105 }, {
      method: "GET",
      path: "/v1/secret/",
      times: 2,
    });
    const error = await rejection(readSecret(client, CONFIG));
    assert.ok(error instanceof CerberusApiError);
    assert.equal(error.status, 401);
    assert.deepEqual(error.codes, [99105]);
    assert.equal(logged(stack, "kms"), 2);
    assert.equal(logged(stack, "cerberus", "GET", "/v1/secret/"), 2);
  });

  test("a 401 without 99105, or a 403, does not re-authenticate", async () => {
    const { client, stack } = createWorld();
    await client.whoami();
    stack.faults.inject("cerberus", {
      kind: "body",
      status: 403,
      body: JSON.stringify({ errors: ["permission denied"] }),
      headers: json,
    }, { path: "/v1/secret/" });
    const denied = await rejection(readSecret(client, CONFIG));
    assert.ok(denied instanceof CerberusApiError);
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.errors.map((e) => e.message), ["permission denied"]);
    assert.deepEqual(denied.codes, []);
    stack.faults.inject("cerberus", { kind: "cerberus-error", code: 99106 }, { path: "/v1/secret/" });
    const other401 = await rejection(readSecret(client, CONFIG));
    assert.ok(other401 instanceof CerberusApiError);
    assert.equal(other401.status, 401);
    assert.deepEqual(other401.codes, [99106]);
    assert.equal(logged(stack, "kms"), 1);
  });

  test("whoami reports the principal and expiry, never the token", async () => {
    const { client, clock, defaults, sent } = createWorld();
    await readSecret(client, CONFIG);
    const info = await client.whoami();
    assert.equal(info.principal, defaults.roles.app.arn);
    assert.equal(info.expiresAt.getTime(), clock.now() + 3600_000);
    const [token] = sentTokens(sent);
    assert.ok(!JSON.stringify(info).includes(token!));
    assert.ok(!inspect(client, { depth: 10, showHidden: true }).includes(token!));
  });

  test("a token expiring by the client's clock is refreshed; an expired one is never sent", async () => {
    const { client, clock, stack, defaults, sent, events } = createWorld();
    onlyAppRole({ stack, defaults });
    await readSecret(client, CONFIG);
    await clock.advance(3600_000 + 1);
    await readSecret(client, CONFIG);
    assert.equal(sentTokens(sent).length, 2);
    assert.ok(events.some((e) => e.type === "token.refresh" && e.reason === "expired"));
    assert.deepEqual(stack.requests.entries("cerberus").filter((e) => e.method === "GET").map((e) => e.status), [
      200,
      200,
    ]);
  });
});

describe("aborts and timeouts", () => {
  test("an already-aborted signal rejects with AbortedError and sends nothing", async () => {
    const { client, stack } = createWorld();
    await client.whoami();
    const before = stack.requests.entries().length;
    const error = await rejection(readSecret(client, CONFIG, { signal: AbortSignal.abort(new Error("stop")) }));
    assert.ok(error instanceof AbortedError);
    assert.equal(error.code, "ABORTED");
    assert.equal(stack.requests.entries().length, before);
  });

  test("aborting while the response is in flight leaves no unhandled rejection", async () => {
    const { client, clock } = createWorld();
    await client.whoami();
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const pending = readSecret(client, CONFIG, { signal: controller.signal });
      queueMicrotask(() => controller.abort());
      const outcome = await pending.then(
        () => "read",
        (e: unknown) => (e instanceof AbortedError ? "aborted" : String(e)),
      );
      assert.ok(outcome === "read" || outcome === "aborted", outcome);
    }
    await clock.advance(0);
  });

  test("a caller's abort stops only its own wait: 1,000 first reads, half aborted, one authentication", async () => {
    const { client, stack, clock, defaults } = createWorld();
    onlyAppRole({ stack, defaults });
    const controllers = Array.from({ length: 500 }, () => new AbortController());
    const impatient = controllers.map((c) => rejection(readSecret(client, CONFIG, { signal: c.signal })));
    const patient = Array.from({ length: 500 }, () => readSecret(client, CONFIG));
    for (const c of controllers) c.abort(new Error("gave up"));
    const stopped = await Promise.all(impatient);
    assert.ok(
      stopped.every((e) => e instanceof AbortedError && e.step === "token" && (e.cause as Error).message === "gave up"),
    );
    const results = await Promise.all(patient);
    assert.equal(results.length, 500);
    assert.deepEqual(results[499], defaults.secret);
    assert.equal(logged(stack, "cerberus", "POST", "/v2/auth/iam-principal"), 1);
    assert.equal(logged(stack, "kms"), 1);
    assert.equal(logged(stack, "cerberus", "GET", "/v1/secret/"), 500);
    await clock.advance(0);
  });

  test("a Cerberus that never answers times out after timeoutMs on the injected clock", async () => {
    const { client, stack, clock } = createWorld({ client: { timeoutMs: 2_000, attempts: 1 } });
    await client.whoami();
    stack.faults.inject("cerberus", { kind: "hang" }, { path: "/v1/secret/" });
    const pending = rejection(readSecret(client, CONFIG));
    await clock.advance(1_999);
    assert.equal(stack.requests.entries("cerberus").at(-1)!.status, 0, "still waiting");
    await clock.advance(1);
    const error = await pending;
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TIMEOUT");
    assert.match(error.message, /did not answer within 2000 ms/);
  });

  test("a connection reset on a read is a TransportError naming the host and the code only", async () => {
    const { client, stack } = createWorld({ client: { attempts: 1 } });
    await client.whoami();
    stack.faults.inject("cerberus", { kind: "reset" }, { path: "/v1/secret/" });
    const error = await rejection(readSecret(client, CONFIG));
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TRANSPORT_ERROR");
    assert.equal(error.message, `request to ${new URL(stack.cerberus).host} failed: ECONNRESET`);
  });
});
