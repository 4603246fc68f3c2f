/**
 * Cerberus IAM KMS authentication (docs/wire.md#kms-auth-v2): find the account and roles from
 * instance metadata, ask Cerberus for an encrypted auth payload per role, decrypt it with KMS
 * using that role's credentials, and keep the first token that works.
 *
 * @module
 */
import * as v from "valibot";
import type { AwsCredentials, AwsCredentialSource } from "../aws/credentials.ts";
import { checkRegion, serviceEndpoint } from "../aws/endpoints.ts";
import type { HostPrincipal } from "../aws/host.ts";
import { kmsDecrypt } from "../aws/kms.ts";
import { decodeAnswer } from "../client/request.ts";
import {
  type AuthAttempt,
  AuthenticationError,
  CerberusApiError,
  type CerberusEdgeError,
  InvalidInputError,
  TransportError,
} from "../errors.ts";
import { isBase64 } from "../internal/base64.ts";
import { emit, emitSuccess } from "../internal/events.ts";
import { describeError } from "../internal/failure.ts";
import { attemptFailure, callAuth } from "./auth-call.ts";
import { credentialsOption, resolveCredentials } from "./credentials.ts";
import type { AuthContext, AuthProvider } from "./provider.ts";
import { resolveRegion } from "./region.ts";
import { type CerberusToken, tokenFromPlaintext } from "./token.ts";

/** Options of {@link kmsAuth}. */
export interface KmsAuthOptions {
  /** `2` (default): `/v2/auth/iam-principal` with a principal ARN; `1`: legacy `/v1/auth/iam-role`. */
  version?: 1 | 2;
  /**
   * KMS region: the region this process runs in. Default: `CERBERUS_REGION`, `AWS_REGION`,
   * `AWS_DEFAULT_REGION`, then the instance identity document. Never a hard-coded default.
   */
  region?: string;
  /** Regions to try in turn when authentication or KMS fails in the first (a regional outage). */
  fallbackRegions?: readonly string[];
  /**
   * Authenticate as this principal instead of discovering roles from instance metadata
   * (Lambda, laptops, Workers). Its credentials come from `credentials`, else, where the runtime
   * knows the host (Node, Bun, Deno), from the `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
   * `AWS_SESSION_TOKEN` variables, else the container credentials endpoint. On ECS, leave it
   * out: the task role named by the container credentials endpoint is used.
   */
  principalArn?: string;
  /** Credentials of `principalArn`, or a function returning them. */
  credentials?: AwsCredentialSource;
  /** KMS endpoint; default `AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL`, then the regional endpoint. */
  kmsEndpoint?: string;
}

const ARN = /^arn:(aws|aws-cn|aws-us-gov):(iam|sts)::(\d{12}):(?!group)[\w+=,.@-]+\/[\w+=,.@/-]+$/;
const AuthData = v.object({ auth_data: v.pipe(v.string(), v.check(isBase64, "auth_data is not base64")) });

/**
 * KMS authentication: Cerberus's original IAM flow (docs/wire.md#kms-auth-v2), deprecated on the server in favour of STS but
 * still deployed. See {@link KmsAuthOptions} for where the region and the principals come from.
 */
export function kmsAuth(options: KmsAuthOptions = {}): AuthProvider {
  const field = (name: string) => ({ field: `kmsAuth.${name}` });
  if (options === null || typeof options !== "object") {
    throw new InvalidInputError("must be an object", { field: "kmsAuth options" });
  }
  const version = options.version ?? 2;
  if (version !== 1 && version !== 2) throw new InvalidInputError("must be 1 or 2", field("version"));
  if (options.region !== undefined) checkRegion(options.region, "kmsAuth.region");
  if (options.fallbackRegions !== undefined && !Array.isArray(options.fallbackRegions)) {
    throw new InvalidInputError("must be an array of region names", field("fallbackRegions"));
  }
  const fallbackRegions = (options.fallbackRegions ?? []).map((r, i) =>
    checkRegion(r, `kmsAuth.fallbackRegions[${i}]`)
  );
  if (options.principalArn !== undefined && !ARN.test(options.principalArn)) {
    throw new InvalidInputError(
      "is not an IAM role or user ARN like arn:aws:iam::123456789012:role/name",
      field("principalArn"),
    );
  }
  const credentials = credentialsOption(options.credentials, "kmsAuth.credentials");
  const settings: Settings = { ...options, version, fallbackRegions, credentials };
  return { method: version === 2 ? "kms" : "kms-v1", authenticate: (context) => authenticate(settings, context) };
}

type Settings = Omit<KmsAuthOptions, "version" | "fallbackRegions"> & { version: 1 | 2; fallbackRegions: string[] };

async function authenticate(o: Settings, context: AuthContext): Promise<CerberusToken> {
  const startedAt = context.http.clock.now();
  const method = o.version === 2 ? "kms" : "kms-v1";
  const host = context.host;
  // An explicit principal skips discovery: the option, else CERBERUS_PRINCIPAL_ARN.
  const named = o.principalArn ?? context.env("CERBERUS_PRINCIPAL_ARN")?.trim();
  if (named !== undefined && named !== "" && !ARN.test(named)) {
    throw new InvalidInputError("is not an IAM role or user ARN like arn:aws:iam::123456789012:role/name", {
      field: "CERBERUS_PRINCIPAL_ARN",
    });
  }
  const principalArn = named || undefined;
  if (!principalArn && !host) {
    throw new InvalidInputError(
      "is needed where the runtime cannot discover an AWS host (the edge); on EC2 or ECS import cerberus-edge, which does",
      {
        field: "kmsAuth.principalArn",
      },
    );
  }
  // Cerberus's order: the account and roles first, then the region to ask for.
  const candidates = principalArn
    ? [namedCandidate(principalArn, () => resolveCredentials(o.credentials, context, "kmsAuth.credentials"))]
    : await host!.principals(context, o.version === 2);
  const region = await resolveRegion(o.region, context, "kmsAuth.region", !principalArn);
  const regions = [region, ...o.fallbackRegions.filter((r) => r !== region)];
  const attempts: AuthAttempt[] = [];
  const refused = new Set<string>();
  for (const [index, attemptRegion] of regions.entries()) {
    if (index > 0) emit(context.onEvent, { type: "auth.region", region: attemptRegion, source: "fallback" });
    for (const candidate of candidates) {
      if (refused.has(candidate.principalArn)) continue;
      emit(context.onEvent, { type: "auth.attempt", method, principal: candidate.principalArn, region: attemptRegion });
      try {
        const token = await authenticateAs(candidate, attemptRegion, o, context, startedAt);
        emitSuccess(context.onEvent, token, attemptRegion);
        return token;
      } catch (error) {
        const failure = attemptFailure(context, error);
        const hopeless = isPrincipalRefused(failure);
        const reason = describeError(failure) +
          (candidate.fromCaller && hopeless && failure instanceof CerberusApiError
            ? " (this ARN comes from STS GetCallerIdentity, which does not tell a role's IAM path: if the role has one, set CERBERUS_PRINCIPAL_ARN or pass principalArn)"
            : "");
        attempts.push({ principal: candidate.principalArn, region: attemptRegion, reason, error: failure });
        emit(context.onEvent, {
          type: "auth.failure",
          principal: candidate.principalArn,
          region: attemptRegion,
          reason,
        });
        if (hopeless) refused.add(candidate.principalArn);
        // KMS out of reach in this region is out of reach for every principal: next region.
        if (failure instanceof TransportError) break;
      }
    }
  }
  throw new AuthenticationError(
    `KMS authentication failed for every principal (${candidates.length} tried in ${regions.join(", ")}):`,
    { attempts },
  );
}

function namedCandidate(principalArn: string, credentials: () => Promise<AwsCredentials>): HostPrincipal {
  const [, , , accountId = ""] = ARN.exec(principalArn) ?? [];
  return { principalArn, roleName: principalArn.slice(principalArn.lastIndexOf("/") + 1), accountId, credentials };
}

async function authenticateAs(
  candidate: HostPrincipal,
  region: string,
  o: Settings,
  context: AuthContext,
  startedAt: number,
): Promise<CerberusToken> {
  const call = {
    method: "POST",
    step: "cerberus-auth",
    what: `KMS authentication as ${candidate.principalArn}`,
    signal: context.signal,
    ...(o.version === 2
      ? { path: "/v2/auth/iam-principal", json: { iam_principal_arn: candidate.principalArn, region } }
      : {
        path: "/v1/auth/iam-role",
        json: { account_id: candidate.accountId, role_name: candidate.roleName, region },
      }),
  } as const;
  const answer = await callAuth(context, call);
  const { auth_data } = decodeAnswer(answer, AuthData, call);
  emit(context.onEvent, { type: "auth.payload", principal: candidate.principalArn, region, bytes: auth_data.length });
  const plaintext = await kmsDecrypt({
    ciphertext: auth_data,
    region,
    endpoint: serviceEndpoint("kms", region, o.kmsEndpoint, context.env),
    credentials: await candidate.credentials(),
    http: context.http,
    skew: context.state.skew,
    signal: context.signal,
    onEvent: context.onEvent,
    deadline: context.deadline,
  });
  try {
    return tokenFromPlaintext(plaintext, {
      method: o.version === 2 ? "kms" : "kms-v1",
      principal: candidate.principalArn,
      region,
      startedAt,
    });
  } finally {
    plaintext.fill(0);
  }
}

/** Failures that another region will not change: the principal or its credentials are refused. */
function isPrincipalRefused(error: CerberusEdgeError): boolean {
  return (error instanceof CerberusApiError && error.codes.includes(99216)) || error.step === "credentials" ||
    error.step === "metadata";
}
