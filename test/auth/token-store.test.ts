/** The token store: one authentication in flight, refresh before expiry, and what the client does with it. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createTokenStore, refreshMarginMs } from "../../src/auth/token-store.ts";
import type { CerberusToken } from "../../src/auth/token.ts";
import { AbortedError, TransportError } from "../../src/errors.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { createWorld, eventCollector, logged, onlyAppRole, rejection, tokenAt } from "../support.ts";
import { listKeys, readSecret } from "../../src/api/secrets.ts";

/** A store whose authentications count themselves and issue `t1`, `t2`, … with `lease` seconds. */
function counted(lease: number, fail?: (call: number) => boolean, random = () => 0) {
  const clock = new ManualClock();
  const { events, onEvent } = eventCollector();
  const state = { calls: 0 };
  const store = createTokenStore(
    () => {
      const call = ++state.calls;
      return fail?.(call)
        ? Promise.reject(new Error("down"))
        : Promise.resolve(tokenAt(clock.now(), lease, `t${call}`));
    },
    clock,
    onEvent,
    random,
  );
  return { clock, store, state, events };
}

describe("refresh margin", () => {
  test("a fifth of the lease, at most five minutes", () => {
    assert.equal(refreshMarginMs(3600), 300_000);
    assert.equal(refreshMarginMs(7200), 300_000);
    assert.equal(refreshMarginMs(60), 12_000);
    assert.equal(refreshMarginMs(1), 200);
    assert.equal(refreshMarginMs(0), 0);
  });
});

describe("token store", () => {
  test("keeps a token until its refresh point, refreshes in the background inside the margin, waits once expired", async () => {
    const { clock, store, state, events } = counted(3600);
    assert.equal(store.peek(), undefined);
    assert.equal((await store.get()).reveal(), "t1");
    assert.deepEqual(events, [], "a first load is not a refresh");
    clock.set(clock.now() + 54 * 60_000);
    assert.equal((await store.get()).reveal(), "t1");
    assert.equal(state.calls, 1);
    clock.set(clock.now() + 2 * 60_000); // 56 min: inside the 5-minute margin
    assert.equal((await store.get()).reveal(), "t1", "still valid: served while refreshing");
    await clock.advance(0);
    assert.equal(state.calls, 2);
    assert.equal((await store.get()).reveal(), "t2");
    assert.deepEqual(events, [{ type: "token.refresh", reason: "expiring" }]);
  });

  test("an expired token is never served", async () => {
    const { clock, store, events } = counted(60);
    await store.get();
    clock.set(clock.now() + 60_000); // exactly at expiry
    assert.equal((await store.get()).reveal(), "t2");
    assert.deepEqual(events, [{ type: "token.refresh", reason: "expired" }]);
  });

  test("the refresh point is jittered between one and two margins before expiry, fixed per token", async () => {
    // A 1-hour lease has a 5-minute margin: refresh between 50 and 55 minutes.
    for (const [random, minutes] of [[0, 55], [0.5, 52.5], [0.8, 51]] as const) {
      const { clock, store, state } = counted(3600, undefined, () => random);
      await store.get();
      clock.set(clock.now() + minutes * 60_000 - 1_000);
      await store.get();
      await clock.advance(0);
      assert.equal(state.calls, 1, `not yet at ${minutes} min - 1 s (random ${random})`);
      clock.set(clock.now() + 1_000);
      await store.get();
      await clock.advance(0);
      assert.equal(state.calls, 2, `refreshed at ${minutes} min (random ${random})`);
    }
    // Asked again and again, one token keeps one refresh point (the random source is used once).
    let draws = 0;
    const { store } = counted(3600, undefined, () => (draws++, 0.3));
    for (let i = 0; i < 5; i++) await store.get();
    assert.equal(draws, 1);
  });

  test("short leases refresh too (a 10 s lease refreshes after 8 s)", async () => {
    const { clock, store, state } = counted(10);
    await store.get();
    clock.set(clock.now() + 7_999);
    await store.get();
    await clock.advance(0);
    assert.equal(state.calls, 1);
    clock.set(clock.now() + 501);
    assert.equal((await store.get()).reveal(), "t1");
    await clock.advance(0);
    assert.equal(state.calls, 2);
  });

  test("a zero lease is never cached", async () => {
    const { store, state } = counted(0);
    await store.get();
    await store.get();
    assert.equal(state.calls, 2);
  });

  test("a failed background refresh keeps the valid token and is retried later", async () => {
    const { clock, store, state } = counted(3600, (call) => call === 2);
    await store.get();
    clock.set(clock.now() + 56 * 60_000);
    assert.equal((await store.get()).reveal(), "t1");
    await clock.advance(0);
    assert.equal(state.calls, 2);
    assert.equal((await store.get()).reveal(), "t1", "no immediate retry storm");
    await clock.advance(0);
    assert.equal(state.calls, 2);
    clock.set(clock.now() + 6_000);
    await store.get();
    await clock.advance(0);
    assert.equal(state.calls, 3);
    assert.equal((await store.get()).reveal(), "t3");
  });

  test("concurrent callers share one authentication, failures included", async () => {
    const clock = new ManualClock();
    let calls = 0;
    let release!: (t: CerberusToken) => void;
    let fail!: (e: Error) => void;
    const store = createTokenStore(
      () =>
        new Promise((resolve, reject) => {
          calls++;
          release = resolve;
          fail = reject;
        }),
      clock,
    );
    const waiting = Array.from({ length: 50 }, () => store.get());
    fail(new Error("nope"));
    const results = await Promise.allSettled(waiting);
    assert.equal(calls, 1);
    assert.ok(results.every((r) => r.status === "rejected" && (r.reason as Error).message === "nope"));
    assert.equal(store.peek(), undefined, "a failure is not cached");
    const again = Array.from({ length: 50 }, () => store.get());
    release(tokenAt(clock.now(), 3600, "shared"));
    const tokens = await Promise.all(again);
    assert.equal(calls, 2);
    assert.ok(tokens.every((t) => t === tokens[0]));
  });

  test("a caller's abort stops its wait without killing the shared authentication", async () => {
    const clock = new ManualClock();
    let release!: (t: CerberusToken) => void;
    let calls = 0;
    const store = createTokenStore(() => new Promise((resolve) => ((release = resolve), calls++)), clock);
    const controller = new AbortController();
    const impatient = rejection(store.get(controller.signal));
    const patient = store.get();
    controller.abort(new Error("gave up"));
    const stopped = await impatient;
    assert.ok(stopped instanceof AbortedError);
    assert.equal(stopped.message, "waiting for authentication was aborted by the caller");
    assert.equal(stopped.code, "ABORTED");
    assert.equal(stopped.step, "token");
    assert.match((stopped.cause as Error).message, /gave up/);
    release(tokenAt(clock.now(), 3600, "shared"));
    assert.equal((await patient).reveal(), "shared");
    assert.equal(calls, 1);
  });

  test("invalidate drops only the token it names", async () => {
    const { store, state, events } = counted(3600);
    const old = await store.get();
    store.invalidate(old);
    assert.deepEqual(events, [{ type: "token.refresh", reason: "rejected" }]);
    const fresh = await store.get();
    store.invalidate(old);
    assert.equal(store.peek(), fresh);
    assert.equal(state.calls, 2);
    assert.equal(events.length, 1, "invalidating a stale token says nothing");
    store.invalidate();
    assert.equal(store.peek(), undefined);
    assert.equal(events.length, 1, "dropping whatever is held names no token: nothing was rejected");
    store.invalidate();
    assert.equal(events.length, 1, "nor does dropping nothing");
  });

  test("a wait that outlasts its deadline is a TIMEOUT at step token; the authentication goes on for others", async () => {
    const clock = new ManualClock();
    let release!: (t: CerberusToken) => void;
    const store = createTokenStore(() => new Promise((resolve) => (release = resolve)), clock);
    const late = rejection(store.get(undefined, clock.now() + 1_000));
    const patient = store.get();
    await clock.advance(1_000);
    const error = await late;
    assert.ok(error instanceof TransportError, String(error));
    assert.equal(error.code, "TIMEOUT");
    assert.equal(error.step, "token");
    assert.equal(error.message, "the operation's time budget ran out while waiting for authentication");
    release(tokenAt(clock.now(), 3600, "shared"));
    assert.equal((await patient).reveal(), "shared");
    assert.equal((await store.get(undefined, clock.now())).reveal(), "shared", "a held token needs no wait");
  });
});

describe("client: single flight", () => {
  test("1,000 concurrent first calls make one authentication and one KMS call", async () => {
    const world = createWorld();
    onlyAppRole(world); // one role on the instance: one auth request expected
    const results = await Promise.all(Array.from({ length: 1000 }, () => readSecret(world.client, "app/demo/config")));
    assert.equal(results.length, 1000);
    assert.ok(results.every((r) => r.greeting === "hello from the local stack"));
    // The stack's request log keeps the last 1,000 entries only: count from what the client sent.
    const count = (test: (s: (typeof world.sent)[number]) => boolean) => world.sent.filter(test).length;
    assert.equal(count((s) => s.url.pathname === "/v2/auth/iam-principal"), 1);
    assert.equal(count((s) => s.url.host.startsWith("kms.")), 1);
    assert.equal(count((s) => s.method === "PUT" && s.url.pathname === "/latest/api/token"), 1);
    assert.equal(count((s) => s.method === "GET" && s.url.pathname.startsWith("/v1/secret/")), 1000);
    assert.equal(logged(world.stack, "cerberus", "GET", "/v1/secret/"), 1000);
    assert.equal(world.events.filter((e) => e.type === "auth.success").length, 1);
  });

  test("whoami and reads share the same authentication", async () => {
    const world = createWorld();
    const [info] = await Promise.all([
      world.client.whoami(),
      readSecret(world.client, "app/demo/config"),
      listKeys(world.client, "app/demo/"),
    ]);
    assert.equal(info.principal, world.defaults.roles.app.arn);
    assert.equal(logged(world.stack, "kms"), 1);
  });
});
