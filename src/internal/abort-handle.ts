/**
 * A cheap stand-in for `AbortController`, for the transports of this library that say they take
 * one (marked by {@link markTakesAbortHandle}). On Node 20 `new AbortController()` and the listeners on its signal cost more than the rest
 * of a warm read's client-side work; `send()` needs one per request only to stop that request.
 * A transport written by anyone else (and `fetch`) still gets a real `AbortSignal`.
 *
 * @module
 */

// Kept apart from the functions, so that a wrapper, a copy or a proxy of one never inherits the mark.
const takers = new WeakSet<object>();

/** Marks `transport` as one that accepts an {@link AbortHandle} as `init.signal`, and returns it. */
export function markTakesAbortHandle<T extends object>(transport: T): T {
  takers.add(transport);
  return transport;
}

/** The part of `AbortSignal` such a transport uses: one `abort` listener at a time. */
export interface AbortHandle {
  /** Whether `abort()` was called. */
  readonly aborted: boolean;
  /** Why, once aborted: an `AbortError` `DOMException`, as `AbortController.abort()` gives. */
  readonly reason: unknown;
  /** Sets the listener called on abort (the one before it is replaced). */
  addEventListener(type: "abort", listener: () => void): void;
  /** Removes the listener if it is this one. */
  removeEventListener(type: "abort", listener: () => void): void;
}

/** The controller of an {@link AbortHandle}; it is its own signal. */
export class AbortHandleController implements AbortHandle {
  aborted = false;
  reason: unknown = undefined;
  #listener: (() => void) | undefined = undefined;

  /** The handle a transport receives. */
  get signal(): AbortHandle {
    return this;
  }

  /** Aborts once; later calls do nothing. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new DOMException("This operation was aborted", "AbortError");
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }

  addEventListener(_type: "abort", listener: () => void): void {
    this.#listener = listener;
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    if (this.#listener === listener) this.#listener = undefined;
  }
}

/** Whether `transport` itself (not a wrapper of it) was marked by {@link markTakesAbortHandle}. */
export function takesAbortHandle(transport: object): boolean {
  return takers.has(transport);
}
