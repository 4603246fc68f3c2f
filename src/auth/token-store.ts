/**
 * Holds the current token, refreshes it before it expires, and makes sure that however many
 * callers ask at once, only one authentication is in flight.
 *
 * @module
 */
import { untilAborted } from "../abort.ts";
import type { Clock } from "../clock.ts";
import { emit, type EventListener } from "../events.ts";
import type { CerberusToken } from "./token.ts";

/** Options of {@link TokenStore}. */
export interface TokenStoreOptions {
  /** Obtains a fresh token (the auth provider bound to its context). */
  authenticate: (signal?: AbortSignal) => Promise<CerberusToken>;
  /** Clock. */
  clock: Clock;
  /** Progress events. */
  onEvent?: EventListener | undefined;
  /** Largest refresh margin in ms (default 5 minutes). */
  maxRefreshMarginMs?: number;
}

/**
 * How long before expiry a token is refreshed: a fifth of the lease, at most
 * `maxMarginMs` — 5 minutes of a 1-hour lease, 12 s of a 1-minute lease.
 */
export function refreshMarginMs(leaseSeconds: number, maxMarginMs = 5 * 60_000): number {
  return Math.min(maxMarginMs, leaseSeconds * 200);
}

/** Minimum pause after a failed background refresh before the next one starts. */
const BACKGROUND_RETRY_MS = 5_000;

/** The token cache with single-flight authentication. */
export class TokenStore {
  readonly #options: TokenStoreOptions;
  #token: CerberusToken | undefined;
  #inFlight: Promise<CerberusToken> | undefined;
  #backgroundFailedAt = Number.NEGATIVE_INFINITY;

  /** @param options how to authenticate, and the clock. */
  constructor(options: TokenStoreOptions) {
    this.#options = options;
  }

  /** The token now held, if any (possibly expired). */
  get current(): CerberusToken | undefined {
    return this.#token;
  }

  /**
   * A token that is valid now. Within the refresh margin the current token is returned
   * while one refresh runs in the background; once expired, callers wait for the refresh.
   */
  async get(signal?: AbortSignal): Promise<CerberusToken> {
    const token = this.#token;
    const now = this.#options.clock.now();
    if (token) {
      const expiresAt = token.info.expiresAt.getTime();
      const refreshAt = expiresAt - refreshMarginMs(token.info.leaseDurationSeconds, this.#options.maxRefreshMarginMs);
      if (now < refreshAt) return token;
      if (now < expiresAt) {
        if (!this.#inFlight && now - this.#backgroundFailedAt >= BACKGROUND_RETRY_MS) {
          emit(this.#options.onEvent, { type: "token.refresh", reason: "expiring" });
          this.#refresh().catch(() => {
            this.#backgroundFailedAt = this.#options.clock.now();
          });
        }
        return token;
      }
      if (!this.#inFlight) emit(this.#options.onEvent, { type: "token.refresh", reason: "expired" });
    }
    return untilAborted(this.#refresh(), signal, "token", "authentication");
  }

  /**
   * Drops `token` after Cerberus rejected it, unless a newer one already replaced it
   * (so a burst of 401s for the same token triggers one re-authentication).
   */
  invalidate(token: CerberusToken): void {
    if (this.#token === token) {
      this.#token = undefined;
      emit(this.#options.onEvent, { type: "token.refresh", reason: "rejected" });
    }
  }

  /** Forgets the token (e.g. after logout). */
  clear(): void {
    this.#token = undefined;
  }

  /** Starts an authentication unless one is running; every caller shares it. */
  #refresh(): Promise<CerberusToken> {
    // The shared attempt takes no caller's signal: it must not die because the first caller
    // gave up. Each caller stops waiting on its own signal instead (untilAborted).
    this.#inFlight ??= this.#options
      .authenticate()
      .then((token) => {
        this.#token = token;
        this.#backgroundFailedAt = Number.NEGATIVE_INFINITY;
        return token;
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

}
