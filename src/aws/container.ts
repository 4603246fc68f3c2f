/**
 * Credentials from the ECS / EKS Pod Identity container endpoint (docs/wire.md#container-credentials).
 *
 * @module
 */
import { callAws } from "./call.ts";
import * as v from "valibot";
import { AwsError, InvalidInputError } from "../errors.ts";
import type { Cached } from "../internal/cache.ts";
import { decodeJson, matching } from "../internal/decode.ts";
import { endpointUrl } from "../internal/endpoint.ts";
import type { HttpContext } from "../internal/http.ts";
import { readSettingFile } from "../internal/files.ts";
import { isLoopbackHost } from "../internal/text.ts";
import { type AwsCredentials, cachedCredentials, sealCredentials } from "./credentials.ts";

/** Container credentials, with the task role's ARN when the endpoint names it (ECS does). */
export interface ContainerCredentials extends AwsCredentials {
  /** `RoleArn` of the ECS answer. */
  readonly roleArn?: string | undefined;
}

/** Where the runtime lets the library look. */
export interface ContainerEnvironment {
  /** Environment lookup. */
  env(name: string): string | undefined;
  /** Reads the authorization token file. */
  readTextFile(path: string): Promise<string>;
}

const CONTAINER_HOSTS = new Set(["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"]);
const step = "credentials";

const ContainerResponse = v.object({
  AccessKeyId: matching(/^[\x21-\x7e]{16,128}$/, "AccessKeyId is malformed"),
  SecretAccessKey: matching(/./, "SecretAccessKey is empty"),
  Token: v.optional(matching(/^[\x21-\x7e]+$/, "Token is malformed")),
  Expiration: v.optional(
    v.pipe(v.string(), v.check((s) => Number.isFinite(Date.parse(s)), "Expiration is not a timestamp")),
  ),
  RoleArn: v.optional(v.string()),
});

/** True when the environment points at a container credentials endpoint. */
export function hasContainerEndpoint(env: (name: string) => string | undefined): boolean {
  return Boolean(env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || env("AWS_CONTAINER_CREDENTIALS_FULL_URI"));
}

/** The endpoint from the environment, with the AWS SDKs' rules for which hosts may use `http:`. */
export function containerEndpoint(env: (name: string) => string | undefined): string {
  const relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  if (relative) {
    if (!relative.startsWith("/")) {
      throw new InvalidInputError("must start with /", { field: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", step });
    }
    return `http://169.254.170.2${relative}`;
  }
  const full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  const url = endpointUrl(
    full,
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    (host) => isLoopbackHost(host) || CONTAINER_HOSTS.has(host),
    step,
  );
  return url.href;
}

/**
 * Container credentials, cached until five minutes before they expire, one request in flight;
 * network failures and 5xx answers are retried (3 attempts, 2 s timeouts).
 */
export function containerCredentials(http: HttpContext, where: ContainerEnvironment): Cached<ContainerCredentials> {
  const load = async (): Promise<ContainerCredentials> => {
    const url = containerEndpoint(where.env);
    const file = where.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const authorization = file
      ? (await readSettingFile(where.readTextFile, file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", step)).trim()
      : where.env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const headers: Record<string, string> = { Accept: "application/json" };
    if (authorization) {
      const field = file ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" : "AWS_CONTAINER_AUTHORIZATION_TOKEN";
      if (!/^[\x20-\x7e]+$/.test(authorization)) {
        throw new InvalidInputError("holds characters a header cannot carry", { field, step });
      }
      headers.Authorization = authorization;
    } else if (file) {
      throw new InvalidInputError("names an empty file", { field: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", step });
    }
    const answer = await callAws(http, url, () => ({ method: "GET", headers }), {
      service: "container",
      what: "the container credentials endpoint",
      step,
      timeoutMs: 2000,
    });
    const out = decodeJson(
      answer.body,
      ContainerResponse,
      (problem) => new AwsError(`the container credentials ${problem}`, { step, service: "container", status: 200 }),
      answer.headers.get("content-type"),
    );
    return sealCredentials<ContainerCredentials>(
      {
        accessKeyId: out.AccessKeyId,
        secretAccessKey: out.SecretAccessKey,
        sessionToken: out.Token,
        expiration: out.Expiration ? new Date(out.Expiration) : undefined,
        roleArn: out.RoleArn,
      },
      "container credentials",
    );
  };
  return cachedCredentials(load, http.clock, "container credentials", step);
}
