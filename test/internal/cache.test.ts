/**
 * src/internal/cache.ts: the single-flight cache with background refresh.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cachedUntil, type CachePolicy } from "../../src/internal/cache.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { type Deferred, deferred, rejection } from "./_helpers.ts";

interface Item {
  n: number;
  refreshAt: number;
  expiresAt: number;
}

class Aborted extends Error {}

/** A cache whose loads are settled by the test, one deferred per load. */
function harness(policy: Partial<CachePolicy<Item>> = {}, background = true) {
  const clock = new ManualClock({ start: 0 });
  const loads: Deferred<Item>[] = [];
  const reasons: string[] = [];
  const cache = cachedUntil<Item>(
    () => {
      const load = deferred<Item>();
      loads.push(load);
      return load.promise;
    },
    {
      clock,
      refreshAt: (item) => item.refreshAt,
      ...(background ? { expiresAt: (item: Item) => item.expiresAt } : {}),
      aborted: (reason) => new Aborted(String(reason)),
      onLoad: (reason) => reasons.push(reason),
      ...policy,
    },
  );
  /** An item that is due for refresh at +refresh ms and expires at +expire ms from now. */
  const item = (n: number, refresh = 1000, expire = 2000): Item => ({
    n,
    refreshAt: clock.now() + refresh,
    expiresAt: clock.now() + expire,
  });
  return { clock, cache, loads, reasons, item };
}

describe("cachedUntil", () => {
  it("1,000 concurrent get() calls share one load", async () => {
    const { cache, loads, reasons, item } = harness();
    const gets = Array.from({ length: 1000 }, () => cache.get());
    assert.equal(loads.length, 1);
    const value = item(1);
    loads[0]!.resolve(value);
    const results = await Promise.all(gets);
    assert.ok(results.every((r) => r === value));
    assert.deepEqual(reasons, ["missing"]);
    assert.equal(cache.peek(), value);
  });

  it("serves the value without loading until refreshAt", async () => {
    const { clock, cache, loads, item } = harness();
    const first = cache.get();
    loads[0]!.resolve(item(1));
    const value = await first;
    clock.set(999);
    assert.equal(await cache.get(), value);
    assert.equal(loads.length, 1);
  });

  it("between refreshAt and expiresAt: serves the old value at once and refreshes in the background, one load at a time", async () => {
    const { clock, cache, loads, reasons, item } = harness();
    const first = cache.get();
    loads[0]!.resolve(item(1));
    const old = await first;
    clock.set(1500);
    assert.equal(await cache.get(), old, "the stale-but-valid value, without waiting");
    assert.equal(await cache.get(), old);
    assert.equal(await cache.get(), old);
    assert.equal(loads.length, 2, "one background load, however many callers");
    assert.deepEqual(reasons, ["missing", "expiring"]);
    const fresh = item(2);
    loads[1]!.resolve(fresh);
    await clock.advance(0);
    assert.equal(cache.peek(), fresh);
    assert.equal(await cache.get(), fresh);
    assert.equal(loads.length, 2);
  });

  it("a caller that comes after expiresAt waits for the load in flight", async () => {
    const { clock, cache, loads, item } = harness();
    const first = cache.get();
    loads[0]!.resolve(item(1));
    await first;
    clock.set(1500);
    await cache.get(); // starts the background load
    clock.set(2000);
    const waiting = cache.get();
    assert.equal(loads.length, 2, "joins the background load instead of starting another");
    const fresh = item(2);
    loads[1]!.resolve(fresh);
    assert.equal(await waiting, fresh);
  });

  it("without expiresAt there is no background refresh: at refreshAt callers wait", async () => {
    const { clock, cache, loads, item } = harness({}, false);
    const first = cache.get();
    loads[0]!.resolve(item(1));
    await first;
    clock.set(1000);
    let settled = false;
    const waiting = cache.get().finally(() => (settled = true));
    await clock.advance(0);
    assert.equal(settled, false);
    const fresh = item(2);
    loads[1]!.resolve(fresh);
    assert.equal(await waiting, fresh);
  });

  it("a failed background refresh keeps serving the old value and retries only after the pause", async () => {
    const { clock, cache, loads, item } = harness({ backgroundRetryMs: 300 });
    const first = cache.get();
    loads[0]!.resolve(item(1, 1000, 10_000));
    const old = await first;
    clock.set(1000);
    assert.equal(await cache.get(), old);
    assert.equal(loads.length, 2);
    loads[1]!.reject(new Error("refresh failed"));
    await clock.advance(0);
    assert.equal(cache.peek(), old, "the failure does not drop the value");
    await clock.advance(299);
    assert.equal(await cache.get(), old);
    assert.equal(loads.length, 2, "no new load within the pause");
    await clock.advance(1);
    assert.equal(await cache.get(), old);
    assert.equal(loads.length, 3, "retried after the pause");
    const fresh = item(3);
    loads[2]!.resolve(fresh);
    await clock.advance(0);
    assert.equal(cache.peek(), fresh);
  });

  it("the default pause after a failed background refresh is 5 s", async () => {
    const { clock, cache, loads, item } = harness({ backgroundRetryMs: undefined });
    const first = cache.get();
    loads[0]!.resolve(item(1, 1000, 60_000));
    await first;
    clock.set(1000);
    await cache.get();
    loads[1]!.reject(new Error("refresh failed"));
    await clock.advance(4999);
    await cache.get();
    assert.equal(loads.length, 2);
    await clock.advance(1);
    await cache.get();
    assert.equal(loads.length, 3);
  });

  it("a failed load rejects every waiter, is not cached, and the next get() loads again", async () => {
    const { cache, loads, item } = harness();
    const a = rejection(cache.get());
    const b = rejection(cache.get());
    const failure = new Error("load failed");
    loads[0]!.reject(failure);
    assert.equal(await a, failure);
    assert.equal(await b, failure);
    assert.equal(cache.peek(), undefined);
    const again = cache.get();
    assert.equal(loads.length, 2);
    const value = item(2);
    loads[1]!.resolve(value);
    assert.equal(await again, value);
  });

  it("invalidate(stale) drops that value only, never a newer one", async () => {
    const { cache, loads, item } = harness();
    const first = cache.get();
    loads[0]!.resolve(item(1));
    const v1 = await first;
    cache.invalidate(v1);
    assert.equal(cache.peek(), undefined);
    const second = cache.get();
    assert.equal(loads.length, 2);
    const v2 = item(2);
    loads[1]!.resolve(v2);
    assert.equal(await second, v2);
    cache.invalidate(v1); // a caller still holding v1 found it rejected
    assert.equal(cache.peek(), v2, "the newer value survives");
    assert.equal(await cache.get(), v2);
    assert.equal(loads.length, 2);
    cache.invalidate();
    assert.equal(cache.peek(), undefined, "invalidate() without a value drops whatever is held");
  });

  it("a caller's abort fails that caller only; the shared load goes on for the others", async () => {
    const { cache, loads, item } = harness();
    const controller = new AbortController();
    const quitter = rejection(cache.get(controller.signal));
    const patient = cache.get();
    controller.abort("changed my mind");
    const error = await quitter;
    assert.ok(error instanceof Aborted);
    assert.equal(error.message, "changed my mind");
    const value = item(1);
    loads[0]!.resolve(value);
    assert.equal(await patient, value);
    assert.equal(loads.length, 1);
    assert.equal(cache.peek(), value);
  });

  it("an already-aborted signal fails at once without starting a second load", async () => {
    const { cache, loads, item } = harness();
    const patient = cache.get();
    assert.ok((await rejection(cache.get(AbortSignal.abort()))) instanceof Aborted);
    assert.equal(loads.length, 1);
    loads[0]!.resolve(item(1));
    await patient;
  });

  it("a fresh value is served even to a caller whose signal is aborted", async () => {
    const { cache, loads, item } = harness();
    const first = cache.get();
    const value = item(1);
    loads[0]!.resolve(value);
    await first;
    assert.equal(await cache.get(AbortSignal.abort()), value);
  });
});
