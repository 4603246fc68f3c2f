/**
 * The emulated EC2 instance metadata service: IMDSv2 session tokens (v1 switchable), the
 * instance identity document, the instance profile and per-role credentials.
 *
 * @module
 */
import { randomToken } from "../encoding.ts";
import { httpDate } from "../http.ts";
import type { AwsCredentials, FetchHandler, TimeSource } from "../types.ts";
import { roleNameOf } from "./arn.ts";
import type { AwsIdentityStore } from "./identity.ts";

/** The emulated instance. Mutable: tests reconfigure it between requests. */
export interface InstanceConfig {
  /** Account the instance runs in. */
  accountId: string;
  /** Region, also `placement/region`. */
  region: string;
  /** Availability zone. */
  availabilityZone: string;
  /** Instance id (the role session name of its credentials). */
  instanceId: string;
  /** Instance type. */
  instanceType: string;
  /** AMI id. */
  imageId: string;
  /** Private IPv4 address reported by the identity document. */
  privateIp: string;
  /** Instance profile name. */
  profileName: string;
  /** Instance profile IAM path (`/` or `/team-a/`). */
  profilePath: string;
  /** Instance profile id (`AIPA…`). */
  profileId: string;
  /** Role ARNs listed under `iam/security-credentials/`, in order. */
  roleArns: string[];
  /** Whether tokenless (IMDSv1) GETs are answered. */
  v1Enabled: boolean;
  /** Lifetime of the role credentials it hands out, ms. */
  credentialTtlMs: number;
}

/** What the IMDS service needs. */
export interface ImdsServiceOptions {
  /** Role sessions are issued here. */
  identities: AwsIdentityStore;
  /** The instance (read on every request). */
  instance: InstanceConfig;
  /** Server time. */
  now: TimeSource;
}

const NOT_FOUND_PAGE =
  '<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n <head>\n  <title>404 - Not Found</title>\n </head>\n <body>\n  <h1>404 - Not Found</h1>\n </body>\n</html>\n';

/** Creates the instance metadata fetch handler. */
export function createImdsService(options: ImdsServiceOptions): FetchHandler {
  const sessions = new Map<string, number>();
  const issued = new Map<string, { credentials: AwsCredentials; issuedAt: number }>();
  // Synchronous inside; a throw still becomes a rejection, as from a real server.
  const handle = (request: Request): Response => {
    const now = options.now();
    const instance = options.instance;
    const path = new URL(request.url).pathname;
    const reply = (status: number, body: string, contentType = "text/plain", extra: Record<string, string> = {}) =>
      new Response(request.method === "HEAD" ? null : body, {
        status,
        headers: { "content-type": contentType, date: httpDate(now), server: "EC2ws", ...extra },
      });
    if (path === "/latest/api/token") {
      if (request.method !== "PUT") return reply(405, "", "text/plain", { allow: "OPTIONS, PUT" });
      if (request.headers.has("x-forwarded-for")) return reply(403, "Forbidden");
      const ttlText = request.headers.get("x-aws-ec2-metadata-token-ttl-seconds");
      const ttl = ttlText !== null && /^\d{1,5}$/.test(ttlText) ? Number(ttlText) : NaN;
      if (!(ttl >= 1 && ttl <= 21_600)) return reply(400, "Missing or Invalid Parameters");
      for (const [token, expiresAt] of sessions) if (expiresAt <= now) sessions.delete(token);
      const token = randomToken("AQAEA", 40);
      sessions.set(token, now + ttl * 1000);
      return reply(200, token, "text/plain", { "x-aws-ec2-metadata-token-ttl-seconds": String(ttl) });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return reply(405, "", "text/plain", { allow: "OPTIONS, GET, HEAD" });
    }
    const token = request.headers.get("x-aws-ec2-metadata-token");
    if (token !== null) {
      const expiresAt = sessions.get(token);
      if (expiresAt === undefined || expiresAt <= now) return reply(401, "", "text/plain");
    } else if (!instance.v1Enabled) {
      return reply(401, "", "text/plain");
    }
    const content = metadataAt(path, instance, now, (arn) => credentialsFor(options, issued, arn, now));
    return content === undefined ? reply(404, NOT_FOUND_PAGE, "text/html") : reply(200, content);
  };
  return (request) => Promise.resolve().then(() => handle(request));
}

function credentialsFor(
  options: ImdsServiceOptions,
  issued: Map<string, { credentials: AwsCredentials; issuedAt: number }>,
  roleArn: string,
  now: number,
): { credentials: AwsCredentials; issuedAt: number } | undefined {
  const role = options.identities.getRole(roleArn);
  if (!role) return undefined;
  const cached = issued.get(roleArn);
  const expiresAt = cached?.credentials.expiration?.getTime() ?? 0;
  if (cached && expiresAt - now > 15 * 60_000) return cached;
  const fresh = {
    credentials: options.identities.issueRoleSession(role, {
      sessionName: options.instance.instanceId,
      ttlMs: options.instance.credentialTtlMs,
    }),
    issuedAt: now,
  };
  issued.set(roleArn, fresh);
  return fresh;
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function metadataAt(
  path: string,
  instance: InstanceConfig,
  now: number,
  credentials: (roleArn: string) => { credentials: AwsCredentials; issuedAt: number } | undefined,
): string | undefined {
  const roleNames = instance.roleArns.map((arn) => roleNameOf(arn) ?? "");
  const profileArn =
    `arn:aws:iam::${instance.accountId}:instance-profile${instance.profilePath}${instance.profileName}`;
  switch (path) {
    case "/latest":
    case "/latest/":
      return "dynamic\nmeta-data\nuser-data";
    case "/latest/meta-data":
    case "/latest/meta-data/":
      return "ami-id\nhostname\niam/\ninstance-id\ninstance-type\nlocal-ipv4\nplacement/";
    case "/latest/meta-data/ami-id":
      return instance.imageId;
    case "/latest/meta-data/instance-id":
      return instance.instanceId;
    case "/latest/meta-data/instance-type":
      return instance.instanceType;
    case "/latest/meta-data/local-ipv4":
      return instance.privateIp;
    case "/latest/meta-data/hostname":
      return `ip-${instance.privateIp.replace(/\./g, "-")}.${instance.region}.compute.internal`;
    case "/latest/meta-data/placement":
    case "/latest/meta-data/placement/":
      return "availability-zone\nregion";
    case "/latest/meta-data/placement/region":
      return instance.region;
    case "/latest/meta-data/placement/availability-zone":
      return instance.availabilityZone;
    case "/latest/meta-data/iam":
    case "/latest/meta-data/iam/":
      return roleNames.length ? "info\nsecurity-credentials/" : undefined;
    case "/latest/meta-data/iam/info":
      if (!roleNames.length) return undefined;
      return JSON.stringify(
        {
          Code: "Success",
          LastUpdated: isoSeconds(now),
          InstanceProfileArn: profileArn,
          InstanceProfileId: instance.profileId,
        },
        null,
        2,
      );
    case "/latest/meta-data/iam/security-credentials":
    case "/latest/meta-data/iam/security-credentials/":
      return roleNames.length ? roleNames.join("\n") : undefined;
    case "/latest/dynamic/instance-identity/document":
      return JSON.stringify(
        {
          accountId: instance.accountId,
          architecture: "x86_64",
          availabilityZone: instance.availabilityZone,
          billingProducts: null,
          devpayProductCodes: null,
          marketplaceProductCodes: null,
          imageId: instance.imageId,
          instanceId: instance.instanceId,
          instanceType: instance.instanceType,
          kernelId: null,
          pendingTime: "2024-01-01T00:00:00Z",
          privateIp: instance.privateIp,
          ramdiskId: null,
          region: instance.region,
          version: "2017-09-30",
        },
        null,
        2,
      );
  }
  const prefix = "/latest/meta-data/iam/security-credentials/";
  if (path.startsWith(prefix)) {
    const name = path.slice(prefix.length);
    const index = roleNames.indexOf(name);
    const roleArn = index >= 0 ? instance.roleArns[index] : undefined;
    const entry = roleArn === undefined ? undefined : credentials(roleArn);
    if (!entry) return undefined;
    return JSON.stringify(
      {
        Code: "Success",
        LastUpdated: isoSeconds(entry.issuedAt),
        Type: "AWS-HMAC",
        AccessKeyId: entry.credentials.accessKeyId,
        SecretAccessKey: entry.credentials.secretAccessKey,
        Token: entry.credentials.sessionToken ?? "",
        Expiration: isoSeconds(entry.credentials.expiration?.getTime() ?? now),
      },
      null,
      2,
    );
  }
  return undefined;
}
