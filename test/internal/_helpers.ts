/**
 * Small helpers shared by the tests under test/internal, test/aws and test/runtime (not a test
 * file itself: runners only pick up `*.test.ts`).
 */
import assert from "node:assert/strict";
import type { Step } from "../../src/errors.ts";
import { send } from "../../src/internal/http.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import type { HttpTransport, TransportInit, TransportResponse } from "../../src/transport.ts";

/** Resolves with what `promise` rejected with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A promise settled from the outside. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One request seen by {@link spy}. */
export interface SeenRequest {
  url: URL;
  init: TransportInit;
  /** A request header, by case-insensitive name. */
  header(name: string): string | undefined;
  /** The body as text. */
  text(): string;
}

/** Wraps a transport (the emulator's, usually) and records every request it is given. */
export function spy(inner: HttpTransport): { transport: HttpTransport; seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const transport: HttpTransport = (url, init) => {
    seen.push({
      url: new URL(url),
      init,
      header(name) {
        const key = Object.keys(init.headers).find((k) => k.toLowerCase() === name.toLowerCase());
        return key === undefined ? undefined : init.headers[key];
      },
      text: () => (init.body === undefined
        ? ""
        : typeof init.body === "string"
        ? init.body
        : new TextDecoder().decode(init.body)),
    });
    return inner(url, init);
  };
  return { transport, seen };
}

/** UTF-8 bytes of a string. */
export const bytes = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);

/** UTF-8 text of bytes. */
export const utf8 = (data: Uint8Array): string => new TextDecoder().decode(data);

/** A hand-made answer: status, headers (lower-case names) and a body. */
export function answer(
  status: number,
  body: TransportResponse["body"],
  headers: Record<string, string> = {},
): TransportResponse {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { status, headers: { get: (name) => lower[name.toLowerCase()] ?? null }, body };
}

/** A byte stream of these chunks. */
export function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/**
 * The whole body of an answer, read by `send()` (the library's one bounded reader) from a
 * transport that gives this answer; no timeout fires (the clock is manual).
 */
export async function readAll(
  response: TransportResponse,
  limit = 1024 * 1024,
  step: Step = "response",
): Promise<Uint8Array> {
  const http = { transport: () => Promise.resolve(response), clock: new ManualClock() };
  const read = await send(http, "http://127.0.0.1/", { method: "GET", headers: {} }, {
    step,
    timeoutMs: 60_000,
    limit,
  });
  return read.body;
}

/** Counts the `abort` listeners on `signal` that were added and not yet removed. */
export function trackListeners(signal: AbortSignal): { readonly active: number } {
  const active = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, listener: EventListener, options?: AddEventListenerOptions) => {
    if (type === "abort") active.add(listener);
    add(type, listener, options);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, listener: EventListener) => {
    if (type === "abort") active.delete(listener);
    remove(type, listener);
  }) as typeof signal.removeEventListener;
  return {
    get active() {
      return active.size;
    },
  };
}

/** Runs `fn` and returns what it threw (undefined when it returned). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error;
  }
}
