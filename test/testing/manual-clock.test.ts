/**
 * ManualClock: time and timers that move only when the test says so, auto-advance for
 * back-off, and `settle` for promises that wait on the clock.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Clock } from "../../src/clock.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { track, turns } from "./helpers.ts";

/** A sleep on `clock`, as a client's back-off would do it. */
function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(ms, resolve));
}

describe("ManualClock", () => {
  it("starts at 2026-11-29T12:00:00Z, or at the given time, and is the core's Clock", () => {
    const clock: Clock = new ManualClock();
    assert.equal(clock.now(), Date.UTC(2026, 10, 29, 12, 0, 0));
    assert.equal(new ManualClock({ start: 0 }).now(), 0);
    assert.throws(() => new ManualClock({ start: Number.NaN }), RangeError);
  });

  it("fires due timers in time order during advance, at their due time, and keeps the rest", async () => {
    const clock = new ManualClock({ start: 0 });
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push(`c@${clock.now()}`));
    clock.setTimer(100, () => fired.push(`a@${clock.now()}`));
    clock.setTimer(200, () => fired.push(`b1@${clock.now()}`));
    clock.setTimer(200, () => fired.push(`b2@${clock.now()}`));
    clock.setTimer(1_000, () => fired.push(`late@${clock.now()}`));
    assert.equal(clock.pending, 5);
    await clock.advance(300);
    assert.deepEqual(fired, ["a@100", "b1@200", "b2@200", "c@300"]);
    assert.equal(clock.now(), 300);
    assert.equal(clock.pending, 1);
    await clock.advance(699);
    assert.equal(fired.length, 4);
    await clock.advance(1);
    assert.deepEqual(fired.at(-1), "late@1000");
    assert.equal(clock.pending, 0);
  });

  it("cancels a timer with the function setTimer returns", async () => {
    const clock = new ManualClock();
    let fired = false;
    const cancel = clock.setTimer(10, () => {
      fired = true;
    });
    cancel();
    cancel();
    assert.equal(clock.pending, 0);
    await clock.advance(1_000);
    assert.equal(fired, false);
  });

  it("lets promise continuations run between timers, so a chain of sleeps elapses in one advance", async () => {
    const clock = new ManualClock({ start: 0 });
    const steps: number[] = [];
    const chain = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 1_000);
        // A response body settles on a later turn; the next sleep starts only after it.
        await new Response(`step ${i}`).text();
        steps.push(clock.now());
      }
    })();
    await clock.advance(2_500);
    assert.deepEqual(steps, [1_000, 2_000]);
    await clock.advance(500);
    await chain;
    assert.deepEqual(steps, [1_000, 2_000, 3_000]);
  });

  it("advance(0) runs queued work and fires only timers already due; a negative advance throws", async () => {
    const clock = new ManualClock({ start: 0 });
    let ran = false;
    void Promise.resolve().then(() => {
      ran = true;
    });
    let zero = false;
    clock.setTimer(0, () => {
      zero = true;
    });
    await clock.advance(0);
    assert.equal(ran, true);
    assert.equal(zero, true);
    await assert.rejects(clock.advance(-1), RangeError);
  });

  it("set() moves time without firing; timers it passed fire on the next advance, never back in time", async () => {
    const clock = new ManualClock({ start: 0 });
    const at: number[] = [];
    clock.setTimer(100, () => at.push(clock.now()));
    clock.set(5_000);
    await turns();
    assert.deepEqual(at, []);
    assert.equal(clock.pending, 1);
    await clock.advance(0);
    assert.deepEqual(at, [5_000]);
    clock.set(10);
    assert.equal(clock.now(), 10);
    assert.throws(() => clock.set(Number.POSITIVE_INFINITY), RangeError);
  });

  it("in auto-advance mode fires each timer on the next microtask, moving time by its delay", async () => {
    const clock = new ManualClock({ start: 0, autoAdvance: true });
    let fired = false;
    clock.setTimer(250, () => {
      fired = true;
    });
    assert.equal(fired, false, "not synchronously");
    assert.equal(clock.pending, 1);
    await Promise.resolve();
    assert.equal(fired, true);
    assert.equal(clock.now(), 250);
    const cancelled = clock.setTimer(1_000, () => assert.fail("cancelled timers do not fire"));
    cancelled();
    await Promise.resolve();
    assert.equal(clock.now(), 250);
    const backOff = [100, 200, 400];
    for (const ms of backOff) await sleep(clock, ms);
    assert.equal(clock.now(), 950);
    assert.equal(clock.pending, 0);
  });

  it("can switch auto-advance on and off", async () => {
    const clock = new ManualClock({ start: 0 });
    clock.autoAdvance = true;
    await sleep(clock, 10);
    assert.equal(clock.now(), 10);
    clock.autoAdvance = false;
    const waiting = track(sleep(clock, 10));
    await turns();
    assert.equal(waiting.settled, false);
    await clock.advance(10);
    assert.equal(waiting.settled, true);
  });

  it("settle() advances until the promise settles and returns or rethrows its outcome", async () => {
    const clock = new ManualClock({ start: 0 });
    const value = await clock.settle(sleep(clock, 60_000).then(() => "done"));
    assert.equal(value, "done");
    assert.equal(clock.now(), 60_000);
    const failure = new Error("retries exhausted");
    const failing = (async () => {
      await sleep(clock, 1_000);
      throw failure;
    })();
    await assert.rejects(clock.settle(failing, 100), (e: unknown) => e === failure);
    assert.equal(clock.now(), 61_000);
  });

  it("settle() gives up with an error after maxSteps instead of waiting forever", async () => {
    const clock = new ManualClock({ start: 0 });
    await assert.rejects(clock.settle(new Promise(() => {}), 10, 3), /did not settle within 3 steps of 10 ms/);
    assert.equal(clock.now(), 30);
  });
});
