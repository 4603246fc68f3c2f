/**
 * AWS partitions and service endpoints.
 *
 * @module
 */
import { InvalidInputError } from "../errors.ts";

/** The AWS partitions Cerberus accepts in principal ARNs. */
export type Partition = "aws" | "aws-cn" | "aws-us-gov";

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/** Checks that `region` looks like an AWS region (e.g. `us-west-2`) and returns it. */
export function checkRegion(region: unknown, field: string): string {
  if (typeof region !== "string") throw new InvalidInputError(field, "must be a string like us-west-2");
  if (!REGION.test(region)) throw new InvalidInputError(field, `"${region.slice(0, 40)}" is not an AWS region name like us-west-2`);
  return region;
}

/** The partition a region belongs to. */
export function partitionOf(region: string): Partition {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** The DNS suffix of a region's partition. */
export function dnsSuffix(region: string): string {
  return partitionOf(region) === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
}

/** Looks up an endpoint override: the service-specific variable, then `AWS_ENDPOINT_URL`. */
function endpointOverride(
  env: (name: string) => string | undefined,
  serviceVariable: string,
): string | undefined {
  const value = env(serviceVariable) || env("AWS_ENDPOINT_URL");
  return value ? value : undefined;
}

/**
 * The URL to send a service's requests to in `region`: an explicit endpoint, then an override
 * from the environment, then `https://<service>.<region>.<partition suffix>/`.
 */
export function serviceEndpoint(
  service: "kms" | "sts",
  region: string,
  explicit: string | undefined,
  env: (name: string) => string | undefined,
): URL {
  const override = explicit ?? endpointOverride(env, `AWS_ENDPOINT_URL_${service.toUpperCase()}`);
  const text = override ?? `https://${service}.${region}.${dnsSuffix(region)}/`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidInputError(`${service} endpoint`, "is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new InvalidInputError(`${service} endpoint`, `${url.protocol} is not http: or https:`);
  }
  if (url.username || url.password) throw new InvalidInputError(`${service} endpoint`, "must not carry a user name or password");
  if (url.href.includes("?") || url.href.includes("#")) throw new InvalidInputError(`${service} endpoint`, "must not have a query or fragment");
  return url;
}
