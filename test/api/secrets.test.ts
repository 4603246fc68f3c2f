/** Secrets over the in-memory stack: write, merge, delete, walk, and the errors a caller branches on. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deleteSecret, listKeys, mergeSecret, readKey, readSecret, walk, writeSecret } from "../../src/api/secrets.ts";
import {
  AbortedError,
  AccessDeniedError,
  CerberusApiError,
  InvalidInputError,
  NotFoundError,
  PayloadError,
  TransportError,
  UnexpectedAnswerError,
} from "../../src/errors.ts";
import type { HttpTransport } from "../../src/transport.ts";
import { userAuth } from "../../src/auth/user-auth.ts";
import { createWorld, logged, rejection, sentTokens } from "../support.ts";
import { dataWorld } from "./_world.ts";

const PATH = "app/demo/service/db";

describe("writing, merging and deleting secrets", () => {
  test("a write replaces every key; the read gives it back, keys such as __proto__ included", async () => {
    const { owner } = dataWorld();
    await writeSecret(owner, PATH, { user: "svc", password: "p@ss", old: "x" });
    await writeSecret(owner, PATH, JSON.parse('{"user":"svc2","__proto__":"kept","constructor":"too"}'));
    const data = await readSecret(owner, PATH);
    assert.deepEqual(Object.keys(data), ["user", "__proto__", "constructor"]);
    assert.equal(data["__proto__"], "kept");
    assert.equal(Object.getPrototypeOf(data), Object.prototype, "no prototype was set from the payload");
    assert.equal(await readKey(owner, PATH, "constructor"), "too");
  });

  test("merge sets keys on what is there, creates a missing secret, and returns the result", async () => {
    const { owner } = dataWorld();
    assert.deepEqual(await mergeSecret(owner, PATH, { a: "1" }), { a: "1" });
    assert.deepEqual(await mergeSecret(owner, PATH, { b: "2", a: "3" }), { a: "3", b: "2" });
    assert.deepEqual(await readSecret(owner, PATH), { a: "3", b: "2" });
    const merged = await mergeSecret(owner, PATH, JSON.parse('{"__proto__":"p"}'));
    assert.equal(Object.getPrototypeOf(merged), Object.prototype);
    assert.equal(Object.hasOwn(merged, "__proto__"), true);
  });

  test("two merges at once can lose a key: Cerberus has no compare-and-set", async () => {
    const { owner } = dataWorld();
    await writeSecret(owner, PATH, { base: "0" });
    await Promise.all([mergeSecret(owner, PATH, { a: "1" }), mergeSecret(owner, PATH, { b: "2" })]);
    const keys = Object.keys(await readSecret(owner, PATH)).sort();
    assert.ok(
      JSON.stringify(keys) === '["a","base"]' || JSON.stringify(keys) === '["b","base"]',
      `one merge overwrote the other: ${keys}`,
    );
  });

  test("delete removes the secret; deleting or reading it again is a NotFoundError", async () => {
    const { owner } = dataWorld();
    await writeSecret(owner, PATH, { a: "1" });
    await deleteSecret(owner, PATH);
    const read = await rejection(readSecret(owner, PATH));
    assert.ok(read instanceof NotFoundError);
    assert.equal(read.code, "NOT_FOUND");
    assert.equal(read.status, 404);
    assert.match(read.message, /^reading app\/demo\/service\/db: Cerberus answered HTTP 404/);
    assert.ok((await rejection(deleteSecret(owner, PATH))) instanceof NotFoundError);
  });

  test("a reader may not write: AccessDeniedError naming the operation and the path, never the value", async () => {
    const { client } = dataWorld();
    const error = await rejection(writeSecret(client, PATH, { password: "never-shown-42" }));
    assert.ok(error instanceof AccessDeniedError);
    assert.ok(error instanceof CerberusApiError);
    assert.equal(error.code, "ACCESS_DENIED");
    assert.equal(error.status, 403);
    assert.match(error.message, /^writing app\/demo\/service\/db: Cerberus answered HTTP 403/);
    assert.ok(!error.message.includes("never-shown-42"));
  });

  test("a write with a revoked token re-authenticates once and is applied once", async () => {
    const { owner, ownerSent, stack } = dataWorld();
    await readSecret(owner, "app/demo/config");
    const revoked = await stack.transport(`${stack.cerberus}/v1/auth`, {
      method: "DELETE",
      headers: { "X-Cerberus-Token": sentTokens(ownerSent)[0]! },
    });
    assert.equal(revoked.status, 204);
    await writeSecret(owner, PATH, { a: "1" });
    const writes = stack.requests.entries("cerberus").filter((e) =>
      e.method === "POST" && e.path === `/v1/secret/${PATH}`
    );
    assert.deepEqual(writes.map((e) => e.status), [401, 204]);
    assert.deepEqual(await readSecret(owner, PATH), { a: "1" });
  });

  test("an empty 200 or 204 answers a write or delete", async () => {
    const { owner, stack } = dataWorld();
    stack.faults.inject("cerberus", { kind: "body", status: 200, body: "" }, { method: "POST", path: "/v1/secret/" });
    await writeSecret(owner, PATH, { a: "1" });
    stack.faults.inject("cerberus", { kind: "body", status: 200, body: "" }, { method: "DELETE" });
    await deleteSecret(owner, PATH);
  });

  test("a write that meets a reset connection is not sent again", async () => {
    const { owner, stack } = dataWorld();
    await owner.whoami();
    stack.faults.inject("cerberus", { kind: "reset" }, { method: "POST", path: "/v1/secret/" });
    const error = await rejection(writeSecret(owner, PATH, { a: "1" }));
    assert.ok(error instanceof TransportError);
    assert.equal(logged(stack, "cerberus", "POST", "/v1/secret/"), 1);
  });

  test("bad data is an InvalidInputError naming the key, and nothing is sent", async () => {
    const { owner, ownerSent } = dataWorld();
    const cases: [unknown, RegExp][] = [
      [null, /^data: must be an object of string values, got null$/],
      [["a"], /^data: must be an object of string values, got an array$/],
      [{ port: 8080 }, /^data\.port: must be a string, got a number$/],
      [{ "": "x" }, /^data: has an empty key$/],
    ];
    for (const [data, message] of cases) {
      const error = await rejection(writeSecret(owner, PATH, data as Record<string, string>));
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.match(error.message, message);
      const merge = await rejection(mergeSecret(owner, PATH, data as Record<string, string>));
      assert.ok(merge instanceof InvalidInputError);
    }
    assert.equal(ownerSent.length, 0);
    for (const path of ["app/demo", "app/demo/folder/", "", "app/../x"]) {
      assert.ok((await rejection(writeSecret(owner, path, {}))) instanceof InvalidInputError, path);
      assert.ok((await rejection(deleteSecret(owner, path))) instanceof InvalidInputError, path);
    }
    assert.ok((await rejection(readSecret({} as never, PATH))) instanceof InvalidInputError, "not a client");
  });
});

describe("reading: typed values and hostile answers", () => {
  test("a value that is not a string is a PayloadError naming the endpoint", async () => {
    const { client, stack } = createWorld();
    stack.seed.secret("app/demo/odd", { port: 8080 });
    const error = await rejection(readSecret(client, "app/demo/odd"));
    assert.ok(error instanceof PayloadError);
    assert.match(
      error.message,
      /\(GET \/v1\/secret\/app\/demo\/odd\) is invalid: data: data is not a map of string values/,
    );
    assert.ok(!error.message.includes("8080"));
  });

  test("malformed JSON or an HTML page is an UnexpectedAnswerError with a short excerpt", async () => {
    const { client, stack } = createWorld();
    await client.whoami();
    stack.faults.inject("cerberus", {
      kind: "body",
      body: '{"data": {',
      headers: { "content-type": "application/json" },
    }, {
      path: "/v1/secret/",
    });
    const broken = await rejection(readSecret(client, "app/demo/config"));
    assert.ok(broken instanceof UnexpectedAnswerError);
    assert.equal(broken.excerpt, '{"data": {');
    stack.faults.inject("cerberus", { kind: "waf", status: 403 }, { path: "/v1/secret/" });
    const waf = await rejection(listKeys(client, "app/demo/"));
    assert.ok(waf instanceof UnexpectedAnswerError);
    assert.equal(waf.status, 403);
    assert.equal(waf.code, "UNEXPECTED_ANSWER");
    assert.match(waf.message, /^listing app\/demo\/: the answer is not Cerberus JSON \(HTTP 403, text\/html/);
  });

  test("a version id reads that version; a malformed one is refused before sending", async () => {
    const { owner, ownerSent } = dataWorld();
    await writeSecret(owner, PATH, { v: "1" });
    await writeSecret(owner, PATH, { v: "2" });
    assert.deepEqual(await readSecret(owner, PATH, { versionId: "CURRENT" }), { v: "2" });
    const before = ownerSent.length;
    const error = await rejection(readSecret(owner, PATH, { versionId: "../x" }));
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "versionId");
    assert.equal(ownerSent.length, before);
  });
});

describe("walk", () => {
  async function tree() {
    const world = dataWorld();
    for (const path of ["a", "b/c", "b/d/e", "b/d/f", "g", "h/i"]) {
      await writeSecret(world.owner, `app/demo/${path}`, { path });
    }
    return world;
  }

  test("every secret below a path, depth first in listing order", async () => {
    const { owner } = await tree();
    const seen: string[] = [];
    for await (const path of walk(owner, "app/demo/")) seen.push(path);
    const listed = await listKeys(owner, "app/demo/");
    assert.deepEqual(listed, ["a", "b/", "config", "g", "h/"]);
    assert.deepEqual(seen, [
      "app/demo/a",
      "app/demo/b/c",
      "app/demo/b/d/e",
      "app/demo/b/d/f",
      "app/demo/config",
      "app/demo/g",
      "app/demo/h/i",
    ]);
    const below: string[] = [];
    for await (const path of walk(owner, "app/demo/b")) below.push(path);
    assert.deepEqual(below, ["app/demo/b/c", "app/demo/b/d/e", "app/demo/b/d/f"]);
    const none: string[] = [];
    for await (const path of walk(owner, "app/demo/nothing/")) none.push(path);
    assert.deepEqual(none, []);
  });

  test("at most `concurrency` listings are in flight; leaving early stops the queued ones", async () => {
    const world = await tree();
    let inFlight = 0;
    let most = 0;
    let listings = 0;
    const counting: HttpTransport = async (url, init) => {
      inFlight++;
      listings++;
      most = Math.max(most, inFlight);
      try {
        return await world.stack.transport(url, init);
      } finally {
        inFlight--;
      }
    };
    const { username, password } = world.defaults.user;
    const { client } = world.connect({
      provider: userAuth({ credentials: { username, password } }),
      client: { transport: counting },
    });
    await client.whoami();
    listings = 0;
    for await (const _ of walk(client, "app/demo/", { concurrency: 1 })) {
      assert.ok(most <= 1);
    }
    assert.equal(most, 1);
    assert.equal(listings, 4, "app/demo/, b/, b/d/, h/");
    most = 0;
    listings = 0;
    for await (const path of walk(client, "app/demo/", { concurrency: 2 })) {
      assert.equal(path, "app/demo/a");
      break;
    }
    assert.ok(most <= 2);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.ok(listings <= 3, `queued listings stopped (${listings} sent)`);
  });

  test("bad options and an aborted signal are typed errors", async () => {
    const { owner } = dataWorld();
    for (const concurrency of [0, 33, 1.5]) {
      const error = await rejection(walk(owner, "app/demo/", { concurrency }).next());
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.field, "concurrency");
    }
    const controller = new AbortController();
    controller.abort();
    const aborted = await rejection(walk(owner, "app/demo/", { signal: controller.signal }).next());
    assert.ok(aborted instanceof AbortedError);
  });
});
