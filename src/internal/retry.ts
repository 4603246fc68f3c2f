/**
 * The one retry loop: exponential back-off with full jitter, on the injected clock.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { sleep } from "./wait.ts";

/** How often and how patiently to retry. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The back-off ceiling of the first retry, in ms; it doubles with each retry. */
  baseDelayMs: number;
  /** The largest back-off ceiling, in ms. */
  maxDelayMs: number;
}

/** What {@link retry} needs besides the policy. */
export interface RetryOptions {
  /** Clock for the back-off. */
  clock: Clock;
  /** Stops the waiting between attempts. */
  signal?: AbortSignal | undefined;
  /** The error a caller gets when the signal aborts a back-off. */
  aborted(reason: unknown): unknown;
  /** Whether a failure is worth another attempt. */
  retryable(error: unknown): boolean;
  /** Told before each back-off. */
  onRetry?(attempt: number, delayMs: number, error: unknown): void;
  /** Random source in [0, 1) for the jitter (default `Math.random`). */
  random?: () => number;
  /** When the operation's budget ends (clock time, ms): a back-off that would pass it is not taken. */
  deadline?: number | undefined;
  /** A delay the server asked for (`Retry-After`), which replaces the jittered one. */
  delayFor?(error: unknown): number | undefined;
}

/** Runs `attempt` until it succeeds, fails with a non-retryable error, or the attempts run out. */
export async function retry<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  options: RetryOptions,
): Promise<T> {
  for (let n = 1;; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.attempts || options.signal?.aborted || !options.retryable(error)) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
      const delayMs = options.delayFor?.(error) ?? Math.round((options.random ?? Math.random)() * ceiling);
      if (options.deadline !== undefined && options.clock.now() + delayMs >= options.deadline) throw error;
      options.onRetry?.(n, delayMs, error);
      await sleep(options.clock, delayMs, options.signal, () => options.aborted(options.signal?.reason));
    }
  }
}
