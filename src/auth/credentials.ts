/**
 * The AWS credentials an IAM authentication signs with: given as an option (an object, checked
 * and sealed once, or a function called each time), else the host's (the `AWS_*` key variables,
 * the container endpoint), which the runtime entry provides and the edge does not.
 *
 * @module
 */
import { type AwsCredentials, type AwsCredentialSource, sealCredentials } from "../aws/credentials.ts";
import { InvalidInputError } from "../errors.ts";
import { asLibraryError } from "../internal/failure.ts";
import type { AuthContext } from "./provider.ts";

/** Checks a `credentials` option once, where it enters: an object is sealed, a function kept. */
export function credentialsOption(
  source: AwsCredentialSource | undefined,
  field: string,
): AwsCredentialSource | undefined {
  return typeof source === "function" || source === undefined ? source : sealCredentials(source, field, "config");
}

/** The credentials to sign with now; `field` names the option in errors. */
export async function resolveCredentials(
  source: AwsCredentialSource | undefined,
  context: AuthContext,
  field: string,
): Promise<AwsCredentials> {
  if (typeof source === "function") {
    let credentials: AwsCredentials;
    try {
      credentials = await source();
    } catch (error) {
      throw asLibraryError(error, "credentials", `the ${field} function`);
    }
    return sealCredentials(credentials, `${field}()`);
  }
  const found = source ?? (await context.host?.credentials(context));
  if (found) return found;
  throw new InvalidInputError(
    "none given, and the host has none (no AWS_ACCESS_KEY_ID, web identity, container endpoint or instance role)",
    { field, step: "credentials" },
  );
}
