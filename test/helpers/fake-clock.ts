/** A manual clock for tests: time moves only when the test says so. */
import type { Clock } from "../../src/clock.ts";

interface Timer {
  at: number;
  resolve: () => void;
}

/** Fake clock with pending timers; `advance` fires the ones that come due. */
export class FakeClock implements Clock {
  #now: number;
  #timers: Timer[] = [];
  /** When true, `sleep` resolves at once and moves time forward by its duration. */
  autoAdvance: boolean;

  constructor(start = Date.UTC(2026, 10, 29, 12, 0, 0), autoAdvance = false) {
    this.#now = start;
    this.autoAdvance = autoAdvance;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.autoAdvance) {
      this.#now += ms;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer: Timer = { at: this.#now + ms, resolve };
      this.#timers.push(timer);
      signal?.addEventListener(
        "abort",
        () => {
          this.#timers = this.#timers.filter((t) => t !== timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Moves time forward, firing due timers in order, letting promise chains run between them. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flush();
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.resolve();
    }
    this.#now = target;
    await flush();
  }

  /** Sets the time outright (no timers fire). */
  set(ms: number): void {
    this.#now = ms;
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.#timers.length;
  }
}

/** Lets every queued microtask and promise continuation run. */
export async function flush(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    // A zero-delay macrotask: body streams of Response may settle on the next turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Awaits `pending` while moving `clock` forward in `stepMs` steps, so back-off sleeps elapse. */
export async function settle<T>(pending: Promise<T>, clock: FakeClock, stepMs = 250, maxSteps = 400): Promise<T> {
  let done = false;
  const tracked = pending.finally(() => {
    done = true;
  });
  tracked.catch(() => {});
  for (let i = 0; i < maxSteps && !done; i++) await clock.advance(stepMs);
  return tracked;
}
