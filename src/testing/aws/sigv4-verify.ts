/**
 * Server-side AWS Signature Version 4 verification, computed with `@smithy/signature-v4`
 * (an implementation independent of the client's aws4fetch).
 *
 * @module
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { constantTimeEqual } from "../encoding.ts";
import type { AwsIdentityStore, CredentialRecord } from "./identity.ts";

/** Why a signature was refused; services map each kind to their own error type. */
export type SigV4Failure =
  | { kind: "missing-auth"; message: string }
  | { kind: "incomplete"; message: string }
  | { kind: "unknown-key"; message: string }
  | { kind: "invalid-token"; message: string }
  | { kind: "expired-token"; message: string }
  | { kind: "skew"; message: string }
  | { kind: "scope"; message: string }
  | { kind: "mismatch"; message: string };

/** A verified request: who signed it and for which region. */
export interface SigV4Success {
  /** The signer's credentials record. */
  credential: CredentialRecord;
  /** Region of the credential scope. */
  region: string;
  /** Lower-case names of the signed headers. */
  signedHeaders: string[];
  /** Signing time (ms) from `x-amz-date`. */
  signedAt: number;
}

/** Options of {@link verifySigV4}. */
export interface VerifyOptions {
  /** The service the request must be scoped to (`kms`, `sts`). */
  service: string;
  /** Where access keys are looked up. */
  identities: AwsIdentityStore;
  /** Server time, ms. */
  now: number;
  /** Allowed distance between `x-amz-date` and server time (5 min for KMS, 15 for STS). */
  maxSkewMs: number;
}

const MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;

/** Verifies the SigV4 `Authorization` header of `request` whose body is `body`. */
export async function verifySigV4(
  request: Request,
  body: Uint8Array,
  options: VerifyOptions,
): Promise<{ ok: true; value: SigV4Success } | { ok: false; failure: SigV4Failure }> {
  const fail = (failure: SigV4Failure) => ({ ok: false as const, failure });
  const authorization = request.headers.get("authorization");
  if (!authorization) return fail({ kind: "missing-auth", message: "Missing Authentication Token" });
  const match = AUTH_PATTERN.exec(authorization.trim());
  if (!match) {
    return fail({
      kind: "incomplete",
      message: "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
    });
  }
  const [, credential = "", signedHeaderList = "", signature = ""] = match;
  const scope = credential.split("/");
  if (scope.length !== 5 || scope[4] !== "aws4_request") {
    return fail({ kind: "incomplete", message: "Credential should be scoped to a valid region and service." });
  }
  const [accessKeyId = "", scopeDate = "", region = "", service = ""] = scope;
  const signedHeaders = signedHeaderList.split(";");
  if (!signedHeaders.includes("host")) {
    return fail({
      kind: "incomplete",
      message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    });
  }
  const amzDate = request.headers.get("x-amz-date");
  const signedAt = amzDate === null ? undefined : parseAmzDate(amzDate);
  if (amzDate === null || signedAt === undefined) {
    return fail({
      kind: "incomplete",
      message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    });
  }
  if (service !== options.service) {
    return fail({ kind: "scope", message: `Credential should be scoped to correct service: '${options.service}'.` });
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    return fail({
      kind: "scope",
      message:
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${
          amzDate.slice(0, 8)
        }', from '${amzDate}'.`,
    });
  }
  const record = options.identities.lookup(accessKeyId);
  if (!record) return fail({ kind: "unknown-key", message: "The security token included in the request is invalid." });
  const sentToken = request.headers.get("x-amz-security-token");
  if ((record.sessionToken ?? null) !== sentToken) {
    return fail({ kind: "invalid-token", message: "The security token included in the request is invalid." });
  }
  if (record.expiresAt !== undefined && options.now >= record.expiresAt) {
    return fail({ kind: "expired-token", message: "The security token included in the request is expired" });
  }
  const skewMessage = describeSkew(signedAt, options.now, options.maxSkewMs);
  if (skewMessage) return fail({ kind: "skew", message: skewMessage });
  const expected = await computeSignature(request, body, record, { region, service, signedAt, signedHeaders });
  if (expected === undefined || !constantTimeEqual(expected, signature)) {
    return fail({ kind: "mismatch", message: MISMATCH });
  }
  return { ok: true, value: { credential: record, region, signedHeaders, signedAt } };
}

/** Parses `YYYYMMDDTHHMMSSZ` to ms. */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? undefined : ms;
}

/** Formats ms as `YYYYMMDDTHHMMSSZ`. */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function describeSkew(signedAt: number, now: number, maxSkewMs: number): string | undefined {
  const minutes = Math.round(maxSkewMs / 60_000);
  if (signedAt < now - maxSkewMs) {
    return `Signature expired: ${formatAmzDate(signedAt)} is now earlier than ${formatAmzDate(now - maxSkewMs)} (${
      formatAmzDate(now)
    } - ${minutes} min.)`;
  }
  if (signedAt > now + maxSkewMs) {
    return `Signature not yet current: ${formatAmzDate(signedAt)} is still later than ${
      formatAmzDate(now + maxSkewMs)
    } (${formatAmzDate(now)} + ${minutes} min.)`;
  }
  return undefined;
}

async function computeSignature(
  request: Request,
  body: Uint8Array,
  record: CredentialRecord,
  scope: { region: string; service: string; signedAt: number; signedHeaders: string[] },
): Promise<string | undefined> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  for (const name of scope.signedHeaders) {
    if (name === "x-amz-date") continue;
    const value = name === "host" ? (request.headers.get("host") ?? url.host) : request.headers.get(name);
    if (value === null) return undefined;
    headers[name] = value;
  }
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const previous = query[key];
    query[key] = previous === undefined ? value : ([] as string[]).concat(previous, value);
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  const signer = new SignatureV4({
    service: scope.service,
    region: scope.region,
    credentials: { accessKeyId: record.accessKeyId, secretAccessKey: record.secretAccessKey },
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: request.method, protocol: url.protocol, hostname: url.hostname, path, query, headers, body },
    {
      signingDate: new Date(scope.signedAt),
      signingRegion: scope.region,
      signingService: scope.service,
      signableHeaders: new Set(scope.signedHeaders),
      unsignableHeaders: scope.signedHeaders.includes("x-amz-date") ? undefined : new Set(["x-amz-date"]),
    },
  );
  const produced = /Signature=([0-9a-f]{64})/.exec(String(signed.headers["authorization"] ?? ""));
  const producedHeaders = /SignedHeaders=([^,\s]+)/.exec(String(signed.headers["authorization"] ?? ""));
  if (producedHeaders?.[1] !== scope.signedHeaders.join(";")) return undefined;
  return produced?.[1];
}
