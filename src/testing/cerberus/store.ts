/**
 * The emulated Cerberus's data: categories, roles, safe deposit boxes with their permissions,
 * and the secure data (key/value secrets and files) with its version history.
 *
 * @module
 */
import { isRoleArn, principalToRoleArn, principalToRootArn } from "../aws/arn.ts";
import { utf8Bytes } from "../encoding.ts";

/** An SDB role name. */
export type SdbRoleName = "owner" | "write" | "read";

/** Audit fields every Cerberus entity carries. */
export interface Audited {
  /** Creator. */
  createdBy: string;
  /** Creation time, ISO 8601. */
  createdTs: string;
  /** Last updater. */
  lastUpdatedBy: string;
  /** Last update time, ISO 8601. */
  lastUpdatedTs: string;
}

/** A category (`Applications` at `app`, `Shared` at `shared`). */
export interface Category extends Audited {
  /** Id. */
  id: string;
  /** Display name. */
  displayName: string;
  /** Path prefix of its SDBs. */
  path: string;
}

/** One of the three SDB roles. */
export interface SdbRole extends Audited {
  /** Id. */
  id: string;
  /** Name. */
  name: SdbRoleName;
}

/** A user group's permission on an SDB. */
export interface UserGroupPermission {
  /** Permission id. */
  id: string;
  /** Group name. */
  name: string;
  /** Role id. */
  roleId: string;
}

/** An IAM principal's permission on an SDB. */
export interface IamPrincipalPermission {
  /** Permission id. */
  id: string;
  /** Principal ARN. */
  iamPrincipalArn: string;
  /** Role id. */
  roleId: string;
}

/** A safe deposit box. */
export interface SafeDepositBox extends Audited {
  /** Id. */
  id: string;
  /** Name. */
  name: string;
  /** Description. */
  description: string;
  /** `<category>/<slug>/`. */
  path: string;
  /** Category id. */
  categoryId: string;
  /** Owning user group. */
  owner: string;
  /** Group permissions. */
  userGroupPermissions: UserGroupPermission[];
  /** IAM principal permissions. */
  iamPrincipalPermissions: IamPrincipalPermission[];
}

/** Type of a secure data entry. */
export type SecureDataType = "OBJECT" | "FILE";

/** The current value at a path. */
export interface SecureEntry extends Audited {
  /** Key/value map or file. */
  type: SecureDataType;
  /** JSON text of the key/value map, or the file's bytes. */
  data: string | Uint8Array;
  /** File name (last path segment) for files. */
  name: string;
  /** Size of the data in bytes. */
  sizeInBytes: number;
  /** How the current value came to be. */
  action: "CREATE" | "UPDATE";
}

/** An archived version of a path. */
export interface SecureVersion {
  /** Version id. */
  id: string;
  /** Why it was archived (`UPDATE` or `DELETE`) — the action that replaced it. */
  action: "CREATE" | "UPDATE" | "DELETE";
  /** Type of the archived data. */
  type: SecureDataType;
  /** The archived data. */
  data: string | Uint8Array;
  /** File name for files. */
  name: string;
  /** Size in bytes. */
  sizeInBytes: number;
  /** Who wrote the archived value. */
  versionCreatedBy: string;
  /** When the archived value was written. */
  versionCreatedTs: string;
  /** Who replaced or deleted it. */
  actionPrincipal: string;
  /** When it was replaced or deleted. */
  actionTs: string;
}

/** Who is asking, as far as SDB permissions go. */
export interface Caller {
  /** IAM principal or user. */
  type: "IAM" | "USER";
  /** Principal ARN or user name. */
  name: string;
  /** User groups. */
  groups: string[];
}

/** Input to {@link CerberusStore.createSdb}. */
export interface SdbInput {
  /** Name (its slug becomes the path). */
  name: string;
  /** Description. */
  description?: string;
  /** Category id. */
  categoryId: string;
  /** Owning group. */
  owner: string;
  /** Group → role name. */
  userGroupPermissions?: { name: string; roleId: string }[];
  /** ARN → role name. */
  iamPrincipalPermissions?: { iamPrincipalArn: string; roleId: string }[];
}

const ROLE_RANK: Record<SdbRoleName, number> = { read: 1, write: 2, owner: 3 };

/** Lower-case slug of an SDB name, as in its path. */
export function sdbSlug(name: string): string {
  return name.trim().toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
}

/** All of Cerberus's stored data. */
export class CerberusStore {
  /** Categories. */
  readonly categories: Category[];
  /** The three roles. */
  readonly roles: SdbRole[];
  readonly #sdbs = new Map<string, SafeDepositBox>();
  readonly #entries = new Map<string, Map<string, SecureEntry>>();
  readonly #versions = new Map<string, Map<string, SecureVersion[]>>();
  readonly #policies = new Map<string, string[]>();

  /** @param createdTs timestamp for the built-in categories and roles. */
  constructor(createdTs: string) {
    const audit = { createdBy: "system", createdTs, lastUpdatedBy: "system", lastUpdatedTs: createdTs };
    this.categories = [
      { id: crypto.randomUUID(), displayName: "Applications", path: "app", ...audit },
      { id: crypto.randomUUID(), displayName: "Shared", path: "shared", ...audit },
    ];
    this.roles = (["owner", "write", "read"] as const).map((name) => ({ id: crypto.randomUUID(), name, ...audit }));
  }

  /** The role with this name. */
  role(name: SdbRoleName): SdbRole {
    const role = this.roles.find((r) => r.name === name);
    if (!role) throw new Error(`unknown role ${name}`);
    return role;
  }

  /** Every SDB. */
  allSdbs(): SafeDepositBox[] {
    return [...this.#sdbs.values()];
  }

  /** The SDB with this id. */
  sdb(id: string): SafeDepositBox | undefined {
    return this.#sdbs.get(id);
  }

  /** Creates an SDB (inputs already validated) and returns it. */
  createSdb(input: SdbInput, by: string, nowTs: string): SafeDepositBox {
    const category = this.categories.find((c) => c.id === input.categoryId);
    if (!category) throw new Error("unknown category");
    const sdb: SafeDepositBox = {
      id: crypto.randomUUID(),
      name: input.name,
      description: input.description ?? "",
      path: `${category.path}/${sdbSlug(input.name)}/`,
      categoryId: input.categoryId,
      owner: input.owner,
      userGroupPermissions: (input.userGroupPermissions ?? []).map((p) => ({ id: crypto.randomUUID(), ...p })),
      iamPrincipalPermissions: (input.iamPrincipalPermissions ?? []).map((p) => ({ id: crypto.randomUUID(), ...p })),
      createdBy: by,
      createdTs: nowTs,
      lastUpdatedBy: by,
      lastUpdatedTs: nowTs,
    };
    this.#sdbs.set(sdb.id, sdb);
    this.#entries.set(sdb.id, new Map());
    this.#versions.set(sdb.id, new Map());
    return sdb;
  }

  /** Replaces an SDB's description, owner and permissions (its name and category never change). */
  updateSdb(sdb: SafeDepositBox, input: SdbInput, by: string, nowTs: string): void {
    sdb.description = input.description ?? sdb.description;
    sdb.owner = input.owner;
    sdb.userGroupPermissions = (input.userGroupPermissions ?? []).map((p) => ({ id: crypto.randomUUID(), ...p }));
    sdb.iamPrincipalPermissions = (input.iamPrincipalPermissions ?? []).map((p) => ({ id: crypto.randomUUID(), ...p }));
    sdb.lastUpdatedBy = by;
    sdb.lastUpdatedTs = nowTs;
  }

  /** Deletes an SDB and all its data. */
  deleteSdb(id: string): void {
    this.#sdbs.delete(id);
    this.#entries.delete(id);
    this.#versions.delete(id);
  }

  /** Splits `<category>/<sdb>/<sub/path>` into the SDB and the path inside it. */
  locate(fullPath: string): { sdb: SafeDepositBox; subPath: string } | undefined {
    const segments = fullPath.split("/");
    if (segments.length < 2 || !segments[0] || !segments[1]) return undefined;
    const sdbPath = `${segments[0]}/${segments[1]}/`;
    const sdb = this.allSdbs().find((s) => s.path === sdbPath);
    if (!sdb) return undefined;
    return { sdb, subPath: segments.slice(2).join("/") };
  }

  /** The caller's best role on an SDB, or `undefined` for none. */
  roleOn(sdb: SafeDepositBox, caller: Caller): SdbRoleName | undefined {
    const names: SdbRoleName[] = [];
    if (caller.type === "USER") {
      if (caller.groups.includes(sdb.owner)) names.push("owner");
      for (const p of sdb.userGroupPermissions) {
        if (caller.groups.includes(p.name)) names.push(this.#roleName(p.roleId));
      }
    } else {
      const root = principalToRootArn(caller.name);
      for (const p of sdb.iamPrincipalPermissions) {
        if (p.iamPrincipalArn === caller.name || p.iamPrincipalArn === root) names.push(this.#roleName(p.roleId));
      }
    }
    return names.sort((a, b) => ROLE_RANK[b] - ROLE_RANK[a])[0];
  }

  #roleName(roleId: string): SdbRoleName {
    return this.roles.find((r) => r.id === roleId)?.name ?? "read";
  }

  /** True when some SDB grants this exact ARN a permission. */
  isRegistered(arn: string): boolean {
    return this.allSdbs().some((s) => s.iamPrincipalPermissions.some((p) => p.iamPrincipalArn === arn));
  }

  /**
   * Cerberus's lookup of the registered principal behind an authenticating ARN: the ARN itself,
   * else (for a non-role ARN) its role ARN, else — when the account root is registered — the ARN.
   */
  registeredPrincipalFor(arn: string): string | undefined {
    if (this.isRegistered(arn)) return arn;
    let candidate = arn;
    if (!isRoleArn(arn)) {
      candidate = principalToRoleArn(arn);
      if (this.isRegistered(candidate)) return candidate;
    }
    const root = principalToRootArn(candidate);
    return root !== undefined && this.isRegistered(root) ? candidate : undefined;
  }

  /** Extra policies to put in tokens of a principal (to exercise payload truncation). */
  setPolicies(principal: string, policies: string[]): void {
    this.#policies.set(principal, policies);
  }

  /** Policies for a principal's tokens (empty by default, as on current servers). */
  policiesOf(principal: string): string[] {
    return this.#policies.get(principal) ?? [];
  }

  /** The current entry at a path. */
  entry(sdbId: string, subPath: string): SecureEntry | undefined {
    return this.#entries.get(sdbId)?.get(subPath);
  }

  /** Every current entry of an SDB, by sub-path. */
  entries(sdbId: string): Map<string, SecureEntry> {
    return this.#entries.get(sdbId) ?? new Map();
  }

  /** Archived versions of a path, newest first. */
  versions(sdbId: string, subPath: string): SecureVersion[] {
    return [...(this.#versions.get(sdbId)?.get(subPath) ?? [])].reverse();
  }

  /** Sub-paths of an SDB with current data or history. */
  pathsWithVersions(sdbId: string): string[] {
    const paths = new Set([...(this.#versions.get(sdbId)?.keys() ?? []), ...this.entries(sdbId).keys()]);
    return [...paths].sort();
  }

  /** Writes a key/value map or a file at a path, archiving the previous value. */
  write(
    sdbId: string,
    subPath: string,
    value: { type: SecureDataType; data: string | Uint8Array },
    by: string,
    nowTs: string,
  ): void {
    const entries = this.#entries.get(sdbId);
    if (!entries) return;
    const previous = entries.get(subPath);
    if (previous) this.#archive(sdbId, subPath, previous, "UPDATE", by, nowTs);
    const sizeInBytes = typeof value.data === "string" ? utf8Bytes(value.data).length : value.data.length;
    entries.set(subPath, {
      type: value.type,
      data: value.data,
      name: subPath.split("/").pop() ?? subPath,
      sizeInBytes,
      action: previous ? "UPDATE" : "CREATE",
      createdBy: previous?.createdBy ?? by,
      createdTs: previous?.createdTs ?? nowTs,
      lastUpdatedBy: by,
      lastUpdatedTs: nowTs,
    });
  }

  /** Deletes the value at a path, archiving it; false when there was none of that type. */
  delete(sdbId: string, subPath: string, type: SecureDataType, by: string, nowTs: string): boolean {
    const entries = this.#entries.get(sdbId);
    const previous = entries?.get(subPath);
    if (!entries || !previous || previous.type !== type) return false;
    this.#archive(sdbId, subPath, previous, "DELETE", by, nowTs);
    entries.delete(subPath);
    return true;
  }

  #archive(
    sdbId: string,
    subPath: string,
    entry: SecureEntry,
    action: "UPDATE" | "DELETE",
    by: string,
    nowTs: string,
  ): void {
    const bySdb = this.#versions.get(sdbId);
    if (!bySdb) return;
    const list = bySdb.get(subPath) ?? [];
    list.push(versionOf(entry, crypto.randomUUID(), action, by, nowTs));
    bySdb.set(subPath, list);
  }
}

/**
 * An entry as a version: `CURRENT` (action, principal and time of its last change) or an
 * archived one (the action that retired it, by whom, when).
 */
export function versionOf(
  entry: SecureEntry,
  id: string,
  action: SecureVersion["action"],
  by: string,
  ts: string,
): SecureVersion {
  return {
    id,
    action,
    type: entry.type,
    data: entry.data,
    name: entry.name,
    sizeInBytes: entry.sizeInBytes,
    versionCreatedBy: entry.lastUpdatedBy,
    versionCreatedTs: entry.lastUpdatedTs,
    actionPrincipal: by,
    actionTs: ts,
  };
}
