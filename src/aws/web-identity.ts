/**
 * Credentials for a web identity (EKS service accounts, docs/wire.md#web-identity):
 * `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` (and `AWS_ROLE_SESSION_NAME`) exchanged with
 * STS `AssumeRoleWithWebIdentity`, an unsigned call.
 *
 * @module
 */
import { callAws } from "./call.ts";
import * as v from "valibot";
import { AwsError, InvalidInputError } from "../errors.ts";
import type { Cached } from "../internal/cache.ts";
import { check, decodeJson, isRecord, matching, parseJson, text } from "../internal/decode.ts";
import { readSettingFile } from "../internal/files.ts";
import type { HttpContext } from "../internal/http.ts";
import { sanitize } from "../internal/text.ts";
import { type AwsCredentials, cachedCredentials, sealCredentials } from "./credentials.ts";
import { regionFromEnv, serviceEndpoint } from "./endpoints.ts";

/** Where the runtime lets the library look. */
export interface WebIdentityEnvironment {
  /** Environment lookup. */
  env(name: string): string | undefined;
  /** Reads the token file. */
  readTextFile(path: string): Promise<string>;
}

const step = "credentials";
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

const Answer = v.object({
  AssumeRoleWithWebIdentityResponse: v.object({
    AssumeRoleWithWebIdentityResult: v.object({
      Credentials: v.object({
        AccessKeyId: matching(/^[\x21-\x7e]{16,128}$/, "AccessKeyId is malformed"),
        SecretAccessKey: matching(/./, "SecretAccessKey is empty"),
        SessionToken: matching(/^[\x21-\x7e]+$/, "SessionToken is malformed"),
        Expiration: v.pipe(
          v.unknown(),
          v.check((x) => typeof x === "number" || typeof x === "string", "Expiration is missing"),
        ),
      }),
    }),
  }),
});

const StsError = v.object({ Error: v.object({ Code: v.string(), Message: v.nullish(v.string()) }) });

/** True when the environment configures a web identity. */
export function hasWebIdentity(env: (name: string) => string | undefined): boolean {
  return Boolean(env("AWS_WEB_IDENTITY_TOKEN_FILE") && env("AWS_ROLE_ARN"));
}

/**
 * Web identity credentials, cached until five minutes before they expire, one exchange in
 * flight; network failures and STS 5xx are retried (3 attempts).
 */
export function webIdentityCredentials(http: HttpContext, where: WebIdentityEnvironment): Cached<AwsCredentials> {
  const load = async (): Promise<AwsCredentials> => {
    const roleArn = where.env("AWS_ROLE_ARN") ?? "";
    if (!ROLE_ARN.test(roleArn)) throw new InvalidInputError("is not an IAM role ARN", { field: "AWS_ROLE_ARN", step });
    const region = regionFromEnv(where.env, false, step);
    if (!region) {
      throw new InvalidInputError("is needed for the STS call that exchanges the web identity token", {
        field: "AWS_REGION",
        step,
      });
    }
    const file = where.env("AWS_WEB_IDENTITY_TOKEN_FILE")!;
    const token = (await readSettingFile(where.readTextFile, file, "AWS_WEB_IDENTITY_TOKEN_FILE", step)).trim();
    if (!token) throw new InvalidInputError("names an empty file", { field: "AWS_WEB_IDENTITY_TOKEN_FILE", step });
    const session = where.env("AWS_ROLE_SESSION_NAME") || `cerberus-edge-${http.clock.now()}`;
    const body = new URLSearchParams({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: roleArn,
      RoleSessionName: session,
      WebIdentityToken: token,
    }).toString();
    const url = serviceEndpoint("sts", region, undefined, where.env);
    const headers = { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" };
    const answer = await callAws(http, url, () => ({ method: "POST", headers, body }), {
      service: "sts",
      what: "STS AssumeRoleWithWebIdentity",
      step,
      timeoutMs: 5000,
      errorBodies: true,
    });
    if (answer.status !== 200) {
      const json = parseJson(text(answer.body));
      const parsed = json && isRecord(json.value) ? check(StsError, json.value) : undefined;
      const code = parsed?.ok ? sanitize(parsed.value.Error.Code, 60) : undefined;
      const detail = parsed?.ok && parsed.value.Error.Message
        ? `: ${sanitize(parsed.value.Error.Message, 200, [token])}`
        : "";
      throw new AwsError(
        `STS refused the web identity token for ${sanitize(roleArn)} (${code ?? `HTTP ${answer.status}`})${detail}`,
        {
          step,
          service: "sts",
          status: answer.status,
          awsType: code,
        },
      );
    }
    const out = decodeJson(
      answer.body,
      Answer,
      (problem) =>
        new AwsError(`the AssumeRoleWithWebIdentity answer ${problem}`, { step, service: "sts", status: 200 }),
      answer.headers.get("content-type"),
    ).AssumeRoleWithWebIdentityResponse.AssumeRoleWithWebIdentityResult.Credentials;
    const expiration = typeof out.Expiration === "number"
      ? new Date(out.Expiration * 1000)
      : new Date(String(out.Expiration));
    return sealCredentials(
      {
        accessKeyId: out.AccessKeyId,
        secretAccessKey: out.SecretAccessKey,
        sessionToken: out.SessionToken,
        expiration: Number.isFinite(expiration.getTime()) ? expiration : undefined,
      },
      "web identity credentials",
    );
  };
  return cachedCredentials(load, http.clock, "web identity credentials", step);
}
