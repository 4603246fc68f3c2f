/**
 * The one way an auth provider asks Cerberus for a token or a payload.
 *
 * @module
 */
import { callCerberus, type CerberusCall } from "../client/request.ts";
import { AbortedError, TransportError } from "../errors.ts";
import type { Answer } from "../internal/http.ts";
import { retry } from "../internal/retry.ts";
import type { AuthContext } from "./provider.ts";

/**
 * Sends an authentication call. Asking for a token or an auth payload is safe to repeat, and a
 * keep-alive socket the server just closed fails a POST without a transport-level retry: one more
 * try on a connection error (never after a timeout, which may have reached the server).
 */
export function callAuth(context: AuthContext, call: CerberusCall): Promise<Answer> {
  return retry(() => callCerberus(context, call), { attempts: 2, baseDelayMs: 0, maxDelayMs: 0 }, {
    clock: context.http.clock,
    signal: context.signal,
    aborted: (reason) =>
      new AbortedError("authentication was aborted by the caller", { step: call.step, cause: reason }),
    retryable: (error) => error instanceof TransportError && error.code !== "TIMEOUT",
  });
}
