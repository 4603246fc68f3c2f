/**
 * The client's token: obtained on first use, refreshed before it expires, and shared by every
 * concurrent caller with one authentication in flight.
 *
 * @module
 */
import { AbortedError, TransportError } from "../errors.ts";
import type { EventListener } from "../events.ts";
import { type Cached, cachedUntil } from "../internal/cache.ts";
import type { Clock } from "../clock.ts";
import { emit } from "../internal/events.ts";
import type { CerberusToken } from "./token.ts";

/**
 * How long before expiry a token is refreshed: a fifth of the lease, at most five minutes
 * (5 minutes of a 1-hour lease, 12 s of a 1-minute lease).
 */
export function refreshMarginMs(leaseSeconds: number): number {
  return Math.min(5 * 60_000, leaseSeconds * 200);
}

/**
 * A token cache on {@link cachedUntil}: within the refresh margin the current token is served
 * while one refresh runs in the background; once expired, callers wait for the refresh. Each
 * token is refreshed at a random point between one and two margins before it expires, so that
 * a fleet started together does not authenticate again together.
 */
export function createTokenStore(
  authenticate: () => Promise<CerberusToken>,
  clock: Clock,
  onEvent?: EventListener,
  random: () => number = Math.random,
): Cached<CerberusToken> {
  const refreshTimes = new WeakMap<CerberusToken, number>();
  const refreshAt = (t: CerberusToken) => {
    let at = refreshTimes.get(t);
    if (at === undefined) {
      const margin = refreshMarginMs(t.info.leaseDurationSeconds);
      refreshTimes.set(t, at = t.info.expiresAt.getTime() - margin - Math.floor(random() * margin));
    }
    return at;
  };
  const store: Cached<CerberusToken> = cachedUntil(authenticate, {
    clock,
    refreshAt,
    expiresAt: (t) => t.info.expiresAt.getTime(),
    aborted: (reason) =>
      new AbortedError("waiting for authentication was aborted by the caller", { step: "token", cause: reason }),
    timedOut: () =>
      new TransportError("the operation's time budget ran out while waiting for authentication", {
        step: "token",
        timedOut: true,
      }),
    onLoad: (reason) => {
      if (store.peek()) {
        emit(onEvent, { type: "token.refresh", reason: reason === "expiring" ? "expiring" : "expired" });
      }
    },
  });
  return {
    get: store.get,
    peek: store.peek,
    invalidate(token) {
      if (token !== undefined && store.peek() === token) emit(onEvent, { type: "token.refresh", reason: "rejected" });
      store.invalidate(token);
    },
  };
}
