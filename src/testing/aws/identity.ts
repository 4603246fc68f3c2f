/**
 * The emulated IAM: roles, users and the credentials issued to them, shared by KMS, STS,
 * instance metadata, the container endpoint and Cerberus.
 *
 * @module
 */
import { randomString, randomToken } from "../encoding.ts";
import type { AwsCredentials, TimeSource } from "../types.ts";
import { accountRootArn, normalizeIamPath, parseArn, roleArn } from "./arn.ts";

/** An IAM role known to the stack. */
export interface RoleRecord {
  /** Full role ARN, path included. */
  arn: string;
  /** Owning account. */
  accountId: string;
  /** Role name. */
  name: string;
  /** IAM path, `/` or `/team-a/`. */
  path: string;
  /** Unique role id (`AROA…`), as in `GetCallerIdentity`'s `UserId`. */
  roleId: string;
}

/** What a set of credentials authenticates as. */
export interface CredentialRecord {
  /** Access key id. */
  accessKeyId: string;
  /** Secret access key. */
  secretAccessKey: string;
  /** Session token of temporary credentials. */
  sessionToken: string | undefined;
  /** Expiry (server ms) of temporary credentials. */
  expiresAt: number | undefined;
  /** The IAM identity: a role ARN (path included) or an IAM user ARN. */
  principalArn: string;
  /** What `GetCallerIdentity` reports: an assumed-role ARN for role sessions, else the user ARN. */
  callerArn: string;
  /** `GetCallerIdentity`'s `UserId` (`AROA…:session` or `AIDA…`). */
  userId: string;
  /** Owning account. */
  accountId: string;
}

/** Options for {@link AwsIdentityStore.addRole}. */
export interface RoleSeed {
  /** Role name. */
  name: string;
  /** Owning account (default: the store's default account). */
  accountId?: string;
  /** IAM path, e.g. `team-a/` (default `/`). */
  path?: string;
  /** ARN partition (default `aws`). */
  partition?: string;
}

/** Options for issuing a role session. */
export interface SessionOptions {
  /** Session name in the assumed-role ARN (default `session`). */
  sessionName?: string;
  /** Lifetime in ms (default one hour). */
  ttlMs?: number;
}

/** The emulated IAM/STS identity registry. */
export class AwsIdentityStore {
  readonly #roles = new Map<string, RoleRecord>();
  readonly #users = new Set<string>();
  readonly #credentials = new Map<string, CredentialRecord>();
  readonly #now: TimeSource;
  /** Account used when a seed names none. */
  readonly defaultAccountId: string;

  /** @param now server time; @param defaultAccountId account of seeds that name none. */
  constructor(now: TimeSource, defaultAccountId: string) {
    this.#now = now;
    this.defaultAccountId = defaultAccountId;
  }

  /** Adds a role (idempotent for the same ARN) and returns it. */
  addRole(seed: RoleSeed): RoleRecord {
    const accountId = seed.accountId ?? this.defaultAccountId;
    const path = normalizeIamPath(seed.path);
    const arn = roleArn(accountId, seed.name, path, seed.partition ?? "aws");
    const existing = this.#roles.get(arn);
    if (existing) return existing;
    const record: RoleRecord = { arn, accountId, name: seed.name, path, roleId: `AROA${randomString(17)}` };
    this.#roles.set(arn, record);
    return record;
  }

  /** The role with this exact ARN. */
  getRole(arn: string): RoleRecord | undefined {
    return this.#roles.get(arn);
  }

  /** Every role of an account with this name (any path). */
  rolesNamed(accountId: string, name: string): RoleRecord[] {
    return [...this.#roles.values()].filter((r) => r.accountId === accountId && r.name === name);
  }

  /** True when the ARN names something that exists: a role, an IAM user or an account root. */
  principalExists(arn: string): boolean {
    if (this.#roles.has(arn) || this.#users.has(arn)) return true;
    const parsed = parseArn(arn);
    return parsed !== undefined && arn === accountRootArn(parsed.accountId, parsed.partition);
  }

  /** Adds an IAM user and returns long-term (`AKIA…`) credentials for it. */
  addUser(name: string, accountId = this.defaultAccountId): { arn: string; credentials: AwsCredentials } {
    const arn = `arn:aws:iam::${accountId}:user/${name}`;
    this.#users.add(arn);
    const record: CredentialRecord = {
      accessKeyId: `AKIA${randomString(16)}`,
      secretAccessKey: randomToken("", 30),
      sessionToken: undefined,
      expiresAt: undefined,
      principalArn: arn,
      callerArn: arn,
      userId: `AIDA${randomString(17)}`,
      accountId,
    };
    this.#credentials.set(record.accessKeyId, record);
    return { arn, credentials: toCredentials(record) };
  }

  /** Issues temporary (`ASIA…`) credentials for a session of an existing role. */
  issueRoleSession(role: RoleRecord, options: SessionOptions = {}): AwsCredentials {
    const sessionName = options.sessionName ?? "session";
    const parsed = parseArn(role.arn);
    const partition = parsed?.partition ?? "aws";
    const record: CredentialRecord = {
      accessKeyId: `ASIA${randomString(16)}`,
      secretAccessKey: randomToken("", 30),
      sessionToken: randomToken("IQoJb3JpZ2luX2VjE", 96),
      expiresAt: this.#now() + (options.ttlMs ?? 3_600_000),
      principalArn: role.arn,
      callerArn: `arn:${partition}:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`,
      userId: `${role.roleId}:${sessionName}`,
      accountId: role.accountId,
    };
    this.#credentials.set(record.accessKeyId, record);
    return toCredentials(record);
  }

  /** The record behind an access key id. */
  lookup(accessKeyId: string): CredentialRecord | undefined {
    return this.#credentials.get(accessKeyId);
  }

  /** Makes credentials unusable (as if the key were deleted). */
  revoke(accessKeyId: string): void {
    this.#credentials.delete(accessKeyId);
  }
}

function toCredentials(record: CredentialRecord): AwsCredentials {
  const credentials: AwsCredentials = { accessKeyId: record.accessKeyId, secretAccessKey: record.secretAccessKey };
  if (record.sessionToken !== undefined) credentials.sessionToken = record.sessionToken;
  if (record.expiresAt !== undefined) credentials.expiration = new Date(record.expiresAt);
  return credentials;
}
