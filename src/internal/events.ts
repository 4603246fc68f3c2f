/**
 * Delivering progress events to the caller's listener.
 *
 * @module
 */
import type { CerberusEvent, EventListener } from "../events.ts";

/** Calls `listener` with `event`, swallowing anything it throws. */
export function emit(listener: EventListener | undefined, event: CerberusEvent): void {
  if (!listener) return;
  try {
    listener(event);
  } catch {
    // A listener's failure must not change the outcome of authentication or a read.
  }
}
