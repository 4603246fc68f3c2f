/**
 * A clock for tests whose time moves only when the test says so. It is the core's `Clock`, so a
 * client and the local stack can share one: expiry, timeouts, back-off and injected latency
 * then happen without sleeping.
 *
 * @example
 * ```ts
 * import { createLocalStack, ManualClock } from "cerberus-edge/testing";
 * const clock = new ManualClock();
 * const stack = createLocalStack({ clock });
 * stack.faults.inject("cerberus", { kind: "latency", ms: 5_000 });
 * const answer = stack.transport(`${stack.cerberus}/healthcheck`);
 * await clock.advance(5_000); // the latency elapses; `answer` resolves
 * ```
 *
 * @module
 */
import type { Clock } from "../clock.ts";

/** Options of {@link ManualClock}. */
export interface ManualClockOptions {
  /** Start time, ms since the Unix epoch (default `Date.UTC(2026, 10, 29, 12, 0, 0)`). */
  start?: number;
  /**
   * Fire every timer on the next microtask turn, moving time forward by its delay, instead of
   * waiting for {@link ManualClock.advance} (default `false`). Handy for back-off; note that
   * every timer fires, timeouts included, unless it is cancelled first.
   */
  autoAdvance?: boolean;
}

interface Timer {
  at: number;
  delay: number;
  seq: number;
  callback: () => void;
}

const DEFAULT_START = Date.UTC(2026, 10, 29, 12, 0, 0);

/** A `Clock` whose time and timers move only through {@link advance}, {@link set} or auto-advance. */
export class ManualClock implements Clock {
  #now: number;
  #timers: Timer[] = [];
  #seq = 0;
  /** When true, timers fire on the next microtask turn and move time forward by their delay. */
  autoAdvance: boolean;

  /** @param options start time and auto-advance mode. */
  constructor(options: ManualClockOptions = {}) {
    const start = options.start ?? DEFAULT_START;
    if (!Number.isFinite(start)) throw new RangeError("start must be finite");
    this.#now = start;
    this.autoAdvance = options.autoAdvance ?? false;
  }

  /** The clock's time, ms since the Unix epoch. */
  now(): number {
    return this.#now;
  }

  /** Calls `callback` once when the clock has moved `ms` forward; the returned function cancels it. */
  setTimer(ms: number, callback: () => void): () => void {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: Timer = { at: this.#now + delay, delay, seq: this.#seq++, callback };
    this.#timers.push(timer);
    if (this.autoAdvance) {
      queueMicrotask(() => {
        if (!this.#remove(timer)) return;
        this.#now += timer.delay;
        timer.callback();
      });
    }
    return () => {
      this.#remove(timer);
    };
  }

  /**
   * Moves time forward by `ms`, firing the timers that come due in time order (equal times in
   * the order they were set). Pending promise continuations run before each timer and at the
   * end, so work a timer starts (a response body, a retry) can settle and set the next timer,
   * which fires too when it falls inside the window. `advance(0)` only lets work run.
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError("advance takes a finite, non-negative number of ms");
    const target = this.#now + ms;
    for (;;) {
      await turns();
      const due = this.#next(target);
      if (!due) break;
      this.#remove(due);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
    }
    this.#now = Math.max(this.#now, target);
    await turns();
  }

  /** Sets the time outright. No timer fires; timers already due fire on the next {@link advance}. */
  set(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError("time must be finite");
    this.#now = ms;
  }

  /** Number of timers set and neither fired nor cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Awaits `promise` while advancing the clock `stepMs` at a time, so that the sleeps and
   * timeouts it waits on elapse; resolves or rejects with its outcome. Rejects with an `Error`
   * when it is still pending after `maxSteps` steps, instead of waiting forever.
   */
  async settle<T>(promise: Promise<T>, stepMs = 250, maxSteps = 400): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    tracked.catch(() => {});
    for (let step = 0; step < maxSteps && !done; step++) await this.advance(stepMs);
    if (!done) throw new Error(`the promise did not settle within ${maxSteps} steps of ${stepMs} ms`);
    return tracked;
  }

  #next(target: number): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.#timers) {
      if (timer.at > target) continue;
      if (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer;
    }
    return best;
  }

  #remove(timer: Timer): boolean {
    const index = this.#timers.indexOf(timer);
    if (index < 0) return false;
    this.#timers.splice(index, 1);
    return true;
  }
}

/** Lets queued promise continuations run: a few zero-delay macrotask turns, since response bodies may settle on the next one. */
async function turns(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
