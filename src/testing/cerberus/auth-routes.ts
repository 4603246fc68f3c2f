/**
 * Cerberus authentication: KMS auth v2 and v1 (encrypted `auth_data`), STS auth (replaying the
 * caller's signed GetCallerIdentity), user auth with MFA, token refresh and logout.
 *
 * @module
 */
import { CERBERUS_PRINCIPAL_ARN, principalToRoleArn } from "../aws/arn.ts";
import { isKnownRegion } from "../aws/regions.ts";
import { stsReplayUrl } from "../aws/sts-service.ts";
import { fromBase64, toBase64, utf8Bytes, utf8Text } from "../encoding.ts";
import { emptyResponse, isRecord, jsonResponse, parseJson, stringField } from "../http.ts";
import { readJsonObject, requireToken, type RouteContext } from "./context.ts";
import { cerberusError } from "./errors.ts";
import { type TokenRecord, tokenResponse } from "./tokens.ts";
import type { MfaDevice, UserRecord } from "./users.ts";

/** The largest payload KMS can encrypt; bigger auth payloads are truncated. */
export const KMS_SIZE_LIMIT = 4096;

const GET_CALLER_IDENTITY = "Action=GetCallerIdentity&Version=2011-06-15";

/** `POST /v2/auth/iam-principal`: KMS auth v2. */
export async function kmsAuthV2(ctx: RouteContext): Promise<Response> {
  const body = await readJsonObject(ctx);
  if (body instanceof Response) return body;
  const arn = stringField(body, "iam_principal_arn");
  const region = stringField(body, "region")?.trim() ?? "";
  if (arn === undefined || !CERBERUS_PRINCIPAL_ARN.test(arn)) return cerberusError(99216);
  if (region === "") return cerberusError(99228);
  if (!isKnownRegion(region)) return cerberusError(99215);
  const metadata = { ...iamMetadata(ctx, arn), aws_region: region, aws_iam_principal_arn: arn };
  return kmsAuthenticate(ctx, arn, region, metadata);
}

/** `POST /v1/auth/iam-role`: KMS auth v1 (account id + role name). */
export async function kmsAuthV1(ctx: RouteContext): Promise<Response> {
  const body = await readJsonObject(ctx);
  if (body instanceof Response) return body;
  const accountId = stringField(body, "account_id") ?? "";
  const roleName = stringField(body, "role_name") ?? "";
  const region = stringField(body, "region")?.trim() ?? "";
  if (!/^\d{12}$/.test(accountId)) return cerberusError(99102);
  if (!/^[\w+=,.@-]{1,64}$/.test(roleName)) return cerberusError(99103);
  if (region === "") return cerberusError(99104);
  if (!isKnownRegion(region)) return cerberusError(99215);
  const arn = `arn:aws:iam::${accountId}:role/${roleName}`;
  const metadata = {
    ...iamMetadata(ctx, arn),
    aws_region: region,
    aws_account_id: accountId,
    aws_iam_role_name: roleName,
  };
  return kmsAuthenticate(ctx, arn, region, metadata);
}

async function kmsAuthenticate(
  ctx: RouteContext,
  arn: string,
  region: string,
  metadata: Record<string, string>,
): Promise<Response> {
  const registered = ctx.deps.store.registeredPrincipalFor(arn);
  if (registered === undefined) return cerberusError(99216, `The role: ${arn} was not configured for any SDB`);
  if (!ctx.deps.identities.principalExists(registered)) {
    return cerberusError(99223, `Failed to lazily provision KMS key for ${arn} in region: ${region}`);
  }
  const key = await ctx.deps.keys.provision(registered, region);
  const token = issueIamToken(ctx, registered, metadata);
  let payload = utf8Bytes(JSON.stringify(tokenResponse(token)));
  if (payload.length > KMS_SIZE_LIMIT) {
    payload = utf8Bytes(
      JSON.stringify({ ...tokenResponse(token), metadata: { _truncated: "true" }, policies: ["_truncated"] }),
    );
  }
  const blob = await ctx.deps.keys.encrypt(key, payload);
  return jsonResponse(200, { auth_data: toBase64(blob) });
}

/** `POST /v2/auth/sts-identity`: STS auth, replaying the caller's signed GetCallerIdentity. */
export async function stsAuth(ctx: RouteContext): Promise<Response> {
  const authorization = ctx.request.headers.get("authorization");
  const amzDate = ctx.request.headers.get("x-amz-date");
  const securityToken = ctx.request.headers.get("x-amz-security-token");
  if (authorization === null || amzDate === null) return cerberusError(99236);
  const region = /Credential=[^/\s,]*\/\d+\/([^/\s,]*)\//.exec(authorization)?.[1];
  if (region === undefined) return cerberusError(99999, "Failed to determine region from header.");
  if (!isKnownRegion(region)) return cerberusError(99999, `Invalid region supplied ${region}.`);
  const headers: Record<string, string> = {
    accept: "application/json",
    authorization,
    "x-amz-date": amzDate,
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
  };
  if (securityToken !== null) headers["x-amz-security-token"] = securityToken;
  let answer: { status: number; text: string } | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const response = await ctx.deps.sts(
        new Request(stsReplayUrl(region), { method: "POST", headers, body: GET_CALLER_IDENTITY }),
      );
      answer = { status: response.status, text: await response.text() };
      if (answer.status < 500) break;
    } catch {
      answer = undefined;
    }
  }
  if (answer === undefined || answer.status >= 500) return cerberusError(99997);
  const parsed = parseJson(answer.text);
  if (answer.status >= 400) {
    const code = isRecord(parsed) && isRecord(parsed["Error"]) ? stringField(parsed["Error"], "Code") : undefined;
    if (code === undefined) return cerberusError(99997);
    if (code === "SignatureDoesNotMatch") return cerberusError(99237);
    if (code === "ExpiredToken") return cerberusError(99238);
    return cerberusError(99106);
  }
  const arn = callerArnOf(parsed);
  if (arn === undefined) return cerberusError(99997);
  const registered = ctx.deps.store.registeredPrincipalFor(arn);
  if (registered === undefined) return cerberusError(99216, `The role: ${arn} was not configured for any SDB`);
  const token = issueIamToken(ctx, registered, { ...iamMetadata(ctx, arn), aws_iam_principal_arn: arn });
  return jsonResponse(200, tokenResponse(token));
}

function callerArnOf(parsed: unknown): string | undefined {
  if (!isRecord(parsed)) return undefined;
  const response = parsed["GetCallerIdentityResponse"];
  const result = isRecord(response) ? response["GetCallerIdentityResult"] : undefined;
  return isRecord(result) ? stringField(result, "Arn") : undefined;
}

function iamMetadata(ctx: RouteContext, arn: string): Record<string, string> {
  const admins = ctx.deps.config.adminRoleArns;
  const isAdmin = admins.includes(arn) || admins.includes(principalToRoleArn(arn));
  return {
    username: arn,
    is_iam_principal: "true",
    is_admin: String(isAdmin),
    groups: isAdmin ? "registered-iam-principals,admin-iam-principals" : "registered-iam-principals",
  };
}

function issueIamToken(ctx: RouteContext, registered: string, metadata: Record<string, string>): TokenRecord {
  return ctx.deps.tokens.issue(
    {
      principal: registered,
      principalType: "IAM",
      groups: [],
      isAdmin: metadata["is_admin"] === "true",
      ttlSeconds: ctx.deps.config.iamTokenTtlSeconds,
      refreshCount: 0,
      metadata,
      policies: ctx.deps.store.policiesOf(registered),
    },
    ctx.now,
  );
}

function issueUserToken(
  ctx: RouteContext,
  user: { username: string; groups: string[] },
  refreshCount: number,
): TokenRecord {
  const isAdmin = user.groups.includes(ctx.deps.config.adminGroup);
  return ctx.deps.tokens.issue(
    {
      principal: user.username,
      principalType: "USER",
      groups: user.groups,
      isAdmin,
      ttlSeconds: ctx.deps.config.userTokenTtlSeconds,
      refreshCount,
      metadata: {
        username: user.username,
        is_admin: String(isAdmin),
        groups: user.groups.join(","),
        refresh_count: String(refreshCount),
        max_refresh_count: String(ctx.deps.config.maxRefreshCount),
      },
      policies: [],
    },
    ctx.now,
  );
}

function userSuccess(ctx: RouteContext, user: UserRecord): Response {
  const token = issueUserToken(ctx, user, 0);
  return jsonResponse(200, {
    status: "success",
    data: { user_id: user.id, username: user.username, client_token: tokenResponse(token) },
  });
}

/** `GET /v2/auth/user`: Basic auth; answers a token or an MFA challenge. */
export function userAuth(ctx: RouteContext): Response {
  const header = ctx.request.headers.get("authorization") ?? "";
  const match = /^Basic\s*(\S+)$/.exec(header);
  const decoded = match?.[1] === undefined ? undefined : fromBase64(match[1]);
  const text = decoded === undefined ? undefined : utf8Text(decoded);
  const colon = text?.indexOf(":") ?? -1;
  if (text === undefined || colon < 0) return cerberusError(99106);
  const user = ctx.deps.users.authenticate(text.slice(0, colon), text.slice(colon + 1));
  if (!user) return cerberusError(99239);
  if (user.devices.length === 0) return userSuccess(ctx, user);
  return jsonResponse(200, {
    status: "mfa_req",
    data: {
      user_id: user.id,
      username: user.username,
      state_token: ctx.deps.users.startMfa(user, ctx.now),
      devices: user.devices.map(deviceJson),
    },
  });
}

function deviceJson(device: MfaDevice): Record<string, unknown> {
  return {
    id: device.id,
    name: device.name,
    requires_trigger: device.kind !== "totp",
    is_push: device.kind === "push",
  };
}

/** `POST /v2/auth/mfa_check`: verifies a code, triggers an SMS or voice-call challenge, or sends a push. */
export async function mfaCheck(ctx: RouteContext): Promise<Response> {
  const body = await readJsonObject(ctx);
  if (body instanceof Response) return body;
  const stateToken = stringField(body, "state_token") ?? "";
  const state = ctx.deps.users.mfaState(stateToken, ctx.now);
  const device = state?.user.devices.find((d) => d.id === stringField(body, "device_id"));
  if (!state || !device) return cerberusError(99243);
  const otp = stringField(body, "otp_token")?.trim() ?? "";
  if (device.kind === "push" && (body["is_push"] === true || otp === "")) {
    if (device.pushAnswer === "reject") return cerberusError(99249);
    if (device.pushAnswer === "timeout") return cerberusError(99248);
    ctx.deps.users.finishMfa(stateToken);
    return userSuccess(ctx, state.user);
  }
  if (otp === "") {
    if (device.kind === "totp") return cerberusError(99243);
    state.challenged.add(device.id);
    return jsonResponse(200, {
      status: "mfa_challenge",
      data: { user_id: state.user.id, username: state.user.username, state_token: stateToken },
    });
  }
  if (device.kind !== "totp" && !state.challenged.has(device.id)) return cerberusError(99243);
  if (otp !== device.otp) return cerberusError(99243);
  ctx.deps.users.finishMfa(stateToken);
  return userSuccess(ctx, state.user);
}

/** `GET /v2/auth/user/refresh`: a new user token for the current one (up to `maxRefreshCount`). */
export function refreshUserToken(ctx: RouteContext): Response {
  const token = requireToken(ctx);
  if (token instanceof Response) return token;
  if (token.principalType !== "USER") {
    return cerberusError(99231, `The principal: ${token.principal} attempted to use the user token refresh method`);
  }
  if (token.refreshCount >= ctx.deps.config.maxRefreshCount) return cerberusError(99230);
  ctx.deps.tokens.revoke(token);
  const fresh = issueUserToken(ctx, { username: token.principal, groups: token.groups }, token.refreshCount + 1);
  return jsonResponse(200, {
    status: "success",
    data: { username: token.principal, client_token: tokenResponse(fresh) },
  });
}

/** `DELETE /v1/auth`: logout; the token is revoked. */
export function logout(ctx: RouteContext): Response {
  const token = requireToken(ctx);
  if (token instanceof Response) return token;
  ctx.deps.tokens.revoke(token);
  return emptyResponse(204);
}
