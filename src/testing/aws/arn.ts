/**
 * ARN parsing and the principal-ARN conversions Cerberus and IAM perform.
 *
 * @module
 */

/** The parts of an ARN. */
export interface ParsedArn {
  /** `aws`, `aws-cn`, `aws-us-gov`. */
  partition: string;
  /** `iam`, `sts`, `kms`, … */
  service: string;
  /** Empty for global services. */
  region: string;
  /** Twelve-digit account id. */
  accountId: string;
  /** Everything after the account id, e.g. `role/team-a/app-role`. */
  resource: string;
}

/** Parses an ARN; `undefined` when it is not one. */
export function parseArn(arn: string): ParsedArn | undefined {
  const match = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$/.exec(arn);
  if (!match) return undefined;
  const [, partition = "", service = "", region = "", accountId = "", resource = ""] = match;
  return { partition, service, region, accountId, resource };
}

/** Cerberus's check of an IAM principal ARN (the `iam_principal_arn` of KMS auth v2). */
export const CERBERUS_PRINCIPAL_ARN = /^arn:(aws|aws-cn):(iam|sts)::\d+:(?!group).+?\/.+$/;

/** Normalizes an IAM path to the `/team-a/` form (`/` for none). */
export function normalizeIamPath(path: string | undefined): string {
  const trimmed = (path ?? "").replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? "/" : `/${trimmed}/`;
}

/** `arn:<partition>:iam::<account>:role<path><name>`. */
export function roleArn(accountId: string, name: string, path = "/", partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:role${normalizeIamPath(path)}${name}`;
}

/** `arn:<partition>:iam::<account>:root`. */
export function accountRootArn(accountId: string, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:root`;
}

/** True for `arn:…:iam::…:role/…`. */
export function isRoleArn(arn: string): boolean {
  const parsed = parseArn(arn);
  return parsed?.service === "iam" && parsed.resource.startsWith("role/");
}

/** The role name (last path segment) of a role ARN. */
export function roleNameOf(arn: string): string | undefined {
  const parsed = parseArn(arn);
  if (!parsed || !parsed.resource.startsWith("role/")) return undefined;
  return parsed.resource.split("/").pop();
}

/**
 * Cerberus's conversion of a principal ARN to a role ARN: an assumed-role ARN
 * `arn:aws:sts::<acct>:assumed-role/<name>/<session>` becomes `arn:aws:iam::<acct>:role/<name>`
 * (any IAM path is lost, as on the real server). Other ARNs are returned unchanged.
 */
export function principalToRoleArn(arn: string): string {
  const parsed = parseArn(arn);
  if (parsed?.service === "sts" && parsed.resource.startsWith("assumed-role/")) {
    const name = parsed.resource.split("/")[1] ?? "";
    return `arn:${parsed.partition}:iam::${parsed.accountId}:role/${name}`;
  }
  return arn;
}

/** The account root ARN of any principal ARN. */
export function principalToRootArn(arn: string): string | undefined {
  const parsed = parseArn(arn);
  return parsed ? accountRootArn(parsed.accountId, parsed.partition) : undefined;
}
