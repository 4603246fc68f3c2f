/**
 * KMS error types, their HTTP statuses, and the JSON 1.1 error body.
 *
 * @module
 */
import { httpDate } from "../http.ts";

/** The error types the emulated KMS (and its fault injection) can answer with. */
export type KmsErrorType =
  | "AccessDeniedException"
  | "DependencyTimeoutException"
  | "DisabledException"
  | "ExpiredTokenException"
  | "IncompleteSignatureException"
  | "IncorrectKeyException"
  | "InvalidCiphertextException"
  | "InvalidKeyUsageException"
  | "InvalidSignatureException"
  | "KeyUnavailableException"
  | "KMSInternalException"
  | "KMSInvalidStateException"
  | "MissingAuthenticationTokenException"
  | "NotFoundException"
  | "SerializationException"
  | "ThrottlingException"
  | "UnknownOperationException"
  | "UnrecognizedClientException"
  | "ValidationException";

/** HTTP status KMS uses for each error type. */
export const KMS_ERROR_STATUS: Readonly<Record<KmsErrorType, number>> = {
  AccessDeniedException: 400,
  DependencyTimeoutException: 503,
  DisabledException: 400,
  ExpiredTokenException: 400,
  IncompleteSignatureException: 400,
  IncorrectKeyException: 400,
  InvalidCiphertextException: 400,
  InvalidKeyUsageException: 400,
  InvalidSignatureException: 400,
  KeyUnavailableException: 500,
  KMSInternalException: 500,
  KMSInvalidStateException: 400,
  MissingAuthenticationTokenException: 400,
  NotFoundException: 400,
  SerializationException: 400,
  ThrottlingException: 400,
  UnknownOperationException: 400,
  UnrecognizedClientException: 400,
  ValidationException: 400,
};

/** The JSON 1.1 content type KMS answers with. */
export const KMS_CONTENT_TYPE = "application/x-amz-json-1.1";

/** A KMS error response `{"__type", "message"}` with the type's status, a request id and a `Date`. */
export function kmsErrorResponse(
  type: KmsErrorType,
  message: string | undefined,
  nowMs: number,
  status?: number,
): Response {
  const body: Record<string, string> = { __type: type };
  if (message !== undefined) body["message"] = message;
  return new Response(JSON.stringify(body), {
    status: status ?? KMS_ERROR_STATUS[type],
    headers: {
      "content-type": KMS_CONTENT_TYPE,
      "x-amzn-requestid": crypto.randomUUID(),
      date: httpDate(nowMs),
    },
  });
}
