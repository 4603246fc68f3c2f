/**
 * The command line's configuration, read from the environment only:
 * `CERBERUS_URL` (alias `CERBERUS_ADDR`), `CERBERUS_AUTH` and `CERBERUS_REGION`.
 * The AWS variables (`AWS_REGION`, `AWS_EC2_METADATA_SERVICE_ENDPOINT`, `AWS_ENDPOINT_URL_KMS`, …)
 * are not read here: the library reads them itself through the runtime adapter.
 *
 * @module
 */
import { checkRegion } from "../aws/endpoints.ts";
import { checkCerberusUrl } from "../client.ts";
import { CerberusEdgeError } from "../errors.ts";

/** Looks up an environment variable; `undefined` when unset (or not readable). */
export type EnvLookup = (name: string) => string | undefined;

/** The KMS auth flavours the command line offers, as `CERBERUS_AUTH` spells them. */
export type CliAuthMethod = "kms" | "kms-v1";

/** What the environment configures. */
export interface CliConfig {
  /** The checked Cerberus base URL. */
  url: URL;
  /** `kms` (KMS auth v2, `/v2/auth/iam-principal`) or `kms-v1` (`/v1/auth/iam-role`). */
  auth: CliAuthMethod;
  /** `CERBERUS_REGION` when set; otherwise the library picks `AWS_REGION`, `AWS_DEFAULT_REGION`, then the instance's region. */
  region: string | undefined;
}

/**
 * A configuration problem in the environment (missing or invalid `CERBERUS_URL`, unknown
 * `CERBERUS_AUTH`, malformed `CERBERUS_REGION`). The command line exits with 2 on it.
 */
export class ConfigError extends CerberusEdgeError {
  /** The environment variable at fault. */
  readonly variable: string;

  /** @param variable the variable at fault; @param problem what is wrong with it (one line, no value that could be secret). */
  constructor(variable: string, problem: string) {
    super("INVALID_CONFIG", `${variable}: ${problem}`, { step: "config" });
    this.variable = variable;
  }
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
 * - `CERBERUS_AUTH`: `kms` (default) or `kms-v1`, case-insensitive.
 * - `CERBERUS_REGION`: optional explicit KMS region, checked for the shape of an AWS region.
 *
 * @throws {ConfigError} for a missing or invalid value.
 */
export function readConfig(env: EnvLookup): CliConfig {
  const urlVariable = read(env, "CERBERUS_URL") !== undefined ? "CERBERUS_URL" : "CERBERUS_ADDR";
  const rawUrl = read(env, urlVariable);
  if (rawUrl === undefined) {
    throw new ConfigError("CERBERUS_URL", "not set (nor CERBERUS_ADDR); set it to the Cerberus base URL, e.g. https://cerberus.example.com");
  }
  let url: URL;
  try {
    url = checkCerberusUrl(rawUrl);
  } catch (error) {
    // The library's message is "url: <problem>"; name the variable instead.
    const problem = error instanceof Error ? error.message.replace(/^url: /, "") : "is not a valid URL";
    throw new ConfigError(urlVariable, problem);
  }

  const rawAuth = read(env, "CERBERUS_AUTH")?.toLowerCase() ?? "kms";
  if (rawAuth !== "kms" && rawAuth !== "kms-v1") {
    throw new ConfigError("CERBERUS_AUTH", `"${printable(rawAuth)}" is not supported; use kms (the default) or kms-v1`);
  }

  const rawRegion = read(env, "CERBERUS_REGION");
  let region: string | undefined;
  if (rawRegion !== undefined) {
    try {
      region = checkRegion(rawRegion, "CERBERUS_REGION");
    } catch {
      throw new ConfigError("CERBERUS_REGION", `"${printable(rawRegion)}" is not an AWS region name like us-west-2`);
    }
  }
  return { url, auth: rawAuth, region };
}

/** A short, single-line rendering of a user-supplied value for an error message. */
function printable(value: string): string {
  const flat = value.replace(/[\u0000-\u001f\u007f]/g, "?");
  return flat.length > 40 ? `${flat.slice(0, 37)}...` : flat;
}
