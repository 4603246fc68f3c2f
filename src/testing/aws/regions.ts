/**
 * AWS regions the emulated services know, and their partitions and regional hosts.
 *
 * @module
 */

/** The regions the stack accepts (a region outside this list is "unknown" to Cerberus and KMS). */
export const KNOWN_REGIONS: ReadonlySet<string> = new Set([
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "af-south-1",
  "ap-east-1",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-south-1",
  "eu-south-2",
  "eu-north-1",
  "il-central-1",
  "me-south-1",
  "me-central-1",
  "sa-east-1",
  "cn-north-1",
  "cn-northwest-1",
  "us-gov-west-1",
  "us-gov-east-1",
]);

/** True when the region is one the stack knows. */
export function isKnownRegion(region: string): boolean {
  return KNOWN_REGIONS.has(region);
}

/** The ARN partition of a region: `aws-cn` for China, `aws-us-gov` for GovCloud, else `aws`. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** DNS suffix of a region's endpoints. */
export function dnsSuffixOf(region: string): string {
  return region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

/** The regional STS host Cerberus replays GetCallerIdentity to, e.g. `sts.us-west-2.amazonaws.com`. */
export function regionalStsHost(region: string): string {
  return `sts.${region}.${dnsSuffixOf(region)}`;
}

/** Reads the region out of a regional AWS host name for `service`, e.g. `kms.eu-west-1.amazonaws.com`. */
export function regionOfAwsHost(host: string, service: string): string | undefined {
  const match = new RegExp(`^${service}(?:-fips)?\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?$`).exec(host);
  return match?.[1];
}
