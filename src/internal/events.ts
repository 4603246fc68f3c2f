/**
 * Delivering progress events to the caller's listener.
 *
 * @module
 */
import type { CerberusToken } from "../auth/token.ts";
import type { CerberusEvent, EventListener } from "../events.ts";

/** Announces a token obtained in `region` (`-` where none applies): facts only, never the token. */
export function emitSuccess(listener: EventListener | undefined, token: CerberusToken, region: string): void {
  const info = token.info;
  emit(listener, {
    type: "auth.success",
    method: info.method,
    principal: info.principal,
    region,
    expiresAt: info.expiresAt,
    policies: [...info.policies],
  });
}

/** Calls `listener` with `event`, swallowing anything it throws. */
export function emit<E extends CerberusEvent>(listener: ((event: E) => void) | undefined, event: E): void {
  if (!listener) return;
  try {
    listener(event);
  } catch {
    // A listener's failure must not change the outcome of authentication or a read.
  }
}
