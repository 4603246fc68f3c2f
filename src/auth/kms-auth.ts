/**
 * Cerberus IAM KMS authentication, the seed's flow: discover the account and roles from
 * instance metadata, ask Cerberus for an encrypted auth payload per role, decrypt it with KMS
 * using that role's credentials, keep the first token that works.
 *
 * @module
 */
import * as v from "valibot";
import { isBase64 } from "../base64.ts";
import { cerberusRequest, parseJsonBody } from "../cerberus-http.ts";
import { checkCredentials, sealCredentials, type AwsCredentials, type AwsCredentialSource } from "../aws/credentials.ts";
import { checkRegion, serviceEndpoint } from "../aws/endpoints.ts";
import { containerCredentialsSource, hasContainerCredentials, type ContainerCredentials } from "../aws/container-credentials.ts";
import { createInstanceMetadataClient, type InstanceMetadata } from "../aws/imds.ts";
import { kmsDecrypt } from "../aws/kms.ts";
import {
  AuthenticationError,
  CerberusApiError,
  CerberusEdgeError,
  InvalidInputError,
  TransportError,
  asLibraryError,
  describeError,
  type AuthAttempt,
} from "../errors.ts";
import { emit } from "../events.ts";
import type { AuthContext, AuthProvider } from "./provider.ts";
import { decodeAuthPlaintext, tokenFromPayload, type CerberusToken } from "./token.ts";

/** Options of {@link kmsAuth}. */
export interface KmsAuthOptions {
  /** `2` (default): `/v2/auth/iam-principal` with a principal ARN; `1`: legacy `/v1/auth/iam-role`. */
  version?: 1 | 2;
  /**
   * KMS region: the region this process runs in. Default: `AWS_REGION`, then
   * `AWS_DEFAULT_REGION`, then the instance identity document. Never a hard-coded default.
   */
  region?: string;
  /** Regions to try in turn when authentication or KMS fails in the first (a regional outage). */
  fallbackRegions?: readonly string[];
  /**
   * Authenticate as this principal instead of discovering roles from instance metadata
   * (Lambda, laptops, Workers). Needs `credentials`, the `AWS_*` key variables, or a container
   * credentials endpoint. On ECS, leave it out: the task role named by the container
   * credentials endpoint (`AWS_CONTAINER_CREDENTIALS_*`) is used.
   */
  principalArn?: string;
  /**
   * Credentials for `principalArn`; default `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
   * `AWS_SESSION_TOKEN`, then the container credentials endpoint.
   */
  credentials?: AwsCredentialSource;
  /** Instance metadata client; default one built from the `AWS_EC2_METADATA_*` settings. */
  metadata?: InstanceMetadata;
  /** KMS endpoint; default `AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL`, then the regional endpoint. */
  kmsEndpoint?: string;
}

/** One principal to try: its ARN (v2) or account and role name (v1), and where its credentials come from. */
interface Candidate {
  principalArn: string;
  roleName: string;
  accountId: string;
  credentials: () => Promise<AwsCredentials>;
}

const ARN = /^arn:(aws|aws-cn|aws-us-gov):(iam|sts)::(\d{12}):(?!group)[^/]+\/.+$/;
const INSTANCE_PROFILE = /^arn:(aws[a-z-]*):iam::(\d{12}):instance-profile\/(.*)$/;
const AuthDataResponse = v.object({
  auth_data: v.pipe(v.string(), v.check(isBase64, "auth_data is not base64")),
});

/**
 * KMS authentication (deprecated on the server side in favour of STS, but still the seed's
 * flow and still deployed). See {@link KmsAuthOptions} for where region and principals come from.
 */
export function kmsAuth(options: KmsAuthOptions = {}): AuthProvider {
  if (options === null || typeof options !== "object") throw new InvalidInputError("kmsAuth options", "must be an object");
  for (const key of ["region", "principalArn", "kmsEndpoint"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "string") throw new InvalidInputError(`kmsAuth.${key}`, "must be a string");
  }
  if (options.fallbackRegions !== undefined && !Array.isArray(options.fallbackRegions)) {
    throw new InvalidInputError("kmsAuth.fallbackRegions", "must be an array of region names");
  }
  if (options.credentials !== undefined && typeof options.credentials !== "function") checkCredentials(options.credentials, "kmsAuth.credentials", "config");
  const version = options.version ?? 2;
  if (version !== 1 && version !== 2) throw new InvalidInputError("kmsAuth.version", "must be 1 or 2");
  if (options.region !== undefined) checkRegion(options.region, "kmsAuth.region");
  options.fallbackRegions?.forEach((r, i) => checkRegion(r, `kmsAuth.fallbackRegions[${i}]`));
  if (options.principalArn !== undefined && !ARN.test(options.principalArn)) {
    throw new InvalidInputError("kmsAuth.principalArn", "is not an IAM role or user ARN like arn:aws:iam::123456789012:role/name");
  }
  const method = version === 2 ? "kms" : "kms-v1";
  // One cached source per client (keyed by its connection), so a provider shared by two
  // clients never mixes their environments or transports.
  const containers = new WeakMap<object, () => Promise<ContainerCredentials>>();
  const containerSource = (context: AuthContext) => {
    let source = containers.get(context.cerberus);
    if (!source) {
      source = containerCredentialsSource({ env: context.env, readTextFile: context.readTextFile, transport: context.transport, clock: context.clock });
      containers.set(context.cerberus, source);
    }
    return source;
  };
  return {
    method,
    async authenticate(context) {
      const metadata =
        options.metadata ??
        createInstanceMetadataClient({ transport: context.transport, clock: context.clock, env: context.env, onEvent: context.onEvent });
      const startedAt = context.clock.now();
      const fallback = hasContainerCredentials(context.env) ? containerSource(context) : undefined;
      const onContainer = !options.principalArn && !options.metadata && fallback !== undefined;
      // The seed's order: account and roles first, then the region to ask for.
      const candidates = options.principalArn
        ? [explicitCandidate(options.principalArn, options.credentials ?? fallbackCredentials(context, fallback), context)]
        : onContainer
          ? [await containerCandidate(fallback)]
          : await discoverCandidates(metadata, version, context);
      const region = await resolveRegion(options, context, options.principalArn || onContainer ? undefined : metadata);
      const regions = [region, ...(options.fallbackRegions ?? []).filter((r) => r !== region)];
      const attempts: AuthAttempt[] = [];
      const hopeless = new Set<string>();
      for (const [index, attemptRegion] of regions.entries()) {
        if (index > 0) emit(context.onEvent, { type: "auth.region", region: attemptRegion, source: "fallback" });
        for (const candidate of candidates) {
          if (hopeless.has(candidate.principalArn)) continue;
          emit(context.onEvent, { type: "auth.attempt", method, principal: candidate.principalArn, region: attemptRegion });
          try {
            const token = await authenticateCandidate(candidate, attemptRegion, version, options, context, startedAt);
            emit(context.onEvent, {
              type: "auth.success",
              method,
              principal: candidate.principalArn,
              region: attemptRegion,
              expiresAt: token.info.expiresAt,
              policies: [...token.info.policies],
            });
            return token;
          } catch (error) {
            if (context.signal?.aborted) throw error;
            const failure = asLibraryError(error, "cerberus-auth", "authentication");
            const reason = describeError(failure);
            attempts.push({ principal: candidate.principalArn, region: attemptRegion, reason, error: failure });
            emit(context.onEvent, { type: "auth.failure", principal: candidate.principalArn, region: attemptRegion, reason });
            if (isPrincipalRejected(failure)) hopeless.add(candidate.principalArn);
          }
        }
      }
      throw new AuthenticationError(`KMS authentication failed for every principal (${candidates.length} tried in ${regions.join(", ")}):`, attempts);
    },
  };
}

/** The region per the seed's note: option, environment, then where the instance runs. */
async function resolveRegion(options: KmsAuthOptions, context: AuthContext, metadata: InstanceMetadata | undefined): Promise<string> {
  if (options.region) {
    emit(context.onEvent, { type: "auth.region", region: options.region, source: "option" });
    return options.region;
  }
  for (const name of ["AWS_REGION", "AWS_DEFAULT_REGION"]) {
    const value = context.env(name);
    if (value) {
      const region = checkRegion(value, name);
      emit(context.onEvent, { type: "auth.region", region, source: "env" });
      return region;
    }
  }
  if (!metadata) {
    throw new InvalidInputError("kmsAuth.region", "no region: pass one or set AWS_REGION (KMS auth decrypts in the region the process runs in)");
  }
  try {
    const { region } = await metadata.identityDocument(context.signal);
    emit(context.onEvent, { type: "auth.region", region, source: "identity-document" });
    return region;
  } catch (error) {
    throw new AuthenticationError(
      `KMS authentication needs a region: none was given, AWS_REGION is unset, and the instance identity document could not be read (${describeError(error)})`,
      [],
      error,
    );
  }
}

/** Account and roles from instance metadata, with path-variant ARNs when the instance profile has a path. */
async function discoverCandidates(metadata: InstanceMetadata, version: 1 | 2, context: AuthContext): Promise<Candidate[]> {
  let profileArn: string;
  let roleNames: string[];
  try {
    [{ instanceProfileArn: profileArn }, roleNames] = await Promise.all([
      metadata.iamInfo(context.signal),
      metadata.roleNames(context.signal),
    ]);
  } catch (error) {
    throw new AuthenticationError(
      `KMS authentication could not discover the instance's IAM roles from instance metadata (${describeError(error)}); on a host that is not EC2 pass kmsAuth({ principalArn, credentials })`,
      [],
      error,
    );
  }
  const match = INSTANCE_PROFILE.exec(profileArn);
  if (!match) throw new AuthenticationError("iam/info holds a malformed instance profile ARN", []);
  const [, partition, accountId] = match as unknown as [string, string, string, string];
  const profilePath = (match[3] ?? "").split("/").slice(0, -1).join("/");
  emit(context.onEvent, { type: "metadata.account", accountId, source: "iam-info" });
  emit(context.onEvent, { type: "metadata.roles", roles: roleNames, instanceProfileArn: profileArn });

  const credentialCache = new Map<string, Promise<AwsCredentials>>();
  const credentialsOf = (role: string) => () => {
    let pending = credentialCache.get(role);
    if (!pending) {
      pending = metadata.roleCredentials(role, context.signal);
      pending.catch(() => credentialCache.delete(role));
      credentialCache.set(role, pending);
    }
    return pending;
  };
  return roleNames.flatMap((roleName) => {
    const arns = [`arn:${partition}:iam::${accountId}:role/${roleName}`];
    if (version === 2 && profilePath) arns.unshift(`arn:${partition}:iam::${accountId}:role/${profilePath}/${roleName}`);
    return arns.map((principalArn) => ({ principalArn, roleName, accountId, credentials: credentialsOf(roleName) }));
  });
}

/** Environment keys when set, else the container endpoint (so `AWS_*` keys still win, as in the SDKs). */
function fallbackCredentials(context: AuthContext, container: (() => Promise<AwsCredentials>) | undefined): AwsCredentialSource | undefined {
  if (!container || (context.env("AWS_ACCESS_KEY_ID") && context.env("AWS_SECRET_ACCESS_KEY"))) return undefined;
  return container;
}

/** The ECS task role as the one candidate, named by the container credentials endpoint. */
async function containerCandidate(source: () => Promise<ContainerCredentials>): Promise<Candidate> {
  let credentials: ContainerCredentials;
  try {
    credentials = await source();
  } catch (error) {
    throw new AuthenticationError(`KMS authentication could not read the container credentials (${describeError(error)})`, [], error);
  }
  const arn = credentials.roleArn;
  if (!arn || !ARN.test(arn)) {
    throw new InvalidInputError(
      "kmsAuth.principalArn",
      "the container credentials endpoint does not name an IAM role (no RoleArn, as on EKS Pod Identity); pass principalArn",
    );
  }
  const [, , , accountId = ""] = ARN.exec(arn) ?? [];
  const roleName = arn.slice(arn.lastIndexOf("/") + 1);
  return { principalArn: arn, roleName, accountId, credentials: source };
}

function explicitCandidate(principalArn: string, source: AwsCredentialSource | undefined, context: AuthContext): Candidate {
  const [, , , accountId = ""] = ARN.exec(principalArn) ?? [];
  const roleName = principalArn.slice(principalArn.lastIndexOf("/") + 1);
  return { principalArn, roleName, accountId, credentials: () => resolveCredentials(source, context) };
}

/** Credentials from an option (object or function), else from the `AWS_*` environment variables. */
export async function resolveCredentials(source: AwsCredentialSource | undefined, context: AuthContext): Promise<AwsCredentials> {
  let credentials: AwsCredentials | undefined;
  if (typeof source === "function") {
    try {
      credentials = await source();
    } catch (error) {
      throw new CerberusEdgeError("CREDENTIALS_ERROR", `the credentials function failed (${describeError(error)})`, { step: "credentials", cause: error });
    }
  } else if (source) {
    credentials = source;
  } else {
    const accessKeyId = context.env("AWS_ACCESS_KEY_ID");
    const secretAccessKey = context.env("AWS_SECRET_ACCESS_KEY");
    if (accessKeyId && secretAccessKey) {
      credentials = { accessKeyId, secretAccessKey, sessionToken: context.env("AWS_SESSION_TOKEN") || undefined };
    }
  }
  if (!credentials) {
    throw new InvalidInputError("credentials", "none given and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are unset", "credentials");
  }
  checkCredentials(credentials, "credentials");
  return sealCredentials(credentials);
}

async function authenticateCandidate(
  candidate: Candidate,
  region: string,
  version: 1 | 2,
  options: KmsAuthOptions,
  context: AuthContext,
  startedAt: number,
): Promise<CerberusToken> {
  const request = {
    method: "POST",
    step: "cerberus-auth",
    signal: context.signal,
    ...(version === 2
      ? { path: "/v2/auth/iam-principal", json: { iam_principal_arn: candidate.principalArn, region } }
      : { path: "/v1/auth/iam-role", json: { account_id: candidate.accountId, role_name: candidate.roleName, region } }),
  } as const;
  // Asking for auth_data is safe to repeat, and a keep-alive socket the server just closed
  // fails a POST without a transport-level retry: try once more on a connection error.
  const res = await cerberusRequest(context.cerberus, request).catch((error: unknown) => {
    if (error instanceof TransportError && !error.timedOut && !context.signal?.aborted) return cerberusRequest(context.cerberus, request);
    throw error;
  });
  const { auth_data } = parseJsonBody(res, AuthDataResponse, "Cerberus auth response", "cerberus-auth");
  emit(context.onEvent, { type: "auth.payload", principal: candidate.principalArn, region, bytes: auth_data.length });
  const credentials = await candidate.credentials();
  const { plaintext } = await kmsDecrypt({
    ciphertext: auth_data,
    region,
    endpoint: serviceEndpoint("kms", region, options.kmsEndpoint, context.env),
    credentials,
    transport: context.transport,
    clock: context.clock,
    skew: context.skew,
    signal: context.signal,
    onEvent: context.onEvent,
  });
  try {
    const payload = decodeAuthPlaintext(plaintext);
    return tokenFromPayload(payload, startedAt, { method: version === 2 ? "kms" : "kms-v1", principal: candidate.principalArn, region });
  } finally {
    plaintext.fill(0);
  }
}

/** Failures that will not change in another region: the principal or its credentials are refused. */
function isPrincipalRejected(error: CerberusEdgeError): boolean {
  return (error instanceof CerberusApiError && error.codes.includes(99216)) || error.step === "credentials" || error.step === "metadata";
}
