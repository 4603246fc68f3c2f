import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { refreshMarginMs, TokenStore } from "../src/auth/token-store.ts";
import { CerberusToken } from "../src/auth/token.ts";
import { AbortedError, CerberusApiError } from "../src/errors.ts";
import { FakeClock, flush } from "./helpers/fake-clock.ts";
import { APP_ROLE_ARN, rejection, setup } from "./helpers/setup.ts";

function tokenAt(now: number, lease: number, value = "t"): CerberusToken {
  return new CerberusToken(value, {
    method: "test",
    principal: "p",
    policies: [],
    metadata: {},
    leaseDurationSeconds: lease,
    issuedAt: new Date(now),
    expiresAt: new Date(now + lease * 1000),
    renewable: false,
  });
}

describe("refresh margin", () => {
  test("a fifth of the lease, at most five minutes", () => {
    assert.equal(refreshMarginMs(3600), 300_000);
    assert.equal(refreshMarginMs(60), 12_000);
    assert.equal(refreshMarginMs(1), 200);
    assert.equal(refreshMarginMs(0), 0);
  });
});

describe("token store", () => {
  test("keeps a token until its refresh point, refreshes in the background inside the margin, waits once expired", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const store = new TokenStore({ clock, authenticate: async () => tokenAt(clock.now(), 3600, `t${++calls}`) });
    const first = await store.get();
    assert.equal(first.reveal(), "t1");
    clock.set(clock.now() + 54 * 60_000);
    assert.equal((await store.get()).reveal(), "t1");
    assert.equal(calls, 1);
    clock.set(clock.now() + 2 * 60_000); // 56 min: inside the 5-minute margin
    assert.equal((await store.get()).reveal(), "t1", "still valid: served while refreshing");
    await flush();
    assert.equal(calls, 2);
    assert.equal((await store.get()).reveal(), "t2");
  });

  test("an expired token is never served", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const store = new TokenStore({ clock, authenticate: async () => tokenAt(clock.now(), 60, `t${++calls}`) });
    await store.get();
    clock.set(clock.now() + 61_000);
    assert.equal((await store.get()).reveal(), "t2");
  });

  test("short leases refresh too (a 10 s lease refreshes after 8 s)", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const store = new TokenStore({ clock, authenticate: async () => tokenAt(clock.now(), 10, `t${++calls}`) });
    await store.get();
    clock.set(clock.now() + 8_500);
    await store.get();
    await flush();
    assert.equal(calls, 2);
  });

  test("a failed background refresh keeps the valid token and is retried later", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const store = new TokenStore({
      clock,
      authenticate: async () => {
        calls++;
        if (calls === 2) throw new Error("down");
        return tokenAt(clock.now(), 3600, `t${calls}`);
      },
    });
    await store.get();
    clock.set(clock.now() + 56 * 60_000);
    assert.equal((await store.get()).reveal(), "t1");
    await flush();
    assert.equal(calls, 2);
    assert.equal((await store.get()).reveal(), "t1", "no immediate retry storm");
    assert.equal(calls, 2);
    clock.set(clock.now() + 6_000);
    await store.get();
    await flush();
    assert.equal(calls, 3);
    assert.equal((await store.get()).reveal(), "t3");
  });

  test("concurrent callers share one authentication, failures included", async () => {
    const clock = new FakeClock();
    let calls = 0;
    let release!: (t: CerberusToken) => void;
    let fail!: (e: Error) => void;
    const store = new TokenStore({
      clock,
      authenticate: () =>
        new Promise((resolve, reject) => {
          calls++;
          release = resolve;
          fail = reject;
        }),
    });
    const waiting = Array.from({ length: 50 }, () => store.get());
    fail(new Error("nope"));
    const results = await Promise.allSettled(waiting);
    assert.equal(calls, 1);
    assert.ok(results.every((r) => r.status === "rejected"));
    const again = Array.from({ length: 50 }, () => store.get());
    release(tokenAt(clock.now(), 3600));
    await Promise.all(again);
    assert.equal(calls, 2);
  });

  test("a caller's abort stops its wait without killing the shared authentication", async () => {
    const clock = new FakeClock();
    let release!: (t: CerberusToken) => void;
    const store = new TokenStore({ clock, authenticate: () => new Promise((resolve) => (release = resolve)) });
    const controller = new AbortController();
    const impatient = rejection(store.get(controller.signal));
    const patient = store.get();
    controller.abort(new Error("gave up"));
    const stopped = (await impatient) as AbortedError;
    assert.ok(stopped instanceof AbortedError);
    assert.equal(stopped.code, "ABORTED");
    assert.match(String((stopped.cause as Error).message), /gave up/);
    release(tokenAt(clock.now(), 3600, "shared"));
    assert.equal((await patient).reveal(), "shared");
  });

  test("invalidate drops only the token it names", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const store = new TokenStore({ clock, authenticate: async () => tokenAt(clock.now(), 3600, `t${++calls}`) });
    const old = await store.get();
    store.invalidate(old);
    const fresh = await store.get();
    store.invalidate(old);
    assert.equal(store.current, fresh);
    assert.equal(calls, 2);
  });
});

describe("client: single flight and re-authentication", () => {
  test("1,000 concurrent first calls make one authentication and one KMS call", async () => {
    const { world, client, events } = setup();
    world.roles.delete("web-role"); // one role on the instance: one auth request expected
    const results = await Promise.all(Array.from({ length: 1000 }, () => client.readSecret("app/demo/config")));
    assert.equal(results.length, 1000);
    assert.equal(world.authCount, 1);
    assert.equal(world.decryptCount, 1);
    assert.equal(world.count("imds", "PUT"), 1);
    assert.equal(events.filter((e) => e.type === "auth.success").length, 1);
    assert.equal(world.count("cerberus", "GET", "/v1/secret/"), 1000);
  });

  test("a 401 with 99105 re-authenticates once and retries", async () => {
    const { world, client, events } = setup();
    await client.readSecret("app/demo/config");
    world.validTokens.clear(); // the server revoked the token
    assert.deepEqual(await client.readSecret("app/demo/other"), { a: "1" });
    assert.equal(world.decryptCount, 2);
    assert.ok(events.some((e) => e.type === "token.refresh" && e.reason === "rejected"));
  });

  test("a burst of 401s for the same token makes one re-authentication", async () => {
    const { world, client } = setup();
    await client.readSecret("app/demo/config");
    world.validTokens.clear();
    await Promise.all(Array.from({ length: 100 }, () => client.readSecret("app/demo/config")));
    assert.equal(world.decryptCount, 2);
  });

  test("a second 401 after re-authenticating is thrown, not looped on", async () => {
    const { world, client } = setup();
    await client.whoami();
    const reject401 = () => new Response(JSON.stringify({ errors: [{ code: 99105, message: "invalid token" }] }), { status: 401 });
    world.override("cerberus:GET /v1/secret/app/demo/config", reject401(), reject401());
    const error = await rejection(client.readSecret("app/demo/config"));
    assert.ok(error instanceof CerberusApiError);
    assert.equal(error.status, 401);
    assert.deepEqual(error.codes, [99105]);
    assert.equal(world.decryptCount, 2);
  });

  test("a 401 without 99105 (or a 403) does not re-authenticate", async () => {
    const { world, client } = setup();
    await client.whoami();
    world.override("cerberus:GET /v1/secret/app/demo/config", new Response(JSON.stringify({ errors: ["permission denied"] }), { status: 403 }));
    const error = await rejection(client.readSecret("app/demo/config"));
    assert.ok(error instanceof CerberusApiError);
    assert.deepEqual(error.errors, [{ message: "permission denied" }]);
    assert.equal(world.decryptCount, 1);
  });

  test("whoami reports the principal and expiry, never the token", async () => {
    const { client, clock } = setup();
    const info = await client.whoami();
    assert.equal(info.principal, APP_ROLE_ARN);
    assert.equal(info.expiresAt.getTime(), clock.now() + 3600_000);
    assert.ok(!JSON.stringify(info).includes("tok-app-role-secret-value"));
  });
});
