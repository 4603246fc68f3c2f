/**
 * The one way an auth provider asks Cerberus for a token or a payload.
 *
 * @module
 */
import { callCerberus, type CerberusCall } from "../client/request.ts";
import { type CerberusEdgeError, InvalidInputError, TransportError } from "../errors.ts";
import { asLibraryError } from "../internal/failure.ts";
import type { Answer } from "../internal/http.ts";
import type { AuthContext } from "./provider.ts";

/**
 * Sends an authentication call within the authentication's budget; {@link callCerberus} retries
 * it as an authentication (not after a timeout).
 */
export function callAuth(context: AuthContext, call: CerberusCall): Promise<Answer> {
  return callCerberus(context, { ...call, deadline: context.deadline });
}

/**
 * What one failed attempt of an authentication leaves: rethrows what would fail every other
 * principal and region alike (an abort, a setting that is wrong, a Cerberus that cannot be
 * reached), so that it is said once; otherwise returns the failure as a library error.
 */
export function attemptFailure(context: AuthContext, error: unknown): CerberusEdgeError {
  if (context.signal?.aborted || error instanceof InvalidInputError) throw error;
  if (error instanceof TransportError && error.step === "cerberus-auth") throw error;
  return asLibraryError(error, "cerberus-auth", "authentication");
}
