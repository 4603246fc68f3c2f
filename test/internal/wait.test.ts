/**
 * src/internal/wait.ts: `abortable` (stop waiting without cancelling the work for others) and
 * `sleep` on the injected clock.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { abortable, sleep } from "../../src/internal/wait.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { deferred, rejection } from "./_helpers.ts";

class Aborted extends Error {}

/** A signal that counts its abort listeners. */
function countedSignal() {
  const controller = new AbortController();
  const signal = controller.signal;
  let listeners = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<AbortSignal["addEventListener"]>) => {
    listeners++;
    add(...args);
  }) as AbortSignal["addEventListener"];
  signal.removeEventListener = ((...args: Parameters<AbortSignal["removeEventListener"]>) => {
    listeners--;
    remove(...args);
  }) as AbortSignal["removeEventListener"];
  return { controller, signal, listeners: () => listeners };
}

describe("abortable", () => {
  it("without a signal, settles as the promise does", async () => {
    assert.equal(await abortable(Promise.resolve(7), undefined, () => new Aborted()), 7);
    const failure = new Error("x");
    assert.equal(await rejection(abortable(Promise.reject(failure), undefined, () => new Aborted())), failure);
  });

  it("with a signal that never aborts, settles as the promise does and removes its listener", async () => {
    const { signal, listeners } = countedSignal();
    const turn = () => new ManualClock().advance(0);
    assert.equal(await abortable(Promise.resolve("v"), signal, () => new Aborted()), "v");
    await turn();
    assert.equal(listeners(), 0);
    const failure = new Error("x");
    assert.equal(await rejection(abortable(Promise.reject(failure), signal, () => new Aborted())), failure);
    await turn();
    assert.equal(listeners(), 0);
  });

  it("rejects with onAbort() as soon as the signal aborts; the work goes on for its other waiters", async () => {
    const work = deferred<string>();
    const controller = new AbortController();
    const stopped = rejection(abortable(work.promise, controller.signal, () => new Aborted("gave up")));
    const other = abortable(work.promise, undefined, () => new Aborted());
    controller.abort();
    const error = await stopped;
    assert.ok(error instanceof Aborted);
    assert.equal(error.message, "gave up");
    work.resolve("done");
    assert.equal(await other, "done");
  });

  it("an already-aborted signal rejects at once, calling onAbort once", async () => {
    let calls = 0;
    const error = await rejection(abortable(new Promise(() => {}), AbortSignal.abort(), () => {
      calls++;
      return new Aborted();
    }));
    assert.ok(error instanceof Aborted);
    assert.equal(calls, 1);
  });

  it("a rejection of the work after the caller stopped waiting is handled (no unhandled rejection)", async () => {
    const work = deferred<string>();
    const controller = new AbortController();
    const stopped = rejection(abortable(work.promise, controller.signal, () => new Aborted()));
    controller.abort();
    await stopped;
    work.reject(new Error("failed later, with nobody waiting"));
    // The runners fail the test (Node, Deno) or report an error (Bun) on an unhandled rejection.
    await new ManualClock().advance(0);
  });
});

describe("sleep", () => {
  it("resolves when the clock has moved ms forward, not before", async () => {
    const clock = new ManualClock({ start: 0 });
    let done = false;
    const pending = sleep(clock, 500, undefined, () => new Aborted()).then(() => (done = true));
    await clock.advance(499);
    assert.equal(done, false);
    await clock.advance(1);
    await pending;
    assert.equal(done, true);
    assert.equal(clock.now(), 500);
  });

  it("an abort rejects with onAbort() and cancels the timer", async () => {
    const clock = new ManualClock({ start: 0 });
    const controller = new AbortController();
    const pending = rejection(sleep(clock, 500, controller.signal, () => new Aborted("stop")));
    assert.equal(clock.pending, 1);
    controller.abort();
    assert.ok((await pending) instanceof Aborted);
    assert.equal(clock.pending, 0);
  });

  it("an already-aborted signal rejects at once and leaves no timer", async () => {
    const clock = new ManualClock({ start: 0 });
    assert.ok((await rejection(sleep(clock, 500, AbortSignal.abort(), () => new Aborted()))) instanceof Aborted);
    assert.equal(clock.pending, 0);
  });

  it("a zero sleep fires on the next turn of the clock", async () => {
    const clock = new ManualClock({ start: 0 });
    let done = false;
    const pending = sleep(clock, 0, undefined, () => new Aborted()).then(() => (done = true));
    await clock.advance(0);
    await pending;
    assert.equal(done, true);
  });
});
