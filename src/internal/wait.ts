/**
 * The one abortable wait: stop waiting for a promise (or a timer) when a signal aborts,
 * without cancelling the work for anyone else who waits on it.
 *
 * @module
 */
import type { Clock } from "../clock.ts";

/**
 * Resolves or rejects as `promise` does, or rejects with `onAbort()` as soon as `signal` aborts.
 * The promise keeps running for its other waiters; its rejection is always handled here, so a
 * caller who stopped waiting never leaves an unhandled rejection behind.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => unknown): Promise<T> {
  promise.catch(() => {});
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/**
 * Resolves or rejects as `promise` does, or rejects with `onTimeout()` after `ms` on `clock`
 * (the promise keeps running; its later rejection is handled).
 */
export function within<T>(
  promise: Promise<T>,
  clock: Clock,
  ms: number,
  onTimeout: (() => unknown) | undefined,
): Promise<T> {
  promise.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimer(Math.max(0, ms), () => reject(onTimeout?.() ?? new Error("timed out")));
    promise.then(resolve, reject).finally(cancel);
  });
}

/** Waits `ms` on `clock`; rejects with `onAbort()` (and cancels the timer) when `signal` aborts. */
export function sleep(
  clock: Clock,
  ms: number,
  signal: AbortSignal | undefined,
  onAbort: () => unknown,
): Promise<void> {
  let cancel = () => {};
  const timer = new Promise<void>((resolve) => {
    cancel = clock.setTimer(ms, resolve);
  });
  return abortable(timer, signal, () => {
    cancel();
    return onAbort();
  });
}
