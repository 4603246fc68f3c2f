/**
 * Cerberus STS authentication, the current IAM method (docs/wire.md#sts-auth): sign an STS
 * `GetCallerIdentity` request without sending it, hand the signature to Cerberus, and let
 * Cerberus replay it to STS to learn who the caller is. No request goes to STS itself.
 *
 * @module
 */
import * as v from "valibot";
import type { AwsCredentials, AwsCredentialSource } from "../aws/credentials.ts";
import { checkRegion } from "../aws/endpoints.ts";
import { signPost } from "../aws/sigv4.ts";
import { learnSkew } from "../aws/skew.ts";
import { cerberusError, decodeAnswer } from "../client/request.ts";
import type { Answer } from "../internal/http.ts";
import { type AuthAttempt, AuthenticationError, CerberusApiError, InvalidInputError } from "../errors.ts";
import { isRecord } from "../internal/decode.ts";
import { emit, emitSuccess } from "../internal/events.ts";
import { describeError } from "../internal/failure.ts";
import { sanitize } from "../internal/text.ts";
import { attemptFailure, callAuth } from "./auth-call.ts";
import { credentialsOption, resolveCredentials } from "./credentials.ts";
import type { AuthContext, AuthProvider } from "./provider.ts";
import { resolveRegion } from "./region.ts";
import { type CerberusToken, tokenFromPayload } from "./token.ts";

/** Options of {@link stsAuth}. */
export interface StsAuthOptions {
  /**
   * The STS region whose endpoint the signature is for: the region this process runs in.
   * Default: `CERBERUS_REGION`, `AWS_REGION`, `AWS_DEFAULT_REGION`, then the instance identity
   * document. Never a hard-coded default.
   */
  region?: string;
  /** Regions to try in turn when Cerberus cannot reach STS in the first (a regional outage). */
  fallbackRegions?: readonly string[];
  /**
   * Credentials to sign with, or a function returning them. Default, where the runtime knows the
   * host (Node, Bun, Deno): the `AWS_*` key variables, else the container credentials endpoint.
   */
  credentials?: AwsCredentialSource;
}

/** The exact body STS replays; the signature covers its hash. */
const GET_CALLER_IDENTITY = "Action=GetCallerIdentity&Version=2011-06-15";
const AnyJson = v.unknown();

/** Cerberus codes that mean the caller or its signature was refused, not that STS was unreachable. */
const REFUSED = new Set([99106, 99216, 99236, 99237, 99238]);

/**
 * STS authentication. Only `host` and `x-amz-date` (and `x-amz-security-token` with temporary
 * credentials) are signed, over the regional host `sts.<region>.amazonaws.com` (`.com.cn` in
 * China), because that is exactly what Cerberus replays.
 */
export function stsAuth(options: StsAuthOptions = {}): AuthProvider {
  if (options === null || typeof options !== "object") {
    throw new InvalidInputError("must be an object", { field: "stsAuth options" });
  }
  if (options.region !== undefined) checkRegion(options.region, "stsAuth.region");
  if (options.fallbackRegions !== undefined && !Array.isArray(options.fallbackRegions)) {
    throw new InvalidInputError("must be an array of region names", { field: "stsAuth.fallbackRegions" });
  }
  const fallbackRegions = (options.fallbackRegions ?? []).map((r, i) =>
    checkRegion(r, `stsAuth.fallbackRegions[${i}]`)
  );
  const credentials = credentialsOption(options.credentials, "stsAuth.credentials");
  const settings = { region: options.region, fallbackRegions, credentials };
  return { method: "sts", authenticate: (context) => authenticate(settings, context) };
}

async function authenticate(
  o: { region: string | undefined; fallbackRegions: string[]; credentials: AwsCredentialSource | undefined },
  context: AuthContext,
): Promise<CerberusToken> {
  const startedAt = context.http.clock.now();
  const credentials = await resolveCredentials(o.credentials, context, "stsAuth.credentials");
  const region = await resolveRegion(o.region, context, "stsAuth.region");
  const regions = [region, ...o.fallbackRegions.filter((r) => r !== region)];
  // Who the caller is, Cerberus says; until then it is known by its access key id's prefix.
  const caller = `the holder of ${credentials.accessKeyId.slice(0, 4)}… keys`;
  const attempts: AuthAttempt[] = [];
  for (const [index, attemptRegion] of regions.entries()) {
    if (index > 0) emit(context.onEvent, { type: "auth.region", region: attemptRegion, source: "fallback" });
    emit(context.onEvent, { type: "auth.attempt", method: "sts", principal: caller, region: attemptRegion });
    try {
      const token = await authenticateIn(attemptRegion, credentials, context, startedAt, caller);
      emitSuccess(context.onEvent, token, attemptRegion);
      return token;
    } catch (error) {
      const failure = attemptFailure(context, error);
      const reason = describeError(failure);
      attempts.push({ principal: caller, region: attemptRegion, reason, error: failure });
      emit(context.onEvent, { type: "auth.failure", principal: caller, region: attemptRegion, reason });
      // A refusal is an answer, the same in every region; only an outage is worth another region.
      if (failure instanceof CerberusApiError && failure.codes.some((code) => REFUSED.has(code))) break;
    }
  }
  throw new AuthenticationError(`STS authentication failed (tried ${attempts.map((a) => a.region).join(", ")}):`, {
    attempts,
  });
}

async function authenticateIn(
  region: string,
  credentials: AwsCredentials,
  context: AuthContext,
  startedAt: number,
  caller: string,
): Promise<CerberusToken> {
  const host = `sts.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
  const signedCall = async () => {
    const signed = await signPost({
      url: `https://${host}/`,
      headers: {},
      body: GET_CALLER_IDENTITY,
      credentials,
      service: "sts",
      region,
      time: context.http.clock.now() + context.state.skew.offsetMs,
      step: "sts-sign",
    });
    // Only the signature goes to Cerberus; the body and the host are what STS will see on replay.
    const headers: Record<string, string> = {
      Authorization: signed.authorization!,
      "X-Amz-Date": signed["x-amz-date"]!,
    };
    if (signed["x-amz-security-token"]) headers["X-Amz-Security-Token"] = signed["x-amz-security-token"];
    return {
      method: "POST",
      path: "/v2/auth/sts-identity",
      headers,
      what: "STS authentication",
      step: "cerberus-auth",
      signal: context.signal,
      secrets: credentials.sessionToken ? [credentials.sessionToken] : [],
      allow: [400],
    } as const;
  };
  let call = await signedCall();
  let answer = await callAuth(context, call);
  // STS refuses a signature whose time is off; Cerberus reports that as 99237 and its own Date
  // tells AWS's time (its clock is AWS's): learn the skew and sign once more.
  const refusal = (a: Answer) => (a.status === 400 ? cerberusError(a, call) : undefined);
  const first = refusal(answer);
  if (first instanceof CerberusApiError && first.codes.includes(99237)) {
    if (learnSkew(context.state.skew, answer.headers.get("date"), context.http.clock.now())) {
      emit(context.onEvent, {
        type: "request.retry",
        step: "sts-sign",
        attempt: 1,
        delayMs: 0,
        reason: "clock skew corrected",
      });
      call = await signedCall();
      answer = await callAuth(context, call);
    }
  }
  const refused = refusal(answer);
  if (refused) throw refused;
  const payload = decodeAnswer(answer, AnyJson, call);
  const metadata = isRecord(payload) && isRecord(payload.metadata) ? payload.metadata : {};
  const arn = typeof metadata.aws_iam_principal_arn === "string" ? sanitize(metadata.aws_iam_principal_arn) : caller;
  return tokenFromPayload(
    payload,
    { method: "sts", principal: arn, region, startedAt },
    "cerberus-auth",
    "Cerberus's STS auth answer",
  );
}
