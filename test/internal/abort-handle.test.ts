/**
 * The abort handle: a one-listener stand-in for AbortController that `send()` gives only to
 * transports that ask for it, and what those transports see on timeout and on the caller's abort.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AbortHandleController, markTakesAbortHandle, takesAbortHandle } from "../../src/internal/abort-handle.ts";
import { send } from "../../src/internal/http.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import type { HttpTransport, TransportInit } from "../../src/transport.ts";
import { answer, bytes, rejection, streamOf } from "./_helpers.ts";

const options = { step: "request", timeoutMs: 1000, limit: 1024 } as const;

/** A transport that records its init, answers when told, and says whether it takes a handle. */
function recorder(marked: boolean) {
  const seen: TransportInit[] = [];
  const transport: HttpTransport = (_url, init) => {
    seen.push(init);
    return new Promise(() => {});
  };
  return { seen, transport: marked ? markTakesAbortHandle(transport) : transport };
}

describe("AbortHandleController", () => {
  it("starts unaborted; abort() sets aborted and an AbortError reason and calls the listener once", () => {
    const controller = new AbortHandleController();
    const signal = controller.signal;
    assert.equal(signal, controller);
    assert.equal(signal.aborted, false);
    assert.equal(signal.reason, undefined);
    let calls = 0;
    signal.addEventListener("abort", () => calls++);
    controller.abort();
    controller.abort();
    assert.equal(signal.aborted, true);
    const reason: unknown = signal.reason;
    assert.ok(reason instanceof DOMException);
    assert.equal(reason.name, "AbortError");
    assert.equal(calls, 1);
  });

  it("keeps one listener: a new one replaces it, and only that one removes it", () => {
    const controller = new AbortHandleController();
    const calls: string[] = [];
    const first = () => calls.push("first");
    const second = () => calls.push("second");
    controller.addEventListener("abort", first);
    controller.addEventListener("abort", second);
    controller.removeEventListener("abort", first);
    controller.abort();
    assert.deepEqual(calls, ["second"]);

    const other = new AbortHandleController();
    other.addEventListener("abort", first);
    other.removeEventListener("abort", first);
    other.abort();
    assert.deepEqual(calls, ["second"], "a removed listener is not called");
  });

  it("takesAbortHandle is true only for the very function that was marked", () => {
    const plain: HttpTransport = () => new Promise(() => {});
    assert.equal(takesAbortHandle(plain), false);
    const ours: HttpTransport = markTakesAbortHandle(() => Promise.resolve(answer(200, null)));
    assert.equal(takesAbortHandle(ours), true);
    // A copy, a wrapper or a proxy of a marked transport is not marked: it may send through fetch.
    assert.equal(takesAbortHandle(Object.assign(() => {}, ours)), false);
    assert.equal(takesAbortHandle((url: string, init: TransportInit) => ours(url, init)), false);
    assert.equal(takesAbortHandle(new Proxy(ours, {})), false);
  });
});

describe("send: which signal a transport gets", () => {
  it("a transport that did not ask gets a real AbortSignal; one that asked gets a handle", async () => {
    for (const marked of [false, true]) {
      const { seen, transport } = recorder(marked);
      const clock = new ManualClock();
      const pending = rejection(
        send({ transport, clock }, "https://api.example.com/x", { method: "GET", headers: {} }, options),
      );
      await clock.advance(0);
      const signal = seen[0]?.signal;
      assert.equal(signal instanceof AbortSignal, !marked);
      assert.ok(marked ? signal instanceof AbortHandleController : true);
      await clock.advance(1000);
      await pending;
      assert.equal(signal?.aborted, true, "the timeout aborts it");
    }
  });

  it("the caller's abort reaches the handle's listener, and the request ends ABORTED", async () => {
    const { seen, transport } = recorder(true);
    const clock = new ManualClock();
    const caller = new AbortController();
    const pending = rejection(
      send({ transport, clock }, "https://api.example.com/x", { method: "GET", headers: {} }, {
        ...options,
        signal: caller.signal,
      }),
    );
    await clock.advance(0);
    let heard = 0;
    seen[0]!.signal!.addEventListener("abort", () => heard++);
    caller.abort(new Error("gave up"));
    const error = await pending;
    assert.equal((error as { code?: string }).code, "ABORTED");
    assert.equal(heard, 1);
    assert.equal(clock.pending, 0);
  });

  it("a marked transport that answers is read as any other", async () => {
    const transport = markTakesAbortHandle(() => Promise.resolve(answer(200, streamOf(bytes("ok")))));
    const clock = new ManualClock();
    const out = await send({ transport, clock }, "https://api.example.com/x", { method: "GET", headers: {} }, options);
    assert.equal(out.status, 200);
    assert.equal(new TextDecoder().decode(out.body), "ok");
    assert.equal(clock.pending, 0);
  });
});
