/**
 * The one single-flight cache: a value loaded on demand, shared by every concurrent caller,
 * kept until it is due for refresh, and refreshed in the background while it is still valid.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { abortable, within } from "./wait.ts";

/** A cached value with one load in flight at a time. */
export interface Cached<T> {
  /**
   * A value that is valid now: the cached one, or the result of the (shared) load. A caller who
   * must wait stops waiting when `signal` aborts or at `deadline` (clock time, ms); the load goes on.
   */
  get(signal?: AbortSignal, deadline?: number): Promise<T>;
  /** The value held now, if any (possibly stale). */
  peek(): T | undefined;
  /** Drops `value` (or whatever is held, when omitted) unless a newer value replaced it. */
  invalidate(value?: T): void;
}

/** How a {@link cachedUntil} value ages. */
export interface CachePolicy<T> {
  /** Clock deciding freshness. */
  clock: Clock;
  /** From when a value should be replaced (ms since the epoch). */
  refreshAt(value: T): number;
  /**
   * Until when a value may still be served while a replacement loads in the background
   * (default: `refreshAt`, i.e. no background refresh).
   */
  expiresAt?(value: T): number;
  /** The error a caller gets when its signal aborts its wait. */
  aborted(reason: unknown): unknown;
  /** The error a caller gets when its deadline passes while it waits. */
  timedOut?(): unknown;
  /** Told when a load starts: `expiring` (in the background) or `missing`. */
  onLoad?(reason: "expiring" | "missing"): void;
  /** Pause after a failed background load before the next one (default 5 s). */
  backgroundRetryMs?: number;
}

/** Wraps `load` in a single-flight cache governed by `policy`. */
export function cachedUntil<T>(load: () => Promise<T>, policy: CachePolicy<T>): Cached<T> {
  let value: T | undefined;
  let inFlight: Promise<T> | undefined;
  let backgroundFailedAt = Number.NEGATIVE_INFINITY;

  // The shared load takes no caller's signal: it must not die because the first caller gave up.
  const start = (reason: "expiring" | "missing"): Promise<T> => {
    if (!inFlight) {
      policy.onLoad?.(reason);
      inFlight = load()
        .then((loaded) => {
          value = loaded;
          backgroundFailedAt = Number.NEGATIVE_INFINITY;
          return loaded;
        })
        .finally(() => {
          inFlight = undefined;
        });
    }
    return inFlight;
  };

  return {
    get(signal, deadline) {
      const now = policy.clock.now();
      if (value !== undefined) {
        if (now < policy.refreshAt(value)) return Promise.resolve(value);
        if (now < (policy.expiresAt ?? policy.refreshAt)(value)) {
          if (!inFlight && now - backgroundFailedAt >= (policy.backgroundRetryMs ?? 5_000)) {
            start("expiring").catch(() => {
              backgroundFailedAt = policy.clock.now();
            });
          }
          return Promise.resolve(value);
        }
      }
      const waiting = abortable(start("missing"), signal, () => policy.aborted(signal?.reason));
      return deadline === undefined ? waiting : within(waiting, policy.clock, deadline - now, policy.timedOut);
    },
    peek: () => value,
    invalidate(stale) {
      if (stale === undefined || value === stale) value = undefined;
    },
  };
}
