/**
 * Credentials from the ECS / EKS Pod Identity container credentials endpoint, by the AWS SDKs'
 * conventions: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `…_FULL_URI`, with
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `…_TOKEN` as the `Authorization` header.
 *
 * @module
 */
import * as v from "valibot";
import type { Clock } from "../clock.ts";
import { CerberusEdgeError, InvalidInputError, MetadataError, TransportError } from "../errors.ts";
import { send, type HttpTransport } from "../transport.ts";
import { issueSummary, parseJsonText } from "../validate.ts";
import { credentialsExpiring, sealCredentials, type AwsCredentials } from "./credentials.ts";

/** Container credentials, with the role they belong to when the endpoint says (ECS does). */
export interface ContainerCredentials extends AwsCredentials {
  /** The task role's ARN (`RoleArn` in the ECS answer), when present. */
  readonly roleArn?: string | undefined;
}

/** What {@link containerCredentialsSource} needs. */
export interface ContainerCredentialsOptions {
  /** Environment lookup for the `AWS_CONTAINER_*` variables. */
  env: (name: string) => string | undefined;
  /** Reads `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`. */
  readTextFile: (path: string) => Promise<string>;
  /** Transport. */
  transport: HttpTransport;
  /** Clock for timeouts and expiry. */
  clock: Clock;
  /** Per-request timeout in ms (default 2000). */
  timeoutMs?: number;
}

const ECS_HOST = "http://169.254.170.2";
const ALLOWED_HTTP_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"]);

const ContainerResponse = v.object({
  AccessKeyId: v.pipe(v.string(), v.minLength(16, "AccessKeyId is too short")),
  SecretAccessKey: v.pipe(v.string(), v.minLength(1, "SecretAccessKey is empty")),
  Token: v.optional(v.string()),
  Expiration: v.optional(v.pipe(v.string(), v.isoTimestamp("Expiration is not an ISO timestamp"))),
  RoleArn: v.optional(v.string()),
});

/** True when the environment points at a container credentials endpoint. */
export function hasContainerCredentials(env: (name: string) => string | undefined): boolean {
  return Boolean(env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || env("AWS_CONTAINER_CREDENTIALS_FULL_URI"));
}

/** The endpoint URL from the environment, with the SDKs' host rules for `http:`. */
export function containerCredentialsUrl(env: (name: string) => string | undefined): URL {
  const relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  if (relative) {
    if (!relative.startsWith("/")) throw new InvalidInputError("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "must start with /", "credentials");
    return new URL(ECS_HOST + relative);
  }
  const full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!full) throw new InvalidInputError("AWS_CONTAINER_CREDENTIALS_FULL_URI", "is not set", "credentials");
  let url: URL;
  try {
    url = new URL(full);
  } catch {
    throw new InvalidInputError("AWS_CONTAINER_CREDENTIALS_FULL_URI", "is not a URL", "credentials");
  }
  const loopback = /^127(?:\.\d{1,3}){3}$/.test(url.hostname) || ALLOWED_HTTP_HOSTS.has(url.hostname);
  if (url.protocol === "http:" ? !loopback : url.protocol !== "https:") {
    throw new InvalidInputError(
      "AWS_CONTAINER_CREDENTIALS_FULL_URI",
      `http: is allowed only for loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23 (got ${url.hostname})`,
      "credentials",
    );
  }
  return url;
}

/**
 * A credentials function for the container endpoint. Credentials are cached until five minutes
 * before they expire; concurrent callers share one request.
 */
export function containerCredentialsSource(options: ContainerCredentialsOptions): () => Promise<ContainerCredentials> {
  let cached: ContainerCredentials | undefined;
  let inFlight: Promise<ContainerCredentials> | undefined;
  return () => {
    if (cached && !credentialsExpiring(cached, options.clock.now())) return Promise.resolve(cached);
    inFlight ??= fetchContainerCredentials(options)
      .then((credentials) => (cached = credentials))
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

async function authorizationHeader(options: ContainerCredentialsOptions): Promise<string | undefined> {
  const file = options.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  if (file) {
    const text = (await options.readTextFile(file)).trim();
    if (!text) throw new MetadataError("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names an empty file");
    return text;
  }
  return options.env("AWS_CONTAINER_AUTHORIZATION_TOKEN") || undefined;
}

async function fetchContainerCredentials(options: ContainerCredentialsOptions): Promise<ContainerCredentials> {
  const url = containerCredentialsUrl(options.env);
  const authorization = await authorizationHeader(options);
  if (authorization !== undefined && !/^[\x20-\x7e]+$/.test(authorization)) {
    throw new InvalidInputError("AWS_CONTAINER_AUTHORIZATION_TOKEN", "has characters a header cannot carry", "credentials");
  }
  const headers: Record<string, string> = { Accept: "application/json" };
  if (authorization) headers.Authorization = authorization;
  let lastError: CerberusEdgeError | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await send(new Request(url, { headers }), {
        transport: options.transport,
        clock: options.clock,
        timeoutMs: options.timeoutMs ?? 2000,
        step: "credentials",
      });
      if (res.status >= 500) {
        lastError = new MetadataError(`container credentials endpoint answered HTTP ${res.status}`, res.status);
        continue;
      }
      if (res.status !== 200) throw new MetadataError(`container credentials endpoint answered HTTP ${res.status}`, res.status);
      const json = parseJsonText(new TextDecoder().decode(res.body));
      if (!json) throw new MetadataError("container credentials are not JSON");
      const parsed = v.safeParse(ContainerResponse, json.value);
      if (!parsed.success) throw new MetadataError(`container credentials are invalid: ${issueSummary(parsed.issues)}`);
      const out = parsed.output;
      const credentials: ContainerCredentials = {
        accessKeyId: out.AccessKeyId,
        secretAccessKey: out.SecretAccessKey,
        sessionToken: out.Token,
        expiration: out.Expiration ? new Date(out.Expiration) : undefined,
        roleArn: out.RoleArn,
      };
      return sealCredentials(credentials) as ContainerCredentials;
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      lastError = error;
    }
  }
  throw lastError!;
}
