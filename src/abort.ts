/**
 * Waiting on shared work with a caller's own abort signal.
 *
 * @module
 */
import { AbortedError, type Step } from "./errors.ts";

/**
 * Resolves with `promise`, or rejects with an {@link AbortedError} as soon as `signal` aborts.
 * The shared promise keeps running for its other waiters; its rejection is always handled here
 * so that a caller who stopped waiting never leaves an unhandled rejection behind.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, step: Step, what: string): Promise<T> {
  promise.catch(() => {});
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new AbortedError(what, step, signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(what, step, signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
