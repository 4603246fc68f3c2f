/**
 * EC2 instance metadata (IMDS): IMDSv2 sessions with the AWS SDKs' IMDSv1 fallback
 * (docs/wire.md#instance-metadata-imds). One client lives as long as the Cerberus client that
 * owns it, so its session token and its memory of a v1 fallback are reused across
 * re-authentications.
 *
 * @module
 */
import * as v from "valibot";
import { AbortedError, AwsError, TransportError } from "../errors.ts";
import { cachedUntil } from "../internal/cache.ts";
import { decodeJson, matching, text } from "../internal/decode.ts";
import { endpointUrl } from "../internal/endpoint.ts";
import { emit } from "../internal/events.ts";
import { type Answer, BODY_LIMITS, type HttpContext, send } from "../internal/http.ts";
import { isHeaderSafe, sanitize } from "../internal/text.ts";
import type { EventListener } from "../events.ts";
import { type AwsCredentials, sealCredentials } from "./credentials.ts";

/** What the KMS flow reads from instance metadata; a test or a caller may supply its own. */
export interface InstanceMetadata {
  /** Account and region from the instance identity document. */
  identityDocument(signal?: AbortSignal): Promise<{ accountId: string; region: string }>;
  /** The attached instance profile's ARN, from `iam/info`. */
  instanceProfileArn(signal?: AbortSignal): Promise<string>;
  /** Names of the IAM roles whose credentials the instance vends. */
  roleNames(signal?: AbortSignal): Promise<string[]>;
  /** Sealed temporary credentials of one role. */
  roleCredentials(roleName: string, signal?: AbortSignal): Promise<AwsCredentials>;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const IdentityDocument = v.object({
  accountId: matching(/^\d{12}$/, "accountId is not 12 digits"),
  region: matching(REGION, "region is not an AWS region"),
});
const IamInfo = v.object({
  Code: v.optional(v.string()),
  InstanceProfileArn: matching(
    /^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]+$/,
    "InstanceProfileArn is not an instance profile ARN",
  ),
});
const RoleCredentials = v.object({
  Code: v.optional(v.string()),
  AccessKeyId: matching(/^[\x21-\x7e]{16,128}$/, "AccessKeyId is malformed"),
  SecretAccessKey: matching(/./, "SecretAccessKey is empty"),
  Token: v.optional(matching(/^[\x21-\x7e]+$/, "Token is malformed")),
  Expiration: v.optional(
    v.pipe(v.string(), v.check((s) => Number.isFinite(Date.parse(s)), "Expiration is not a timestamp")),
  ),
});

// One path segment: never "." or "..", which would reach another document.
const ROLE_NAME = /^(?!\.\.?$)[\w+=,.@-]{1,64}$/;
const FALLBACK_STATUSES = new Set([403, 404, 405]);
const V1_MEMORY_MS = 5 * 60_000;
const TOKEN_TTL_S = 21_600;
const step = "metadata";

const failure = (message: string, status?: number) => new AwsError(message, { step, service: "imds", status });

/** Creates an IMDS client from the `AWS_EC2_METADATA_*` settings, with 1 s timeouts. */
export function createInstanceMetadata(
  http: HttpContext,
  env: (name: string) => string | undefined,
  onEvent?: EventListener,
): InstanceMetadata {
  const flag = (name: string) => env(name)?.toLowerCase() === "true";
  const v1Disabled = flag("AWS_EC2_METADATA_V1_DISABLED");
  let base: string | undefined;
  let v1Until = Number.NEGATIVE_INFINITY;

  const request = (method: string, path: string, headers: Record<string, string>, signal?: AbortSignal) => {
    base ??= endpointUrl(
      env("AWS_EC2_METADATA_SERVICE_ENDPOINT") ||
        (env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")?.toLowerCase() === "ipv6"
          ? "http://[fd00:ec2::254]"
          : "http://169.254.169.254"),
      "AWS_EC2_METADATA_SERVICE_ENDPOINT",
      "any",
      step,
    ).href.replace(/\/$/, "");
    return send(http, base + path, { method, headers }, { step, timeoutMs: 1000, limit: BODY_LIMITS.aws, signal });
  };

  // The session token is shared by every caller; `undefined` means "use IMDSv1".
  const session = cachedUntil<{ token: string | undefined; until: number }>(
    async () => {
      let reason: string;
      try {
        const answer = await request("PUT", "/latest/api/token", {
          "X-aws-ec2-metadata-token-ttl-seconds": String(TOKEN_TTL_S),
        });
        if (answer.status === 200) {
          const token = text(answer.body).trim();
          if (!isHeaderSafe(token)) throw failure("IMDS returned an empty or malformed session token");
          return { token, until: http.clock.now() + TOKEN_TTL_S * 1000 - 60_000 };
        }
        if (!FALLBACK_STATUSES.has(answer.status)) {
          throw failure(`the IMDSv2 session token request failed with HTTP ${answer.status}`, answer.status);
        }
        reason = `session token request answered HTTP ${answer.status}`;
      } catch (error) {
        if (!(error instanceof TransportError && error.code === "TIMEOUT")) throw error;
        reason = "session token request timed out";
      }
      if (v1Disabled) {
        throw failure(`IMDSv2 is unavailable (${reason}) and IMDSv1 is disabled by AWS_EC2_METADATA_V1_DISABLED`);
      }
      v1Until = http.clock.now() + V1_MEMORY_MS;
      emit(onEvent, { type: "metadata.fallback-v1", reason });
      return { token: undefined, until: v1Until };
    },
    {
      clock: http.clock,
      refreshAt: (s) => s.until,
      aborted: (reason) =>
        new AbortedError("the IMDSv2 session token request was aborted by the caller", { step, cause: reason }),
    },
  );

  async function get(path: string, what: string, signal?: AbortSignal): Promise<Answer> {
    if (flag("AWS_EC2_METADATA_DISABLED")) throw failure("instance metadata is disabled by AWS_EC2_METADATA_DISABLED");
    for (let retried = false;; retried = true) {
      const current = await session.get(signal);
      const answer = await request(
        "GET",
        path,
        current.token ? { "X-aws-ec2-metadata-token": current.token } : {},
        signal,
      );
      if (answer.status === 401 && current.token && !retried) {
        session.invalidate(current); // an expired or revoked session token: take a new one, once
        continue;
      }
      if (answer.status !== 200) {
        throw failure(`reading ${what} from instance metadata failed with HTTP ${answer.status}`, answer.status);
      }
      return answer;
    }
  }

  const getJson = async <S extends v.GenericSchema>(path: string, what: string, schema: S, signal?: AbortSignal) => {
    const answer = await get(path, what, signal);
    return decodeJson(
      answer.body,
      schema,
      (problem) => failure(`${what} from instance metadata ${problem}`),
      answer.headers.get("content-type"),
    ) as v.InferOutput<S>;
  };

  const checkCode = (code: string | undefined, what: string) => {
    if (code !== undefined && code !== "Success") throw failure(`${what} reports Code ${sanitize(code, 40)}`);
  };

  return {
    identityDocument: (signal) =>
      getJson("/latest/dynamic/instance-identity/document", "the instance identity document", IdentityDocument, signal),
    async instanceProfileArn(signal) {
      const info = await getJson("/latest/meta-data/iam/info", "iam/info", IamInfo, signal);
      checkCode(info.Code, "iam/info");
      return info.InstanceProfileArn;
    },
    async roleNames(signal) {
      const names = text((await get("/latest/meta-data/iam/security-credentials/", "the role list", signal)).body)
        .split("\n").map((l) => l.trim()).filter(Boolean);
      if (names.some((name) => !ROLE_NAME.test(name))) {
        throw failure("the role list from instance metadata holds a malformed role name");
      }
      if (names.length === 0) throw failure("the instance has no IAM role (security-credentials/ is empty)");
      return names;
    },
    async roleCredentials(roleName, signal) {
      if (!ROLE_NAME.test(roleName)) throw failure(`"${sanitize(roleName, 64)}" is not a role name`);
      const what = `the credentials of role ${roleName}`;
      const creds = await getJson(
        `/latest/meta-data/iam/security-credentials/${encodeURIComponent(roleName)}`,
        what,
        RoleCredentials,
        signal,
      );
      checkCode(creds.Code, what);
      return sealCredentials(
        {
          accessKeyId: creds.AccessKeyId,
          secretAccessKey: creds.SecretAccessKey,
          sessionToken: creds.Token,
          expiration: creds.Expiration ? new Date(creds.Expiration) : undefined,
        },
        what,
        step,
      );
    },
  };
}
