/**
 * The one way an auth provider asks Cerberus for a token or a payload.
 *
 * @module
 */
import { callCerberus, type CerberusCall } from "../client/request.ts";
import type { Answer } from "../internal/http.ts";
import type { AuthContext } from "./provider.ts";

/**
 * Sends an authentication call within the authentication's budget; {@link callCerberus} retries
 * it as an authentication (not after a timeout).
 */
export function callAuth(context: AuthContext, call: CerberusCall): Promise<Answer> {
  return callCerberus(context, { ...call, deadline: context.deadline });
}
