/**
 * Cerberus's error codes and its error body `{"error_id", "errors": [{"code", "message"}]}`.
 *
 * @module
 */
import { jsonResponse } from "../http.ts";

/** The Cerberus error codes the stack answers with, their HTTP statuses and default messages. */
export const CERBERUS_ERRORS = {
  99000: { status: 400, message: "Request body required" },
  99001: { status: 400, message: "Request body malformed." },
  99102: { status: 400, message: "AWS account id is malformed." },
  99103: { status: 400, message: "AWS IAM role name is invalid." },
  99104: { status: 400, message: "AWS region is malformed." },
  99105: { status: 401, message: "X-Vault-Token or X-Cerberus-Token header is malformed or invalid." },
  99106: { status: 401, message: "Invalid credentials" },
  99203: { status: 400, message: "User group role id is invalid." },
  99206: { status: 400, message: "The role id for the IAM role is invalid." },
  99207: { status: 400, message: "The category id is invalid." },
  99208: { status: 400, message: "The name may not be blank." },
  99209: { status: 400, message: "The owner may not be blank." },
  99210: { status: 400, message: "Duplicate SDB names are not allowed." },
  99215: { status: 400, message: "Invalid AWS region." },
  99216: { status: 400, message: "The specified IAM principal is not valid." },
  99223: { status: 500, message: "KMS rejected the IAM Role ARN with an InvalidArnException." },
  99224: { status: 400, message: "Invalid query params" },
  99226: { status: 400, message: "Invalid AWS IAM role specified for the SDB." },
  99228: { status: 400, message: "AWS region is malformed." },
  99229: { status: 400, message: "Invalid AWS region provided during authentication." },
  99230: { status: 403, message: "Maximum token refresh count reached, re-authentication required." },
  99231: { status: 403, message: "The requested resource is for User Principals only." },
  99235: {
    status: 400,
    message:
      "Failed to update secret. The new value is of a different type than the current value (e.g. file vs. key/value map).",
  },
  99236: { status: 400, message: "One or more required headers are missing." },
  99237: {
    status: 400,
    message: "Signature does not match. Make sure the request is signed with sts.{region}.amazonaws.com as host.",
  },
  99238: { status: 401, message: "The security token included in the request is expired." },
  99239: { status: 401, message: "Failed to login. Please confirm email and password and try again." },
  99243: { status: 401, message: "Failed to validate factor. Please try again or try a different factor." },
  99248: { status: 401, message: "User did not respond to push notification before timeout expired" },
  99249: { status: 401, message: "Push notification request was rejected by user" },
  99994: { status: 403, message: "Access to the requested resource was denied." },
  99996: { status: 404, message: "Not found" },
  99997: { status: 503, message: "Service is unavailable at this time." },
  99998: { status: 500, message: "Internal server error has occurred." },
  99999: { status: 400, message: "Request will not be completed." },
} as const satisfies Record<number, { status: number; message: string }>;

/** A Cerberus error code the stack knows. */
export type CerberusErrorCode = keyof typeof CERBERUS_ERRORS;

/** A Cerberus error response with the code's status and its (or a custom) message. */
export function cerberusError(code: CerberusErrorCode, message?: string): Response {
  const known = CERBERUS_ERRORS[code];
  return jsonResponse(known.status, {
    error_id: crypto.randomUUID(),
    errors: [{ code, message: message ?? known.message }],
  });
}
