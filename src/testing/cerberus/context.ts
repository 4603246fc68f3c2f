/**
 * What every Cerberus route handler gets: the stores, the configuration, the request and the
 * server time, plus helpers for the token header and JSON bodies.
 *
 * @module
 */
import type { AwsIdentityStore } from "../aws/identity.ts";
import type { KmsKeyStore } from "../aws/kms-keys.ts";
import { utf8Text } from "../encoding.ts";
import { isRecord, parseJson, readBody } from "../http.ts";
import type { FetchHandler, TimeSource } from "../types.ts";
import { cerberusError } from "./errors.ts";
import type { Caller, CerberusStore } from "./store.ts";
import type { CerberusTokenStore, TokenRecord } from "./tokens.ts";
import type { UserDirectory } from "./users.ts";

/** Server-side settings of the emulated Cerberus. */
export interface CerberusConfig {
  /** Lifetime of IAM principal tokens, seconds (server default `1h`). */
  iamTokenTtlSeconds: number;
  /** Lifetime of user tokens, seconds. */
  userTokenTtlSeconds: number;
  /** How many times a user token may be refreshed. */
  maxRefreshCount: number;
  /** Whether the KMS auth endpoints (`/v2/auth/iam-principal`, `/v1/auth/iam-role`) are served. */
  kmsAuthEnabled: boolean;
  /** The user group whose members are admins. */
  adminGroup: string;
  /** IAM principal ARNs that are admins. */
  adminRoleArns: string[];
}

/** The defaults of {@link CerberusConfig}. */
export const DEFAULT_CERBERUS_CONFIG: CerberusConfig = {
  iamTokenTtlSeconds: 3600,
  userTokenTtlSeconds: 3600,
  maxRefreshCount: 24,
  kmsAuthEnabled: true,
  adminGroup: "cerberus-admins",
  adminRoleArns: [],
};

/** The long-lived parts of the emulated Cerberus. */
export interface CerberusDeps {
  /** SDBs and secure data. */
  store: CerberusStore;
  /** Client tokens. */
  tokens: CerberusTokenStore;
  /** Users for user auth. */
  users: UserDirectory;
  /** KMS keys (KMS auth encrypts with them). */
  keys: KmsKeyStore;
  /** IAM (KMS keys can only be granted to principals that exist). */
  identities: AwsIdentityStore;
  /** Where GetCallerIdentity is replayed for STS auth (the STS service, faults included). */
  sts: FetchHandler;
  /** Settings. */
  config: CerberusConfig;
  /** Server time. */
  now: TimeSource;
}

/** One request being handled. */
export interface RouteContext {
  /** Long-lived parts. */
  deps: CerberusDeps;
  /** The request. */
  request: Request;
  /** Its parsed URL. */
  url: URL;
  /** Server time of the request, ms. */
  now: number;
  /** Server time of the request, ISO 8601. */
  nowTs: string;
}

const MAX_JSON_BODY = 1024 * 1024;

/** The live token of the request (`X-Cerberus-Token` or legacy `X-Vault-Token`), or a 401 99105. */
export function requireToken(ctx: RouteContext): TokenRecord | Response {
  const header = ctx.request.headers.get("x-cerberus-token") ?? ctx.request.headers.get("x-vault-token");
  return ctx.deps.tokens.resolve(header, ctx.now) ?? cerberusError(99105);
}

/** The permission-relevant identity of a token. */
export function callerOf(token: TokenRecord): Caller {
  return { type: token.principalType, name: token.principal, groups: token.groups };
}

/** Reads a JSON object body, or answers 99000 (missing) / 99001 (malformed). */
export async function readJsonObject(ctx: RouteContext): Promise<Record<string, unknown> | Response> {
  const read = await readBody(ctx.request, MAX_JSON_BODY);
  if (!read.ok) return cerberusError(99001);
  if (read.bytes.length === 0) return cerberusError(99000);
  const text = utf8Text(read.bytes);
  const value = text === undefined ? undefined : parseJson(text);
  return isRecord(value) ? value : cerberusError(99001);
}
