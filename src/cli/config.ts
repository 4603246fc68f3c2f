/**
 * The command line's configuration, read from the environment only:
 * `CERBERUS_URL` (alias `CERBERUS_ADDR`), `CERBERUS_AUTH` and `CERBERUS_REGION`.
 * The AWS variables (`AWS_REGION`, `AWS_EC2_METADATA_SERVICE_ENDPOINT`, `AWS_ENDPOINT_URL_KMS`, …)
 * are not read here: the library reads them itself through the runtime adapter.
 *
 * @module
 */
import { type AuthMethodName, authMethodOf } from "../auth/default-auth.ts";
import { checkRegion } from "../aws/endpoints.ts";
import { InvalidInputError } from "../errors.ts";
import { endpointUrl } from "../internal/endpoint.ts";

/** Looks up an environment variable; `undefined` when unset (or not readable). */
export type EnvLookup = (name: string) => string | undefined;

/** The KMS auth flavours the command line offers, as `CERBERUS_AUTH` spells them. */
export type CliAuthMethod = AuthMethodName;

/** What the environment configures. */
export interface CliConfig {
  /** The checked Cerberus base URL. */
  url: URL;
  /** `auto` (the default chain), `token`, `sts`, `kms` (v2) or `kms-v1`. */
  auth: CliAuthMethod;
  /** `CERBERUS_REGION` when set; otherwise the library picks `AWS_REGION`, `AWS_DEFAULT_REGION`, then the instance's region. */
  region: string | undefined;
}

/** Reads a variable, treating an empty or all-blank value as unset. */
function read(env: EnvLookup, name: string): string | undefined {
  const value = env(name)?.trim();
  return value ? value : undefined;
}

/**
 * Builds the configuration from the environment.
 *
 * - `CERBERUS_URL`, else `CERBERUS_ADDR`: required; `https:`, or `http:` to a loopback host only.
 * - `CERBERUS_AUTH`: `auto` (default), `token`, `sts`, `kms` or `kms-v1`, case-insensitive.
 * - `CERBERUS_REGION`: optional explicit KMS region, checked for the shape of an AWS region.
 *
 * @throws {InvalidInputError} for a missing or invalid value, naming the variable.
 */
export function readConfig(env: EnvLookup): CliConfig {
  const urlVariable = read(env, "CERBERUS_URL") !== undefined ? "CERBERUS_URL" : "CERBERUS_ADDR";
  const rawUrl = read(env, urlVariable);
  if (rawUrl === undefined) {
    throw new InvalidInputError(
      "is not set (nor CERBERUS_ADDR); set it to the Cerberus base URL, e.g. https://cerberus.example.com",
      {
        field: "CERBERUS_URL",
      },
    );
  }
  const url = endpointUrl(rawUrl, urlVariable, "loopback");

  const auth = authMethodOf(env);

  const rawRegion = read(env, "CERBERUS_REGION");
  const region = rawRegion === undefined ? undefined : checkRegion(rawRegion, "CERBERUS_REGION");
  return { url, auth, region };
}
