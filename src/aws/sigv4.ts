/**
 * SigV4 signing with aws4fetch's signer, reduced to plain header records. aws4fetch's `AwsClient`
 * is never used: it would send through the global `fetch` and retry on its own.
 *
 * @module
 */
import { AwsV4Signer } from "aws4fetch";
import { CerberusEdgeError, type Step } from "../errors.ts";
import { foreignCause } from "../internal/failure.ts";
import type { AwsCredentials } from "./credentials.ts";

/** What to sign. */
export interface SignInput {
  /** The request URL. */
  url: string;
  /** Headers to send (and sign, unless `signedHeaders` narrows them). */
  headers: Record<string, string>;
  /** The exact body. */
  body: string;
  /** Sealed credentials. */
  credentials: AwsCredentials;
  /** `kms`, `sts`. */
  service: string;
  /** The signature's region. */
  region: string;
  /** Signing time, ms since the epoch (the local clock plus the known skew). */
  time: number;
  /** Step a failure reports. */
  step: Step;
}

/** Formats a time as SigV4's `YYYYMMDD'T'HHMMSS'Z'`. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

/** Signs a POST and returns every header to send, `Authorization` and `X-Amz-Date` included. */
export async function signPost(input: SignInput): Promise<Record<string, string>> {
  try {
    const signed = await new AwsV4Signer({
      method: "POST",
      url: input.url,
      headers: input.headers,
      body: input.body,
      accessKeyId: input.credentials.accessKeyId,
      secretAccessKey: input.credentials.secretAccessKey,
      sessionToken: input.credentials.sessionToken,
      service: input.service,
      region: input.region,
      datetime: amzDate(input.time),
    }).sign();
    const headers: Record<string, string> = {};
    signed.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return headers;
  } catch (error) {
    // aws4fetch and Headers may quote the offending value in their messages: keep only the name.
    throw new CerberusEdgeError(`signing the ${input.service.toUpperCase()} request failed`, {
      step: input.step,
      cause: foreignCause(error),
    });
  }
}
