/**
 * EC2 instance metadata service (IMDS) client: IMDSv2 sessions with the SDKs' IMDSv1 fallback.
 *
 * @module
 */
import * as v from "valibot";
import type { Clock } from "../clock.ts";
import { untilAborted } from "../abort.ts";
import { InvalidInputError, MetadataError, TransportError } from "../errors.ts";
import { emit, type EventListener } from "../events.ts";
import { send, type HttpTransport } from "../transport.ts";
import { issueSummary, parseJsonText } from "../validate.ts";
import { sealCredentials, type AwsCredentials } from "./credentials.ts";

/** The parts of the instance identity document the client uses. */
export interface IdentityDocument {
  /** 12-digit AWS account id. */
  accountId: string;
  /** Region the instance runs in. */
  region: string;
  /** Instance id, when present. */
  instanceId?: string | undefined;
}

/** `iam/info`: the instance profile attached to the instance. */
export interface IamInfo {
  /** `arn:<partition>:iam::<account>:instance-profile/<path/><name>`. */
  instanceProfileArn: string;
  /** Instance profile id. */
  instanceProfileId?: string | undefined;
}

/** What the KMS flow reads from instance metadata; inject a fake in tests. */
export interface InstanceMetadata {
  /** The instance identity document. */
  identityDocument(signal?: AbortSignal): Promise<IdentityDocument>;
  /** The attached instance profile. */
  iamInfo(signal?: AbortSignal): Promise<IamInfo>;
  /** Names of the IAM roles whose credentials the instance vends. */
  roleNames(signal?: AbortSignal): Promise<string[]>;
  /** Temporary credentials of one role. */
  roleCredentials(roleName: string, signal?: AbortSignal): Promise<AwsCredentials>;
}

/** Options of {@link createInstanceMetadataClient}. */
export interface InstanceMetadataOptions {
  /** Transport for metadata requests. */
  transport: HttpTransport;
  /** Clock for timeouts and token lifetime. */
  clock: Clock;
  /** Environment lookup for the `AWS_EC2_METADATA_*` settings. */
  env?: (name: string) => string | undefined;
  /** Base URL; default `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else `http://169.254.169.254`. */
  endpoint?: string;
  /** Refuse IMDSv1 fallback; default from `AWS_EC2_METADATA_V1_DISABLED`. */
  v1Disabled?: boolean;
  /** Per-request timeout in ms; default 1000 as in the AWS SDKs. */
  timeoutMs?: number;
  /** IMDSv2 session token lifetime in seconds; default 21600. */
  tokenTtlSeconds?: number;
  /** Progress events. */
  onEvent?: EventListener;
}

const IdentityDocumentSchema = v.object({
  accountId: v.pipe(v.string(), v.regex(/^\d{12}$/, "accountId is not 12 digits")),
  region: v.pipe(v.string(), v.regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, "region is not an AWS region")),
  instanceId: v.optional(v.string()),
});

const IamInfoSchema = v.object({
  Code: v.optional(v.string()),
  InstanceProfileArn: v.pipe(
    v.string(),
    v.regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/, "InstanceProfileArn is not an instance profile ARN"),
  ),
  InstanceProfileId: v.optional(v.string()),
});

const RoleCredentialsSchema = v.object({
  Code: v.optional(v.string()),
  AccessKeyId: v.pipe(v.string(), v.minLength(16, "AccessKeyId is too short")),
  SecretAccessKey: v.pipe(v.string(), v.minLength(1, "SecretAccessKey is empty")),
  Token: v.optional(v.string()),
  Expiration: v.optional(v.pipe(v.string(), v.isoTimestamp("Expiration is not an ISO timestamp"))),
});

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const FALLBACK_STATUSES = new Set([403, 404, 405]);
const V1_FALLBACK_MEMORY_MS = 5 * 60_000;

/** Resolves whether IMDS is switched off by `AWS_EC2_METADATA_DISABLED`. */
function metadataDisabled(env: (name: string) => string | undefined): boolean {
  return env("AWS_EC2_METADATA_DISABLED")?.toLowerCase() === "true";
}

/** Creates an IMDS client following the AWS SDKs' conventions (see WIRE.md). */
export function createInstanceMetadataClient(options: InstanceMetadataOptions): InstanceMetadata {
  const env = options.env ?? (() => undefined);
  const { transport, clock } = options;
  const timeoutMs = options.timeoutMs ?? 1000;
  const ttl = options.tokenTtlSeconds ?? 21600;
  const v1Disabled = options.v1Disabled ?? env("AWS_EC2_METADATA_V1_DISABLED")?.toLowerCase() === "true";
  // Resolved on first use, so a bad setting only fails hosts that actually read metadata.
  let resolvedBase: string | undefined;
  const base = () => (resolvedBase ??= (() => {
    const configured = options.endpoint ?? env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (configured) {
      if (!/^https?:\/\/[^/?#@]+\/?$/.test(configured)) {
        throw new InvalidInputError(
          options.endpoint ? "endpoint" : "AWS_EC2_METADATA_SERVICE_ENDPOINT",
          `"${configured.slice(0, 80)}" is not an http(s) origin like http://169.254.169.254`,
          "metadata",
        );
      }
      return configured.replace(/\/+$/, "");
    }
    return env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")?.toLowerCase() === "ipv6"
      ? "http://[fd00:ec2::254]"
      : "http://169.254.169.254";
  })());

  let token: { value: string; refreshAt: number } | undefined;
  let tokenInFlight: Promise<string | undefined> | undefined;
  let v1Until = 0;

  const request = (method: string, path: string, headers: Record<string, string>, signal?: AbortSignal) =>
    send(new Request(base() + path, { method, headers }), { transport, clock, timeoutMs, step: "metadata", signal });

  async function fetchToken(): Promise<string | undefined> {
    let reason: string;
    try {
      const res = await request("PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": String(ttl) });
      if (res.status === 200) {
        const value = new TextDecoder().decode(res.body).trim();
        if (!value || /[\s\u0000-\u001f]/.test(value)) throw new MetadataError("IMDS returned an empty or malformed session token");
        // Renew a minute before the TTL (or at half of a very short TTL).
        token = { value, refreshAt: clock.now() + Math.max(ttl * 500, ttl * 1000 - 60_000) };
        return value;
      }
      if (!FALLBACK_STATUSES.has(res.status)) {
        throw new MetadataError(`IMDSv2 session token request failed with HTTP ${res.status}`, res.status);
      }
      reason = `session token request answered HTTP ${res.status}`;
    } catch (error) {
      if (!(error instanceof TransportError && error.timedOut)) throw error;
      reason = "session token request timed out";
    }
    if (v1Disabled) {
      throw new MetadataError(`IMDSv2 unavailable (${reason}) and IMDSv1 is disabled by AWS_EC2_METADATA_V1_DISABLED`);
    }
    v1Until = clock.now() + V1_FALLBACK_MEMORY_MS;
    emit(options.onEvent, { type: "metadata.fallback-v1", reason });
    return undefined;
  }

  async function sessionToken(signal?: AbortSignal): Promise<string | undefined> {
    if (token && clock.now() < token.refreshAt) return token.value;
    if (!v1Disabled && clock.now() < v1Until) return undefined;
    // Shared by every caller, so it runs without any one caller's signal.
    tokenInFlight ??= fetchToken().finally(() => {
      tokenInFlight = undefined;
    });
    return untilAborted(tokenInFlight, signal, "metadata", "IMDSv2 session token request");
  }

  async function get(path: string, what: string, signal?: AbortSignal): Promise<string> {
    if (metadataDisabled(env)) throw new MetadataError("instance metadata is disabled by AWS_EC2_METADATA_DISABLED");
    for (let attempt = 0; ; attempt++) {
      const current = await sessionToken(signal);
      const res = await request("GET", path, current ? { "X-aws-ec2-metadata-token": current } : {}, signal);
      if (res.status === 401 && current && attempt === 0) {
        token = undefined; // expired or revoked session token: take a new one once
        continue;
      }
      if (res.status === 404) throw new MetadataError(`${what} not found in instance metadata (HTTP 404)`, 404);
      if (res.status !== 200) throw new MetadataError(`reading ${what} from instance metadata failed with HTTP ${res.status}`, res.status);
      return new TextDecoder().decode(res.body);
    }
  }

  async function getJson<S extends v.GenericSchema>(path: string, what: string, schema: S, signal?: AbortSignal) {
    const text = await get(path, what, signal);
    const json = parseJsonText(text);
    if (!json) throw new MetadataError(`${what} from instance metadata is not JSON`);
    const parsed = v.safeParse(schema, json.value);
    if (!parsed.success) throw new MetadataError(`${what} from instance metadata is invalid: ${issueSummary(parsed.issues)}`);
    return parsed.output as v.InferOutput<S>;
  }

  return {
    async identityDocument(signal) {
      const doc = await getJson("/latest/dynamic/instance-identity/document", "instance identity document", IdentityDocumentSchema, signal);
      return { accountId: doc.accountId, region: doc.region, instanceId: doc.instanceId };
    },
    async iamInfo(signal) {
      const info = await getJson("/latest/meta-data/iam/info", "iam/info (instance profile)", IamInfoSchema, signal);
      if (info.Code !== undefined && info.Code !== "Success") throw new MetadataError(`iam/info reports Code ${info.Code.slice(0, 40)}`);
      return { instanceProfileArn: info.InstanceProfileArn, instanceProfileId: info.InstanceProfileId };
    },
    async roleNames(signal) {
      const text = await get("/latest/meta-data/iam/security-credentials/", "role list", signal);
      const names = text.split("\n").map((line) => line.trim()).filter(Boolean);
      for (const name of names) {
        if (!ROLE_NAME.test(name)) throw new MetadataError("role list from instance metadata holds a malformed role name");
      }
      if (names.length === 0) throw new MetadataError("the instance has no IAM role (security-credentials/ is empty)");
      return names;
    },
    async roleCredentials(roleName, signal) {
      if (!ROLE_NAME.test(roleName)) throw new MetadataError(`"${roleName.slice(0, 64)}" is not a valid role name`);
      const creds = await getJson(
        `/latest/meta-data/iam/security-credentials/${encodeURIComponent(roleName)}`,
        `credentials of role ${roleName}`,
        RoleCredentialsSchema,
        signal,
      );
      if (creds.Code !== undefined && creds.Code !== "Success") {
        throw new MetadataError(`credentials of role ${roleName} report Code ${creds.Code.slice(0, 40)}`);
      }
      return sealCredentials({
        accessKeyId: creds.AccessKeyId,
        secretAccessKey: creds.SecretAccessKey,
        sessionToken: creds.Token,
        expiration: creds.Expiration ? new Date(creds.Expiration) : undefined,
      });
    },
  };
}
