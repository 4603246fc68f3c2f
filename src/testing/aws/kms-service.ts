/**
 * The emulated AWS KMS endpoint (JSON 1.1 protocol): `TrentService.Decrypt` and
 * `TrentService.Encrypt`, SigV4-verified with a 5-minute skew window.
 *
 * @module
 */
import { fromBase64, toBase64, utf8Text } from "../encoding.ts";
import { httpDate, isRecord, parseJson, readBody, stringField } from "../http.ts";
import type { FetchHandler, TimeSource } from "../types.ts";
import type { AwsIdentityStore, CredentialRecord } from "./identity.ts";
import { KMS_CONTENT_TYPE, kmsErrorResponse, type KmsErrorType } from "./kms-errors.ts";
import type { EncryptionContext, KmsKey, KmsKeyStore } from "./kms-keys.ts";
import { isKnownRegion, regionOfAwsHost } from "./regions.ts";
import { type SigV4Failure, verifySigV4 } from "./sigv4-verify.ts";

/** What the KMS service needs. */
export interface KmsServiceOptions {
  /** Where access keys are looked up. */
  identities: AwsIdentityStore;
  /** The key material. */
  keys: KmsKeyStore;
  /** Server time. */
  now: TimeSource;
}

/** KMS's clock-skew tolerance for SigV4. */
export const KMS_MAX_SKEW_MS = 5 * 60_000;

const MAX_BODY = 64 * 1024;
const FOREIGN_BLOB =
  "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.";

/** Creates the KMS fetch handler. */
export function createKmsService(options: KmsServiceOptions): FetchHandler {
  return async (request) => {
    const now = options.now();
    const error = (type: KmsErrorType, message?: string) => kmsErrorResponse(type, message, now);
    const read = await readBody(request, MAX_BODY);
    if (!read.ok) return error("SerializationException", "Request body could not be read or is too large.");
    const verified = await verifySigV4(request, read.bytes, {
      service: "kms",
      identities: options.identities,
      now,
      maxSkewMs: KMS_MAX_SKEW_MS,
    });
    if (!verified.ok) return signatureError(verified.failure, now);
    const region = verified.value.region;
    const hostRegion = regionOfAwsHost(new URL(request.url).hostname, "kms");
    if (!isKnownRegion(region) || (hostRegion !== undefined && hostRegion !== region)) {
      return error("InvalidSignatureException", "Credential should be scoped to a valid region.");
    }
    if (request.method !== "POST") return error("UnknownOperationException");
    const target = request.headers.get("x-amz-target");
    if (target !== "TrentService.Decrypt" && target !== "TrentService.Encrypt") {
      return error("UnknownOperationException");
    }
    const text = utf8Text(read.bytes);
    const input = text === undefined ? undefined : parseJson(text);
    if (!isRecord(input)) return error("SerializationException", "Start of structure or map found where not expected.");
    const context = parseContext(input["EncryptionContext"]);
    if (context === undefined) return error("SerializationException", "EncryptionContext must be a map of strings.");
    const call: KmsCall = { region, caller: verified.value.credential, input, context, now };
    return target === "TrentService.Decrypt" ? decrypt(options.keys, call) : encrypt(options.keys, call);
  };
}

interface KmsCall {
  region: string;
  caller: CredentialRecord;
  input: Record<string, unknown>;
  context: EncryptionContext;
  now: number;
}

async function decrypt(keys: KmsKeyStore, call: KmsCall): Promise<Response> {
  const error = (type: KmsErrorType, message?: string) => kmsErrorResponse(type, message, call.now);
  const encoded = call.input["CiphertextBlob"];
  if (encoded === undefined || encoded === null) {
    return error(
      "ValidationException",
      "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
    );
  }
  const blob = typeof encoded === "string" ? fromBase64(encoded) : undefined;
  if (blob === undefined) return error("SerializationException", "CiphertextBlob is not valid base64.");
  if (blob.length < 1 || blob.length > 6144) {
    return error(
      "ValidationException",
      "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length between 1 and 6144",
    );
  }
  const key = keys.keyOfBlob(call.region, blob);
  if (!key) return error("InvalidCiphertextException", FOREIGN_BLOB);
  const requestedKey = stringField(call.input, "KeyId");
  if (requestedKey !== undefined && keys.resolve(call.region, requestedKey) !== key) {
    return error(
      "IncorrectKeyException",
      "The key ID in the request does not identify a CMK that can perform this operation.",
    );
  }
  if (!keys.mayDecrypt(key, call.caller)) {
    return error("AccessDeniedException", denied(call.caller, "kms:Decrypt", key));
  }
  const stateError = keyStateError(key);
  if (stateError) return error(stateError[0], stateError[1]);
  const outcome = await keys.decrypt(key, blob, call.context);
  if (!outcome.ok) return error("InvalidCiphertextException");
  return success(call.now, {
    KeyId: key.arn,
    Plaintext: toBase64(outcome.plaintext),
    EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
  });
}

async function encrypt(keys: KmsKeyStore, call: KmsCall): Promise<Response> {
  const error = (type: KmsErrorType, message?: string) => kmsErrorResponse(type, message, call.now);
  const keyId = stringField(call.input, "KeyId");
  if (keyId === undefined) {
    return error(
      "ValidationException",
      "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
    );
  }
  const encoded = call.input["Plaintext"];
  const plaintext = typeof encoded === "string" ? fromBase64(encoded) : undefined;
  if (plaintext === undefined) return error("SerializationException", "Plaintext is not valid base64.");
  if (plaintext.length < 1 || plaintext.length > 4096) {
    return error(
      "ValidationException",
      "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
    );
  }
  const key = keys.resolve(call.region, keyId);
  if (!key) return error("NotFoundException", `Key '${keyId}' does not exist`);
  if (!keys.mayEncrypt(key, call.caller)) {
    return error("AccessDeniedException", denied(call.caller, "kms:Encrypt", key));
  }
  const stateError = keyStateError(key);
  if (stateError) return error(stateError[0], stateError[1]);
  const blob = await keys.encrypt(key, plaintext, call.context);
  return success(call.now, {
    CiphertextBlob: toBase64(blob),
    KeyId: key.arn,
    EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
  });
}

function success(now: number, body: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": KMS_CONTENT_TYPE, "x-amzn-requestid": crypto.randomUUID(), date: httpDate(now) },
  });
}

function keyStateError(key: KmsKey): [KmsErrorType, string] | undefined {
  if (key.state === "Disabled") return ["DisabledException", `${key.arn} is disabled.`];
  if (key.state === "PendingDeletion") return ["KMSInvalidStateException", `${key.arn} is pending deletion.`];
  return undefined;
}

function denied(caller: CredentialRecord, action: string, key: KmsKey): string {
  return `User: ${caller.callerArn} is not authorized to perform: ${action} on resource: ${key.arn} because no resource-based policy allows the ${action} action`;
}

function parseContext(value: unknown): EncryptionContext | undefined {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return undefined;
  const context: EncryptionContext = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") return undefined;
    context[k] = v;
  }
  return context;
}

function signatureError(failure: SigV4Failure, now: number): Response {
  switch (failure.kind) {
    case "missing-auth":
      return kmsErrorResponse("MissingAuthenticationTokenException", failure.message, now);
    case "incomplete":
      return kmsErrorResponse("IncompleteSignatureException", failure.message, now);
    case "unknown-key":
    case "invalid-token":
      return kmsErrorResponse("UnrecognizedClientException", failure.message, now);
    case "expired-token":
      return kmsErrorResponse("ExpiredTokenException", failure.message, now);
    case "skew":
    case "scope":
    case "mismatch":
      return kmsErrorResponse("InvalidSignatureException", failure.message, now);
  }
}
