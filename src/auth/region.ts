/**
 * The region an IAM authentication uses (docs/wire.md#role-discovery-on-ec2): the option, then
 * `CERBERUS_REGION`, `AWS_REGION`, `AWS_DEFAULT_REGION`, then the region the host runs in. Never
 * a hard-coded default: KMS auth decrypts, and STS auth signs, in the region of the process.
 *
 * @module
 */
import { regionFromEnv } from "../aws/endpoints.ts";
import { InvalidInputError } from "../errors.ts";
import { emit } from "../internal/events.ts";
import type { AuthContext } from "./provider.ts";

/** The region to use, announced as an `auth.region` event; `field` names the option in errors. */
export async function resolveRegion(
  explicit: string | undefined,
  context: AuthContext,
  field: string,
  fromHost = true,
): Promise<string> {
  const found = (region: string, source: "option" | "env" | "identity-document") => {
    emit(context.onEvent, { type: "auth.region", region, source });
    return region;
  };
  if (explicit) return found(explicit, "option");
  const named = regionFromEnv(context.env, true);
  if (named) return found(named, "env");
  const region = fromHost ? await context.host?.region(context) : undefined;
  if (!region) {
    throw new InvalidInputError(
      "no region: pass one or set AWS_REGION (authentication uses the region the process runs in)",
      { field },
    );
  }
  return found(region, "identity-document");
}
