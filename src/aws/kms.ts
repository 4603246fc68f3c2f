/**
 * AWS KMS `Decrypt` as one raw SigV4-signed JSON 1.1 call through the injected transport.
 *
 * @module
 */
import { AwsV4Signer } from "aws4fetch";
import * as v from "valibot";
import { untilAborted } from "../abort.ts";
import { decodeBase64, isBase64 } from "../base64.ts";
import type { Clock } from "../clock.ts";
import { CerberusEdgeError, KmsError, PayloadError, TransportError, safeCause } from "../errors.ts";
import { emit, type EventListener } from "../events.ts";
import { send, type HttpTransport } from "../transport.ts";
import { issueSummary, parseJsonText } from "../validate.ts";
import { checkCredentials, type AwsCredentials } from "./credentials.ts";

/** Shared estimate of how far the local clock is from AWS's, corrected from `Date` headers. */
export interface ClockSkew {
  /** Milliseconds to add to the local clock to get AWS time. */
  offsetMs: number;
}

/** Options of {@link kmsDecrypt}. */
export interface KmsDecryptOptions {
  /** The base64 `CiphertextBlob`, as Cerberus sent it. */
  ciphertext: string;
  /** KMS region; the signature's scope. */
  region: string;
  /** KMS endpoint URL for that region. */
  endpoint: URL;
  /** Credentials of the principal allowed to decrypt. */
  credentials: AwsCredentials;
  /** Transport. */
  transport: HttpTransport;
  /** Clock for signing time, timeouts and back-off. */
  clock: Clock;
  /** Clock skew state, shared across calls; corrected in place. */
  skew?: ClockSkew;
  /** Per-attempt timeout in ms (default 5000). */
  timeoutMs?: number;
  /** Attempts for throttling, 5xx and network errors (default 3). */
  maxAttempts?: number;
  /** Caller's abort signal. */
  signal?: AbortSignal;
  /** Progress events. */
  onEvent?: EventListener;
}

/** A successful decryption. */
export interface KmsDecryptResult {
  /** ARN of the key that decrypted the blob. */
  keyId: string;
  /** The plaintext bytes. Handle with care: never log them. */
  plaintext: Uint8Array;
}

const DecryptResponse = v.object({
  KeyId: v.pipe(v.string(), v.minLength(1, "KeyId is empty")),
  Plaintext: v.pipe(v.string(), v.check(isBase64, "Plaintext is not base64")),
  EncryptionAlgorithm: v.optional(v.string()),
});

const KmsErrorBody = v.object({
  __type: v.optional(v.string()),
  message: v.optional(v.string()),
  Message: v.optional(v.string()),
});

const SKEW_ERRORS = new Set(["InvalidSignatureException", "RequestExpired", "RequestTimeTooSkewed", "SignatureDoesNotMatch"]);
const SKEW_TOLERANCE_MS = 5 * 60_000;

/** Formats a time as SigV4's `YYYYMMDD'T'HHMMSS'Z'`. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

/**
 * Decrypts a KMS ciphertext with `TrentService.Decrypt`. Signs with aws4fetch's
 * {@link AwsV4Signer} (never `AwsClient.fetch`, which would bypass the transport and retry
 * on its own), retries throttling, 5xx and network failures with jittered back-off, and
 * corrects clock skew once from the response's `Date` header.
 */
export async function kmsDecrypt(options: KmsDecryptOptions): Promise<KmsDecryptResult> {
  if (!isBase64(options.ciphertext)) {
    throw new PayloadError("kms-decrypt", "the encrypted auth payload is not valid base64");
  }
  checkCredentials(options.credentials, "credentials", "kms-decrypt");
  const skew = options.skew ?? { offsetMs: 0 };
  const maxAttempts = options.maxAttempts ?? 3;
  const body = JSON.stringify({ CiphertextBlob: options.ciphertext });
  let skewCorrected = false;
  for (let attempt = 1; ; attempt++) {
    let failure: KmsError | TransportError;
    try {
      const request = await signedRequest(options, body, amzDate(options.clock.now() + skew.offsetMs));
      const res = await send(request, {
        transport: options.transport,
        clock: options.clock,
        timeoutMs: options.timeoutMs ?? 5000,
        step: "kms-decrypt",
        signal: options.signal,
      });
      if (res.status === 200) return parseDecryptResponse(res.body, options);
      failure = parseKmsError(res.status, res.body);
      const serverDate = Date.parse(res.headers.get("date") ?? "");
      if (!skewCorrected && SKEW_ERRORS.has(failure.awsType) && Number.isFinite(serverDate)) {
        const offset = serverDate - options.clock.now();
        if (Math.abs(offset - skew.offsetMs) > SKEW_TOLERANCE_MS / 5) {
          skew.offsetMs = offset;
          skewCorrected = true;
          emit(options.onEvent, { type: "request.retry", step: "kms-decrypt", attempt, delayMs: 0, reason: "clock skew corrected" });
          attempt--;
          continue;
        }
      }
      if (!failure.retryable) throw failure;
    } catch (error) {
      if (!(error instanceof TransportError) || options.signal?.aborted) throw error;
      failure = error;
    }
    if (attempt >= maxAttempts) throw failure;
    const delayMs = Math.round(Math.random() * 100 * 2 ** attempt);
    emit(options.onEvent, { type: "request.retry", step: "kms-decrypt", attempt, delayMs, reason: failure instanceof KmsError ? failure.awsType : failure.code });
    await untilAborted(options.clock.sleep(delayMs), options.signal, "kms-decrypt", "KMS Decrypt");
  }
}

async function signedRequest(options: KmsDecryptOptions, body: string, datetime: string): Promise<Request> {
  try {
    return await sign(options, body, datetime);
  } catch (error) {
    // aws4fetch and Headers quote offending values in their messages: keep only the error's name.
    throw new CerberusEdgeError("SIGNING_ERROR", "signing the KMS request failed", { step: "kms-decrypt", cause: safeCause(error) });
  }
}

async function sign(options: KmsDecryptOptions, body: string, datetime: string): Promise<Request> {
  const signer = new AwsV4Signer({
    method: "POST",
    url: options.endpoint.toString(),
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "TrentService.Decrypt",
    },
    body,
    accessKeyId: options.credentials.accessKeyId,
    secretAccessKey: options.credentials.secretAccessKey,
    sessionToken: options.credentials.sessionToken,
    service: "kms",
    region: options.region,
    datetime,
  });
  const signed = await signer.sign();
  return new Request(signed.url, { method: signed.method, headers: signed.headers, body });
}

function parseDecryptResponse(bytes: Uint8Array, options: KmsDecryptOptions): KmsDecryptResult {
  const json = parseJsonText(new TextDecoder().decode(bytes));
  if (!json) throw new PayloadError("kms-decrypt", "KMS Decrypt answered 200 with a body that is not JSON");
  const parsed = v.safeParse(DecryptResponse, json.value);
  if (!parsed.success) throw new PayloadError("kms-decrypt", `KMS Decrypt response is invalid: ${issueSummary(parsed.issues)}`);
  emit(options.onEvent, { type: "kms.decrypt", region: options.region, keyId: parsed.output.KeyId });
  return { keyId: parsed.output.KeyId, plaintext: decodeBase64(parsed.output.Plaintext) };
}

/** Turns a KMS error response into a {@link KmsError} (type without its `prefix#`). */
export function parseKmsError(status: number, bytes: Uint8Array): KmsError {
  const json = parseJsonText(new TextDecoder().decode(bytes));
  const parsed = json ? v.safeParse(KmsErrorBody, json.value) : undefined;
  if (!parsed?.success || !parsed.output.__type) {
    return new KmsError(status === 429 ? "ThrottlingException" : "UnknownError", status, "response is not a KMS JSON error (a proxy in the way?)");
  }
  const type = parsed.output.__type.slice(parsed.output.__type.lastIndexOf("#") + 1).slice(0, 80);
  const message = (parsed.output.message ?? parsed.output.Message ?? "").replace(/[\u0000-\u001f]/g, " ").slice(0, 200);
  return new KmsError(type, status, message);
}
