/**
 * AWS KMS `Decrypt` as one raw SigV4-signed JSON 1.1 call (docs/wire.md#kms-decrypt).
 *
 * @module
 */
import * as v from "valibot";
import { AbortedError, AwsError, PayloadError, TransportError } from "../errors.ts";
import { decodeBase64, isBase64 } from "../internal/base64.ts";
import { check, matching, parseJson, text } from "../internal/decode.ts";
import { emit } from "../internal/events.ts";
import { BODY_LIMITS, type HttpContext, send } from "../internal/http.ts";
import { retry } from "../internal/retry.ts";
import { sanitize } from "../internal/text.ts";
import type { EventListener } from "../events.ts";
import type { AwsCredentials } from "./credentials.ts";
import { type ClockSkew, learnSkew } from "./skew.ts";
import { signPost } from "./sigv4.ts";

/** What {@link kmsDecrypt} needs. */
export interface KmsDecryptInput {
  /** The base64 `CiphertextBlob`, as Cerberus sent it. */
  ciphertext: string;
  /** KMS region; the signature's scope. */
  region: string;
  /** KMS endpoint for that region. */
  endpoint: string;
  /** Sealed credentials of the principal allowed to decrypt. */
  credentials: AwsCredentials;
  /** Transport and clock. */
  http: HttpContext;
  /** The client's clock skew, corrected in place. */
  skew: ClockSkew;
  /** Caller's abort signal. */
  signal?: AbortSignal | undefined;
  /** Progress events. */
  onEvent?: EventListener | undefined;
  /** When the authentication's time budget ends (clock time, ms). */
  deadline?: number | undefined;
}

const DecryptResponse = v.object({
  KeyId: matching(/./, "KeyId is empty"),
  Plaintext: v.pipe(v.string(), v.check(isBase64, "Plaintext is not base64")),
});

const KmsErrorBody = v.object({
  __type: v.string(),
  message: v.nullish(v.string()),
  Message: v.nullish(v.string()),
});

const SKEW_ERRORS = new Set([
  "InvalidSignatureException",
  "RequestExpired",
  "RequestTimeTooSkewed",
  "SignatureDoesNotMatch",
]);

/**
 * Decrypts with `TrentService.Decrypt`: throttling, 5xx and network failures are retried
 * (3 attempts, jittered back-off); a signature refused for clock skew is re-signed once with
 * the offset learnt from the answer's `Date`.
 */
export function kmsDecrypt(input: KmsDecryptInput): Promise<Uint8Array> {
  const step = "kms-decrypt";
  const body = JSON.stringify({ CiphertextBlob: input.ciphertext });
  let skewCorrected = false;
  const attempt = async (): Promise<Uint8Array> => {
    const headers = await signPost({
      url: input.endpoint,
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.Decrypt" },
      body,
      credentials: input.credentials,
      service: "kms",
      region: input.region,
      time: input.http.clock.now() + input.skew.offsetMs,
      step,
    });
    const answer = await send(input.http, input.endpoint, { method: "POST", headers, body }, {
      step,
      timeoutMs: 5000,
      deadline: input.deadline,
      limit: BODY_LIMITS.aws,
      signal: input.signal,
    });
    const json = parseJson(text(answer.body));
    if (answer.status === 200) {
      const result = json ? check(DecryptResponse, json.value) : { ok: false as const, problem: "is not JSON" };
      if (!result.ok) throw new PayloadError(`the KMS Decrypt answer ${result.problem}`, { step });
      emit(input.onEvent, { type: "kms.decrypt", region: input.region, keyId: sanitize(result.value.KeyId) });
      return decodeBase64(result.value.Plaintext);
    }
    const error = kmsError(answer.status, json?.value);
    if (
      !skewCorrected && SKEW_ERRORS.has(error.awsType ?? "") &&
      learnSkew(input.skew, answer.headers.get("date"), input.http.clock.now())
    ) {
      skewCorrected = true;
      emit(input.onEvent, { type: "request.retry", step, attempt: 1, delayMs: 0, reason: "clock skew corrected" });
      return attempt();
    }
    throw error;
  };
  return retry(attempt, { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 }, {
    clock: input.http.clock,
    signal: input.signal,
    deadline: input.deadline,
    aborted: (reason) => new AbortedError("KMS Decrypt was aborted by the caller", { step, cause: reason }),
    retryable: (error) => (error instanceof AwsError && error.retryable) || error instanceof TransportError,
    onRetry: (n, delayMs, error) =>
      emit(input.onEvent, {
        type: "request.retry",
        step,
        attempt: n,
        delayMs,
        reason: error instanceof AwsError ? (error.awsType ?? `HTTP ${error.status}`) : (error as TransportError).code,
      }),
  });
}

/** Turns a KMS error answer into an {@link AwsError} (type without its `prefix#`). */
export function kmsError(status: number, body: unknown): AwsError {
  const parsed = check(KmsErrorBody, body);
  if (!parsed.ok) {
    const awsType = status === 429 ? "ThrottlingException" : undefined;
    return new AwsError(`KMS answered HTTP ${status} with a body that is not a KMS error (a proxy in the way?)`, {
      step: "kms-decrypt",
      service: "kms",
      status,
      awsType,
    });
  }
  const type = sanitize(parsed.value.__type.slice(parsed.value.__type.lastIndexOf("#") + 1), 80);
  const detail = sanitize(parsed.value.message ?? parsed.value.Message ?? "");
  return new AwsError(`KMS ${type} (HTTP ${status})${detail ? `: ${detail}` : ""}`, {
    step: "kms-decrypt",
    service: "kms",
    status,
    awsType: type,
  });
}
