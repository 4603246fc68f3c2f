/**
 * The stack's server time: a base time source plus a settable offset, and per-service skews
 * (a service whose clock is off validates signatures and dates its answers with its own time).
 *
 * @module
 */
import type { ServiceName, TimeSource } from "./types.ts";

/** Server time of a stack. */
export class StackClock {
  readonly #base: TimeSource;
  readonly #skews = new Map<ServiceName, number>();
  #offsetMs = 0;

  /** @param base the underlying time source (default `Date.now`). */
  constructor(base: TimeSource = () => Date.now()) {
    this.#base = base;
  }

  /** Milliseconds added to the base time for every service. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Sets the offset added to the base time (e.g. `2 * 3600_000` to be two hours ahead). */
  setOffset(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError("offset must be finite");
    this.#offsetMs = ms;
  }

  /** Moves server time forward (or back, with a negative value) by `ms`. */
  advance(ms: number): void {
    this.setOffset(this.#offsetMs + ms);
  }

  /** Server time now, ms. */
  now(): number {
    return this.#base() + this.#offsetMs;
  }

  /** Sets an extra skew for one service's clock (0 removes it). */
  skew(service: ServiceName, ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError("skew must be finite");
    if (ms === 0) this.#skews.delete(service);
    else this.#skews.set(service, ms);
  }

  /** The time source of one service (stack time plus that service's skew). */
  serviceTime(service: ServiceName): TimeSource {
    return () => this.now() + (this.#skews.get(service) ?? 0);
  }
}
