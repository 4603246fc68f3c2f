/**
 * src/client/secret-cache.ts: the keyed read cache (fresh, stale-while-revalidate, stale-if-error,
 * absent answers, LRU bounds, the races of a write with a load in flight) and its option check.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  CACHE_DEFAULTS,
  type CacheEvent,
  checkCacheOptions,
  createSecretCache,
  type SecretCacheOptions,
} from "../../src/client/secret-cache.ts";
import { InvalidInputError, NotFoundError } from "../../src/errors.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { type Deferred, deferred, rejection } from "../internal/_helpers.ts";

class Aborted extends Error {}
class TimedOut extends Error {}

/** A cache on a manual clock at 0; with `random` 0.5 the jitter factor is exactly 1. */
function harness(options: SecretCacheOptions = {}, random: () => number = () => 0.5) {
  const clock = new ManualClock({ start: 0 });
  const events: CacheEvent[] = [];
  const cache = createSecretCache(checkCacheOptions(options)!, {
    clock,
    random,
    onEvent: (event) => events.push(event),
    aborted: (reason) => new Aborted(String(reason)),
    timedOut: () => new TimedOut(),
  });
  /** The events since the last call, as "type key" without the `cache.` prefix. */
  const seen = () => events.splice(0).map((event) => `${event.type.slice(6)} ${event.key}`);
  return { clock, cache, events, seen };
}

/** A loader whose calls the test settles, one deferred per call. */
function loads<T = string>() {
  const calls: Deferred<T>[] = [];
  const load = () => {
    const call = deferred<T>();
    calls.push(call);
    return call.promise;
  };
  return { load, calls };
}

/** A loader answering `value` at once. */
const answer = <T>(value: T) => () => Promise.resolve(value);

/** Whether `promise` has settled after pending continuations ran. */
async function settled(clock: ManualClock, promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  await clock.advance(0);
  return done;
}

const missing = new NotFoundError("no such secret", { step: "response", status: 404 });
const absent = (error: unknown) => error instanceof NotFoundError;

describe("checkCacheOptions", () => {
  it("undefined and false mean no cache; true means the defaults", () => {
    assert.equal(checkCacheOptions(undefined), undefined);
    assert.equal(checkCacheOptions(false), undefined);
    assert.deepEqual(checkCacheOptions(true), {
      ttlMs: 60_000,
      staleWhileRevalidateMs: 300_000,
      staleIfErrorMs: 3_600_000,
      maxEntries: 1024,
      notFoundTtlMs: 5_000,
    });
    assert.ok(!("maxBytes" in checkCacheOptions(true)!), "no byte limit unless asked");
    assert.ok(Object.isFrozen(CACHE_DEFAULTS));
    assert.notEqual(checkCacheOptions(true), CACHE_DEFAULTS, "a copy, not the shared defaults");
  });

  it("an object overrides the defaults field by field; undefined fields keep theirs", () => {
    assert.deepEqual(checkCacheOptions({}), { ...CACHE_DEFAULTS });
    assert.deepEqual(checkCacheOptions({ ttlMs: 1_000, maxBytes: 4096, staleIfErrorMs: undefined }), {
      ...CACHE_DEFAULTS,
      ttlMs: 1_000,
      maxBytes: 4096,
    });
    assert.deepEqual(
      checkCacheOptions({
        ttlMs: 1,
        staleWhileRevalidateMs: 0,
        staleIfErrorMs: 0,
        maxEntries: 1,
        maxBytes: 1,
        notFoundTtlMs: 0,
      }),
      { ttlMs: 1, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, maxEntries: 1, maxBytes: 1, notFoundTtlMs: 0 },
      "the lowest values are accepted",
    );
    assert.equal(checkCacheOptions({ maxEntries: 1_000_000 })!.maxEntries, 1_000_000);
    assert.equal(checkCacheOptions({ ttlMs: 2_147_483_647 })!.ttlMs, 2_147_483_647);
  });

  const invalid: [field: keyof SecretCacheOptions, values: unknown[]][] = [
    ["ttlMs", [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "60000", null, 2_147_483_648]],
    ["staleWhileRevalidateMs", [-1, 0.5, "0", null, Number.NaN, 2_147_483_648]],
    ["staleIfErrorMs", [-1, 2.5, true, null, 2_147_483_648]],
    ["maxEntries", [0, -5, 1_000_001, 10.5, "10", null]],
    ["maxBytes", [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, "1", null]],
    ["notFoundTtlMs", [-1, 0.1, [], null, 2_147_483_648]],
  ];
  for (const [field, values] of invalid) {
    it(`refuses a bad ${field}, naming options.cache.${field}`, () => {
      for (const value of values) {
        const error = (() => {
          try {
            checkCacheOptions({ [field]: value });
          } catch (error) {
            return error;
          }
          assert.fail(`accepted ${field}: ${String(value)}`);
        })();
        assert.ok(error instanceof InvalidInputError, String(error));
        assert.equal(error.field, `options.cache.${field}`);
        assert.match(
          error.message,
          new RegExp(`^options\\.cache\\.${field}: must be a whole number of \\w+ from \\d+`),
        );
        assert.equal(error.code, "INVALID_INPUT");
      }
    });
  }

  it("refuses an unknown field (a typo would silently keep the default) and anything but a boolean or an object", () => {
    assert.throws(
      () => checkCacheOptions({ ttl: 1000 }),
      (error) =>
        error instanceof InvalidInputError && error.field === "options.cache.ttl" &&
        /not a cache setting/.test(error.message),
    );
    for (const value of [1, "true", null, [], 0]) {
      assert.throws(
        () => checkCacheOptions(value),
        (error) => error instanceof InvalidInputError && error.field === "options.cache",
        String(value),
      );
    }
  });
});

describe("createSecretCache", () => {
  it("answers from memory while the value is fresh, loading once", async () => {
    const { clock, cache, seen } = harness({ ttlMs: 1000 });
    let calls = 0;
    const load = () => Promise.resolve(`v${++calls}`);
    assert.equal(await cache.read("k", load), "v1");
    clock.set(999);
    assert.equal(await cache.read("k", load), "v1");
    assert.equal(await cache.read("k", load), "v1");
    assert.equal(calls, 1);
    assert.deepEqual(seen(), ["miss k", "hit k", "hit k"]);
    assert.deepEqual(cache.stats(), { hits: 2, misses: 1, refreshes: 0, stale: 0, evictions: 0, entries: 1, bytes: 0 });
  });

  it("1,000 concurrent cold reads share one load", async () => {
    const { cache } = harness();
    const { load, calls } = loads();
    const readers = Array.from({ length: 1000 }, () => cache.read("k", load));
    assert.equal(calls.length, 1);
    calls[0]!.resolve("v");
    assert.ok((await Promise.all(readers)).every((value) => value === "v"));
    assert.equal(calls.length, 1);
    assert.equal(cache.stats().misses, 1000, "every reader that waited counts");
  });

  it("the ttl is jittered ±10% per stored value: random 0 → ttl×0.9, random → 1 gives ttl×1.1", async () => {
    for (const [random, lastFresh] of [[0, 899], [0.9999999, 1099]] as const) {
      const { clock, cache, seen } = harness({ ttlMs: 1000 }, () => random);
      await cache.read("k", answer("v"));
      clock.set(lastFresh);
      await cache.read("k", answer("other"));
      clock.set(lastFresh + 1);
      await cache.read("k", answer("other"));
      assert.deepEqual(seen(), ["miss k", "hit k", "stale k", "refresh k"], `random ${random}`);
    }
  });

  it("draws the jitter once per stored value, so values refresh at different times", async () => {
    const draws = [0, 0.9999999, 0.5];
    const { clock, cache, seen } = harness({ ttlMs: 1000 }, () => draws.shift()!);
    await cache.read("a", answer("a"));
    await cache.read("b", answer("b"));
    clock.set(950);
    await cache.read("a", answer("a"));
    await cache.read("b", answer("b"));
    assert.deepEqual(seen(), ["miss a", "miss b", "stale a", "refresh a", "hit b"]);
  });

  it("a value's age counts from when its load started, so a slow answer is not kept longer", async () => {
    const { clock, cache, seen } = harness({ ttlMs: 1000, staleWhileRevalidateMs: 500, staleIfErrorMs: 0 });
    const { load, calls } = loads();
    const first = cache.read("k", load);
    await clock.advance(300);
    calls[0]!.resolve("slow");
    assert.equal(await first, "slow");
    clock.set(999);
    await cache.read("k", load);
    clock.set(1000);
    await cache.read("k", load);
    clock.set(1500);
    const waiting = cache.read("k", load);
    assert.equal(calls.length, 2, "joins the refresh in flight");
    calls[1]!.resolve("refreshed");
    assert.equal(await waiting, "refreshed");
    assert.deepEqual(seen(), ["miss k", "hit k", "stale k", "refresh k", "miss k"]);
  });

  it("after the ttl: answers the old value at once to 1,000 readers and refreshes it with one background load", async () => {
    const { clock, cache, seen } = harness({ ttlMs: 1000, staleWhileRevalidateMs: 500 });
    const { load, calls } = loads();
    const first = cache.read("k", load);
    calls[0]!.resolve("old");
    await first;
    seen();
    clock.set(1000);
    const readers = Array.from({ length: 1000 }, () => cache.read("k", load));
    assert.equal(calls.length, 2, "one refresh, however many readers");
    assert.ok((await Promise.all(readers)).every((value) => value === "old"));
    const events = seen();
    assert.deepEqual(events.slice(0, 3), ["stale k", "refresh k", "stale k"]);
    assert.equal(events.filter((e) => e === "stale k").length, 1000);
    assert.equal(events.filter((e) => e === "refresh k").length, 1);
    calls[1]!.resolve("new");
    await clock.advance(0);
    assert.equal(await cache.read("k", load), "new");
    assert.deepEqual(seen(), ["hit k"]);
    assert.deepEqual(cache.stats(), {
      hits: 1,
      misses: 1,
      refreshes: 1,
      stale: 1000,
      evictions: 0,
      entries: 1,
      bytes: 0,
    });
    // The refreshed value's age counts from when its load started (1000), not from when it answered.
    clock.set(1999);
    await cache.read("k", load);
    clock.set(2000);
    await cache.read("k", load);
    assert.deepEqual(seen(), ["hit k", "stale k", "refresh k"]);
  });

  it("past ttl + staleWhileRevalidate a reader waits for the load", async () => {
    const { clock, cache, seen } = harness({ ttlMs: 1000, staleWhileRevalidateMs: 500, staleIfErrorMs: 0 });
    const { load, calls } = loads();
    const first = cache.read("k", load);
    calls[0]!.resolve("old");
    await first;
    clock.set(1500);
    const waiting = cache.read("k", load);
    assert.equal(await settled(clock, waiting), false);
    calls[1]!.resolve("new");
    assert.equal(await waiting, "new");
    assert.deepEqual(seen(), ["miss k", "miss k"]);
  });

  it("a failed background refresh keeps the old value and is retried on a read 5 s later, not in a loop", async () => {
    const { clock, cache, seen } = harness({ ttlMs: 1000, staleWhileRevalidateMs: 100_000 });
    const { load, calls } = loads();
    const first = cache.read("k", load);
    calls[0]!.resolve("old");
    await first;
    clock.set(1000);
    assert.equal(await cache.read("k", load), "old");
    calls[1]!.reject(new Error("down"));
    await clock.advance(4999);
    assert.equal(calls.length, 2, "nothing retries by itself");
    assert.equal(await cache.read("k", load), "old");
    assert.equal(calls.length, 2, "no reload within the pause");
    clock.set(6000);
    assert.equal(await cache.read("k", load), "old");
    assert.equal(calls.length, 3, "retried by a read after the pause");
    assert.deepEqual(seen(), ["miss k", "stale k", "refresh k", "stale k", "stale k", "refresh k"]);
  });

  it("stale-if-error: a failed load answers the old value until staleIfErrorMs past its ttl, then its own error", async () => {
    const { clock, cache, seen } = harness({ ttlMs: 1000, staleWhileRevalidateMs: 1000, staleIfErrorMs: 10_000 });
    const { load, calls } = loads();
    const first = cache.read("k", load);
    calls[0]!.resolve("old");
    await first;
    seen();
    clock.set(2000); // past ttl (1000) + swr (1000): a reader waits
    const waiting = cache.read("k", load);
    calls[1]!.reject(new Error("down"));
    assert.equal(await waiting, "old");
    assert.deepEqual(seen(), ["miss k", "stale k"]);

    clock.set(6999);
    assert.equal(await cache.read("k", load), "old", "within 5 s of the failure: at once, without a load");
    assert.equal(calls.length, 2);
    clock.set(7000);
    const retry = cache.read("k", load);
    assert.equal(calls.length, 3, "after the pause the next reader tries again");
    calls[2]!.reject(new Error("still down"));
    assert.equal(await retry, "old");
    assert.deepEqual(seen(), ["stale k", "miss k", "stale k"]);

    clock.set(10_999);
    assert.equal(await cache.read("k", load), "old", "the last ms of the window");
    clock.set(11_000); // ttl end (1000) + staleIfErrorMs (10_000)
    const late = cache.read("k", load);
    const failure = new Error("down for good");
    calls[3]!.reject(failure);
    assert.equal(await rejection(late), failure, "the load's own error object");
    assert.deepEqual(seen(), ["stale k", "miss k"]);
    assert.equal(cache.stats().stale, 4);

    const next = cache.read("k", load);
    assert.equal(calls.length, 5, "past the window every read loads");
    calls[4]!.resolve("back");
    assert.equal(await next, "back");
  });

  it("a successful load ends the pause of an earlier failure", async () => {
    const { clock, cache } = harness({ ttlMs: 1000, staleWhileRevalidateMs: 0, staleIfErrorMs: 10_000 });
    const failure = new Error("down");
    assert.equal(await rejection(cache.read("k", () => Promise.reject(failure))), failure);
    assert.equal(await cache.read("k", answer("v")), "v", "no value to fall back on: loaded at once");
    clock.set(1000);
    const { load, calls } = loads();
    const next = cache.read("k", load);
    assert.equal(calls.length, 1, "past the ttl the reader loads: no pause left over from the failure");
    calls[0]!.resolve("v2");
    assert.equal(await next, "v2");
  });

  it("stale-if-error also answers a reader whose deadline passes while the load hangs; the load goes on", async () => {
    const { clock, cache, seen } = harness({ ttlMs: 1000, staleWhileRevalidateMs: 0, staleIfErrorMs: 10_000 });
    const { load, calls } = loads();
    const first = cache.read("k", load);
    calls[0]!.resolve("old");
    await first;
    seen();
    clock.set(2000);
    const waiting = cache.read("k", load, { deadline: 2500 });
    await clock.advance(500);
    assert.equal(await waiting, "old");
    assert.deepEqual(seen(), ["miss k", "stale k"]);
    calls[1]!.resolve("new");
    await clock.advance(0);
    assert.equal(await cache.read("k", load), "new");
    assert.equal(calls.length, 2);
  });

  it("without an old value a reader's deadline gives its timedOut error, and the load's answer is still kept", async () => {
    const { clock, cache } = harness();
    const { load, calls } = loads();
    const waiting = rejection(cache.read("k", load, { deadline: 100 }));
    await clock.advance(100);
    assert.ok((await waiting) instanceof TimedOut);
    calls[0]!.resolve("v");
    await clock.advance(0);
    assert.equal(await cache.read("k", load), "v");
    assert.equal(calls.length, 1);
  });

  it("a reader's abort fails that reader only; the others get the shared load", async () => {
    const { cache } = harness();
    const { load, calls } = loads();
    const controller = new AbortController();
    const quitter = rejection(cache.read("k", load, { signal: controller.signal }));
    const patient = cache.read("k", load);
    controller.abort("changed my mind");
    const error = await quitter;
    assert.ok(error instanceof Aborted);
    assert.equal(error.message, "changed my mind");
    calls[0]!.resolve("v");
    assert.equal(await patient, "v");
    assert.equal(calls.length, 1);
    assert.equal(await cache.read("k", load), "v", "kept for later readers");
  });

  it("an aborted reader gets its abort error, never a stale value", async () => {
    const { clock, cache } = harness({ ttlMs: 1000, staleWhileRevalidateMs: 0, staleIfErrorMs: 10_000 });
    await cache.read("k", answer("old"));
    clock.set(2000);
    const controller = new AbortController();
    const quitter = rejection(cache.read("k", loads().load, { signal: controller.signal }));
    controller.abort("bye");
    assert.ok((await quitter) instanceof Aborted);
  });

  it("an absent answer is remembered for notFoundTtlMs and rethrown without a load; then loaded again", async () => {
    const { clock, cache, seen } = harness({ notFoundTtlMs: 5_000 });
    let calls = 0;
    const load = () => {
      calls++;
      return Promise.reject(missing);
    };
    assert.equal(await rejection(cache.read("k", load, { absent })), missing);
    clock.set(4_999);
    assert.equal(await rejection(cache.read("k", load, { absent })), missing);
    assert.equal(calls, 1);
    clock.set(5_000);
    assert.equal(await rejection(cache.read("k", load, { absent })), missing);
    assert.equal(calls, 2);
    assert.deepEqual(seen(), ["miss k", "hit k", "miss k"]);
  });

  it("other errors are not remembered: the next read loads again", async () => {
    const { cache } = harness();
    let calls = 0;
    const failure = new Error("down");
    const load = () => {
      calls++;
      return Promise.reject(failure);
    };
    assert.equal(await rejection(cache.read("k", load, { absent })), failure);
    assert.equal(await rejection(cache.read("k", load)), failure);
    assert.equal(await rejection(cache.read("k", () => Promise.reject(missing))), missing, "absent needs `absent`");
    assert.equal(await rejection(cache.read("k", load)), failure);
    assert.equal(calls, 3);
  });

  it("an absent answer replaces the value (the secret was deleted): no stale value after it", async () => {
    const { clock, cache } = harness({ ttlMs: 1000, staleWhileRevalidateMs: 0, staleIfErrorMs: 60_000 });
    await cache.read("k", answer("old"), { absent });
    clock.set(1000);
    assert.equal(await rejection(cache.read("k", () => Promise.reject(missing), { absent })), missing);
    assert.equal(await rejection(cache.read("k", answer("unused"), { absent })), missing, "remembered");
    clock.set(7000);
    const failure = new Error("down");
    assert.equal(
      await rejection(cache.read("k", () => Promise.reject(failure), { absent })),
      failure,
      "stale-if-error serves values, not absent answers",
    );
  });

  it("set: the value is fresh from now, answered without a load", async () => {
    const { clock, cache, seen } = harness({ ttlMs: 1000 });
    clock.set(500);
    cache.set("k", "mine");
    const { load, calls } = loads();
    assert.equal(await cache.read("k", load), "mine");
    clock.set(1499);
    assert.equal(await cache.read("k", load), "mine");
    assert.equal(calls.length, 0);
    clock.set(1500);
    assert.equal(await cache.read("k", load), "mine");
    assert.equal(calls.length, 1, "refreshed ttl after the set");
    assert.deepEqual(seen(), ["hit k", "hit k", "stale k", "refresh k"]);
  });

  it("set replaces an older value", async () => {
    const { cache } = harness();
    await cache.read("k", answer("before"));
    cache.set("k", "after");
    assert.equal(await cache.read("k", answer("unused")), "after");
    assert.equal(cache.stats().entries, 1);
  });

  it("race: a load in flight during a set answers its own readers but never overwrites the set value", async () => {
    const { clock, cache } = harness();
    const { load, calls } = loads();
    const early = cache.read("k", load);
    cache.set("k", "written");
    assert.equal(await cache.read("k", load), "written");
    calls[0]!.resolve("before the write");
    assert.equal(await early, "before the write", "the reader who asked before the write");
    await clock.advance(0);
    assert.equal(await cache.read("k", load), "written");
    assert.equal(calls.length, 1);
  });

  it("race: a load in flight during a set, as a background refresh, does not overwrite it either", async () => {
    const { clock, cache } = harness({ ttlMs: 1000 });
    const { load, calls } = loads();
    await cache.read("k", answer("v1"));
    clock.set(1000);
    assert.equal(await cache.read("k", load), "v1");
    assert.equal(calls.length, 1, "the refresh is in flight");
    cache.set("k", "written");
    calls[0]!.resolve("refreshed before the write");
    await clock.advance(0);
    assert.equal(await cache.read("k", load), "written");
  });

  it("race: after delete, a load in flight answers its readers but is not kept; the next read loads anew", async () => {
    const { clock, cache } = harness();
    const { load, calls } = loads();
    const early = cache.read("k", load);
    cache.delete("k");
    assert.equal(cache.stats().entries, 0);
    const later = cache.read("k", load);
    assert.equal(calls.length, 2, "a load of its own: the first may predate the write");
    calls[1]!.resolve("after the write");
    assert.equal(await later, "after the write");
    calls[0]!.resolve("before the write");
    assert.equal(await early, "before the write");
    await clock.advance(0);
    assert.equal(await cache.read("k", load), "after the write", "the older answer did not overwrite");
    assert.equal(calls.length, 2);
  });

  it("race: delete and clear during a load leave nothing cached when it answers", async () => {
    for (const forget of ["delete", "clear"] as const) {
      const { clock, cache } = harness();
      const { load, calls } = loads();
      const early = cache.read("k", load);
      if (forget === "delete") cache.delete("k");
      else cache.clear();
      calls[0]!.resolve("v");
      assert.equal(await early, "v");
      await clock.advance(0);
      assert.equal(cache.stats().entries, 0, forget);
      const again = cache.read("k", load);
      assert.equal(calls.length, 2, `${forget}: loaded again`);
      calls[1]!.resolve("v2");
      assert.equal(await again, "v2");
    }
  });

  it("race: a reader waiting when its key is deleted gets the load's error, not the deleted stale value", async () => {
    const { clock, cache } = harness({ ttlMs: 1000, staleWhileRevalidateMs: 0, staleIfErrorMs: 60_000 });
    await cache.read("k", answer("old"));
    clock.set(2000);
    const { load, calls } = loads();
    const waiting = cache.read("k", load);
    cache.delete("k");
    const failure = new Error("down");
    calls[0]!.reject(failure);
    assert.equal(await rejection(waiting), failure);
  });

  it("deletePrefix drops the keys under a prefix only; clear drops all", async () => {
    const { cache } = harness();
    cache.set("list:app/demo/", ["a"]);
    cache.set("list:app/demo/sub/", ["b"]);
    cache.set("list:app/demos/", ["c"]);
    cache.set("secret:app/demo/a", { a: 1 });
    cache.deletePrefix("list:app/demo/");
    assert.equal(cache.stats().entries, 2);
    assert.deepEqual(await cache.read("list:app/demos/", answer(["unused"])), ["c"]);
    assert.deepEqual(await cache.read("secret:app/demo/a", answer({})), { a: 1 });
    assert.deepEqual(await cache.read("list:app/demo/", answer(["loaded"])), ["loaded"]);
    cache.clear();
    assert.deepEqual(cache.stats(), { hits: 2, misses: 1, refreshes: 0, stale: 0, evictions: 0, entries: 0, bytes: 0 });
  });

  it("LRU by entries: a read or a set makes a key the most recent; the least recent goes", async () => {
    const { cache, seen } = harness({ maxEntries: 2 });
    await cache.read("a", answer("a"));
    await cache.read("b", answer("b"));
    await cache.read("a", answer("unused")); // a is now the most recent
    await cache.read("c", answer("c"));
    assert.deepEqual(seen(), ["miss a", "miss b", "hit a", "evict b", "miss c"], "room is made as c comes in");
    assert.equal(await cache.read("a", answer("unused")), "a");
    assert.equal(await cache.read("b", answer("b again")), "b again", "b was evicted");
    assert.deepEqual(cache.stats(), { hits: 2, misses: 4, refreshes: 0, stale: 0, evictions: 2, entries: 2, bytes: 0 });

    const sets = harness({ maxEntries: 2 });
    sets.cache.set("x", 1);
    sets.cache.set("y", 2);
    sets.cache.set("x", 3);
    sets.cache.set("z", 4);
    assert.deepEqual(sets.seen(), ["evict y"]);
    assert.equal(await sets.cache.read("x", answer(0)), 3);
  });

  it("LRU by bytes: sizes from `size` or set's size count toward maxBytes", async () => {
    const { cache, seen } = harness({ maxBytes: 10 });
    const size = (value: string) => value.length;
    await cache.read("a", answer("aaaa"), { size });
    await cache.read("b", answer("bbbb"), { size });
    assert.equal(cache.stats().bytes, 8);
    await cache.read("a", answer("unused"), { size });
    await cache.read("c", answer("cccc"), { size });
    assert.deepEqual(seen(), ["miss a", "miss b", "hit a", "miss c", "evict b"]);
    assert.deepEqual([cache.stats().entries, cache.stats().bytes], [2, 8]);
    cache.set("d", "dddddd", 6);
    assert.deepEqual(seen(), ["evict a"]);
    assert.deepEqual([cache.stats().entries, cache.stats().bytes], [2, 10]);
    cache.set("d", "dd", 2);
    assert.equal(cache.stats().bytes, 6, "a replaced value's bytes are given back");
    cache.delete("c");
    assert.equal(cache.stats().bytes, 2);
    cache.set("e", "no size");
    assert.deepEqual([cache.stats().entries, cache.stats().bytes], [2, 2], "without a size a value counts 0 bytes");
    cache.set("f", "odd size", -5);
    await cache.read("g", answer("odd size"), { size: () => Number.NaN });
    assert.equal(cache.stats().bytes, 2, "nor with a negative or non-finite one");
    cache.clear();
    assert.deepEqual([cache.stats().entries, cache.stats().bytes], [0, 0]);
  });

  it("a value larger than maxBytes is answered but not kept (and drops the key's older value)", async () => {
    const { cache, seen } = harness({ maxBytes: 10 });
    const size = (value: string) => value.length;
    cache.set("other", "o", 1);
    assert.equal(await cache.read("k", answer("12345678901"), { size }), "12345678901");
    assert.deepEqual(seen(), ["miss k", "evict k"], "only the value too large goes");
    assert.deepEqual([cache.stats().entries, cache.stats().bytes], [1, 1]);
    assert.equal(await cache.read("k", answer("small"), { size }), "small");
    assert.equal(cache.stats().bytes, 6);
    cache.set("k", "12345678901", 11);
    assert.deepEqual([cache.stats().entries, cache.stats().bytes], [1, 1]);
    assert.equal(await cache.read("k", answer("loaded"), { size }), "loaded", "not the older small value");
    assert.equal(await cache.read("other", answer("unused")), "o");
  });

  it("a loaded value counts as used when it arrives: the keys read meanwhile go first", async () => {
    const { clock, cache, seen } = harness({ maxEntries: 2 });
    const a = loads();
    const readA = cache.read("a", a.load);
    const readB = cache.read("b", loads().load);
    a.calls[0]!.resolve("va");
    assert.equal(await readA, "va");
    await cache.read("c", answer("vc"));
    assert.deepEqual(seen(), ["miss a", "miss b", "evict b", "miss c"]);
    assert.equal(await cache.read("a", a.load), "va");
    assert.equal(await settled(clock, readB), false, "b's reader still waits for its load");
  });

  it("race: a key evicted while its first load is in flight is answered to its readers and not kept", async () => {
    const { cache, seen } = harness({ maxEntries: 1 });
    const a = loads();
    const b = loads();
    const readA = cache.read("a", a.load);
    const readB = cache.read("b", b.load);
    assert.deepEqual(seen(), ["miss a", "evict a", "miss b"]);
    a.calls[0]!.resolve("va");
    b.calls[0]!.resolve("vb");
    assert.deepEqual([await readA, await readB], ["va", "vb"]);
    assert.equal(cache.stats().entries, 1);
    assert.equal(await cache.read("b", b.load), "vb");
    const again = cache.read("a", a.load);
    assert.equal(a.calls.length, 2);
    a.calls[1]!.resolve("va2");
    assert.equal(await again, "va2");
  });

  it("events carry keys, never values; a throwing listener changes nothing; stats is a snapshot", async () => {
    const clock = new ManualClock({ start: 0 });
    const events: CacheEvent[] = [];
    const cache = createSecretCache(checkCacheOptions({ ttlMs: 1000, maxEntries: 1 })!, {
      clock,
      onEvent(event) {
        events.push(event);
        throw new Error("listener bug");
      },
      aborted: (reason) => reason,
    });
    assert.equal(await cache.read("secret:app/demo/config", answer("s3cr3t-value")), "s3cr3t-value");
    clock.set(1200);
    assert.equal(await cache.read("secret:app/demo/config", answer("n3w-s3cr3t")), "s3cr3t-value");
    cache.set("other", "an0ther-s3cr3t");
    assert.deepEqual(events.map((event) => Object.keys(event).sort()), Array(events.length).fill(["key", "type"]));
    assert.doesNotMatch(JSON.stringify(events), /s3cr3t/);
    assert.deepEqual(events.map((event) => event.type), ["cache.miss", "cache.stale", "cache.refresh", "cache.evict"]);
    const stats = cache.stats();
    stats.hits = 99;
    assert.equal(cache.stats().hits, 0);
  });

  it("a load that throws instead of rejecting fails its readers like a rejection", async () => {
    const { cache } = harness();
    const failure = new Error("sync");
    const load = (): Promise<string> => {
      throw failure;
    };
    assert.equal(await rejection(cache.read("k", load)), failure);
    assert.equal(await cache.read("k", answer("v")), "v");
  });
});

/** The type of what an arbitrary generates. */
type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never;

describe("property", () => {
  /** What the model's server answers: the key, its version, and when that version was read or written. */
  interface Versioned {
    key: number;
    version: number;
    at: number;
  }
  const KEYS = ["a/0", "a/1", "b/0"];
  const key = fc.nat(KEYS.length - 1);
  const ok = fc.nat(3).map((n) => n > 0);
  const command = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant("read" as const), key }), weight: 8 },
    // Someone else writes the secret on the server.
    { arbitrary: fc.record({ kind: fc.constant("write" as const), key }), weight: 4 },
    // The client writes it, then updates its cache.
    {
      arbitrary: fc.record({
        kind: fc.constant("own" as const),
        key,
        then: fc.constantFrom("set" as const, "delete" as const, "deletePrefix" as const, "clear" as const),
      }),
      weight: 2,
    },
    // One of the loads in flight answers (or fails).
    { arbitrary: fc.record({ kind: fc.constant("settle" as const), pick: fc.nat(), ok }), weight: 8 },
    // Time passes: a share of the bound, so that steps land inside the windows as well as past them.
    {
      arbitrary: fc.record({
        kind: fc.constant("step" as const),
        share: fc.constantFrom(0.02, 0.2, 1, 2),
        perMille: fc.integer({ min: 0, max: 1000 }),
        ok,
      }),
      weight: 6,
    },
    // Time passes to just before, at or just after the bound of a recent value, and a read follows.
    {
      arbitrary: fc.record({
        kind: fc.constant("edge" as const),
        pick: fc.nat(3),
        delta: fc.constantFrom(-1, 0, 1),
        key,
        ok,
        answers: fc.boolean(),
      }),
      weight: 3,
    },
  );
  const settings = fc.record({
    ttlMs: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 100, max: 1000 })),
    staleWhileRevalidateMs: fc.integer({ min: 0, max: 1000 }),
    staleIfErrorMs: fc.integer({ min: 0, max: 1500 }),
    maxEntries: fc.integer({ min: 1, max: 4 }),
    maxBytes: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
  });
  const jitter = fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
    minLength: 1,
    maxLength: 4,
  });

  /** Lets pending promise continuations run, without timers. */
  const flush = async () => {
    for (let i = 0; i < 100; i++) await Promise.resolve();
  };

  it(
    "any interleaving of reads, loads that answer or fail within ttl, server writes, own writes (set/delete/deletePrefix/clear) " +
      "and clock steps: a read answered at t gives a value loaded or set at or after t − (ttl×1.1 + max(staleWhileRevalidateMs, staleIfErrorMs)), " +
      "so at or after t − (ttl×1.1 + staleWhileRevalidateMs + staleIfErrorMs), never older than the server's version then; " +
      "a read issued after an own write answers that version or a newer one; entries and bytes stay within their bounds",
    async () => {
      await fc.assert(
        fc.asyncProperty(settings, jitter, fc.array(command, { minLength: 10, maxLength: 80 }), run),
        { numRuns: 300 },
      );
    },
  );

  async function run(
    options: Generated<typeof settings>,
    draws: number[],
    commands: Generated<typeof command>[],
  ): Promise<void> {
    const clock = new ManualClock({ start: 0 });
    let draw = 0;
    const cache = createSecretCache({ ...CACHE_DEFAULTS, ...options }, {
      clock,
      random: () => draws[draw++ % draws.length]!,
      aborted: (reason) => reason,
    });
    const bound = options.ttlMs * 1.1 + Math.max(options.staleWhileRevalidateMs, options.staleIfErrorMs);
    // A load answers within this (≤ bound): a reader who joins a load waits no longer than that for it.
    const maxLoadMs = options.ttlMs;
    const size = (value: Versioned) => value.version % 5;
    const server = KEYS.map(() => 0);
    /** Per key, the version of the client's own latest write. */
    const own = KEYS.map(() => 0);
    const writes: { key: number; version: number; at: number }[] = [];
    const pending: { answer: Versioned; done: Deferred<Versioned> }[] = [];
    /** When values were read from the server or written by the client. */
    const stamps: number[] = [];
    const reads: Promise<void>[] = [];
    const violations: string[] = [];

    const write = (k: number) => {
      server[k]!++;
      writes.push({ key: k, version: server[k]!, at: clock.now() });
    };
    const loader = (k: number) => () => {
      const done = deferred<Versioned>();
      pending.push({ answer: { key: k, version: server[k]!, at: clock.now() }, done });
      stamps.push(clock.now());
      return done.promise;
    };
    const settle = (index: number, ok: boolean) => {
      const [load] = pending.splice(index, 1);
      if (ok) load!.done.resolve(load!.answer);
      else load!.done.reject(new Error("down"));
    };
    const step = async (to: number, ok: boolean) => {
      for (let i = pending.length - 1; i >= 0; i--) {
        if (pending[i]!.answer.at + maxLoadMs < to) settle(i, ok);
      }
      await flush();
      clock.set(to);
    };
    const check = (k: number, got: Versioned, floor: number) => {
      const t = clock.now();
      const owed = Math.max(0, ...writes.filter((w) => w.key === k && w.at < t - bound).map((w) => w.version));
      if (got.key !== k) violations.push(`${KEYS[k]} answered with ${KEYS[got.key]}`);
      if (got.at < t - bound) violations.push(`${KEYS[k]} at ${t}: a value from ${got.at} (bound ${bound})`);
      if (got.version < owed) violations.push(`${KEYS[k]} at ${t}: version ${got.version}, older than ${owed}`);
      if (got.version < floor) violations.push(`${KEYS[k]} at ${t}: version ${got.version} after own write ${floor}`);
    };

    const read = (k: number) => {
      const floor = own[k]!;
      reads.push(cache.read(KEYS[k]!, loader(k), { size }).then((got) => check(k, got, floor), () => {}));
    };

    for (const c of commands) {
      if (c.kind === "read") {
        read(c.key);
      } else if (c.kind === "write") {
        write(c.key);
      } else if (c.kind === "own") {
        write(c.key);
        own[c.key] = server[c.key]!;
        const name = KEYS[c.key]!;
        const value: Versioned = { key: c.key, version: server[c.key]!, at: clock.now() };
        stamps.push(value.at);
        if (c.then === "set") cache.set(name, value, size(value));
        else if (c.then === "delete") cache.delete(name);
        else if (c.then === "deletePrefix") cache.deletePrefix(name.slice(0, 2));
        else cache.clear();
      } else if (c.kind === "settle") {
        if (pending.length) settle(c.pick % pending.length, c.ok);
        await flush();
      } else if (c.kind === "step") {
        await step(clock.now() + Math.round((c.perMille / 1000) * c.share * bound), c.ok);
      } else if (stamps.length) {
        const to = Math.floor(stamps[Math.max(0, stamps.length - 1 - c.pick)]! + bound) + c.delta;
        if (to > clock.now()) await step(to, c.ok);
        const loading = pending.length;
        read(c.key);
        // A load it starts answers at once, so that a failure meets the stale-if-error window at its edge.
        if (pending.length > loading) settle(loading, c.answers);
        await flush();
      }
      const stats = cache.stats();
      if (stats.entries > options.maxEntries) violations.push(`${stats.entries} entries`);
      if (options.maxBytes !== undefined && stats.bytes > options.maxBytes) violations.push(`${stats.bytes} bytes`);
    }
    while (pending.length) settle(0, true);
    await flush();
    await Promise.all(reads);
    assert.deepEqual(violations, []);
  }
});
