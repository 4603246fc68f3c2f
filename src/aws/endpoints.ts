/**
 * AWS regions, partitions and the endpoints of the services the library signs requests for.
 *
 * @module
 */
import { InvalidInputError, type Step } from "../errors.ts";
import { endpointUrl } from "../internal/endpoint.ts";
import { sanitize } from "../internal/text.ts";

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/** Checks that `region` looks like an AWS region (e.g. `us-west-2`) and returns it. */
export function checkRegion(region: unknown, field: string, step: Step = "config"): string {
  if (typeof region !== "string" || !REGION.test(region)) {
    throw new InvalidInputError(`"${sanitize(region, 40)}" is not an AWS region name like us-west-2`, { field, step });
  }
  return region;
}

/**
 * The region the environment names, checked: `CERBERUS_REGION` (for Cerberus authentication,
 * `forCerberus`), then `AWS_REGION`, then `AWS_DEFAULT_REGION`; `undefined` when none is set.
 */
export function regionFromEnv(
  env: (name: string) => string | undefined,
  forCerberus: boolean,
  step: Step = "config",
): string | undefined {
  for (
    const name of forCerberus
      ? ["CERBERUS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"]
      : ["AWS_REGION", "AWS_DEFAULT_REGION"]
  ) {
    const value = env(name);
    if (value) return checkRegion(value, name, step);
  }
  return undefined;
}

/** The endpoint of `service` in `region`: the explicit one, `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, else the regional host. */
export function serviceEndpoint(
  service: "kms" | "sts",
  region: string,
  explicit: string | undefined,
  env: (name: string) => string | undefined,
): string {
  const variable = `AWS_ENDPOINT_URL_${service.toUpperCase()}`;
  const [field, raw] = explicit !== undefined
    ? [`${service}Endpoint`, explicit]
    : env(variable)
    ? [variable, env(variable)]
    : env("AWS_ENDPOINT_URL")
    ? ["AWS_ENDPOINT_URL", env("AWS_ENDPOINT_URL")]
    : [service, `https://${service}.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`];
  // Signed requests carry credentials: https:, or plain http: to this machine only.
  return `${endpointUrl(raw, field, "loopback").href.replace(/\/$/, "")}/`;
}
