/**
 * Safe deposit boxes (docs/wire.md#safe-deposit-boxes): list, get by id or path, create, update,
 * delete, and the categories and roles their fields refer to by id.
 *
 * @module
 */
import * as v from "valibot";
import { type CerberusClient, clientCore } from "../client/client.ts";
import { type CerberusCall, decodeAnswer } from "../client/request.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { isRecord, kindOf } from "../internal/decode.ts";
import { sanitize } from "../internal/text.ts";
import type { CallOptions } from "./secrets.ts";

/** A user group's role on an SDB. */
export interface UserGroupPermission {
  /** Permission id (absent before the SDB is saved). */
  id?: string;
  /** The user group. */
  name: string;
  /** Role id: see {@link roleId}. */
  roleId: string;
}

/** An IAM principal's role on an SDB. */
export interface IamPrincipalPermission {
  /** Permission id (absent before the SDB is saved). */
  id?: string;
  /** Role or user ARN, e.g. `arn:aws:iam::123456789012:role/app`. */
  iamPrincipalArn: string;
  /** Role id: see {@link roleId}. */
  roleId: string;
}

/** An SDB as listed: enough to find it. */
export interface SdbSummary {
  /** Id, for {@link getSdb}. */
  id: string;
  /** Display name. */
  name: string;
  /** Path, e.g. `app/demo/`. */
  path: string;
  /** Category id. */
  categoryId: string;
}

/** An SDB with its owner and permissions. */
export interface Sdb extends SdbSummary {
  /** Description. */
  description: string;
  /** The owning user group. */
  owner: string;
  /** User groups and their roles. */
  userGroupPermissions: UserGroupPermission[];
  /** IAM principals and their roles. */
  iamPrincipalPermissions: IamPrincipalPermission[];
  /** Who created it. */
  createdBy: string;
  /** When (ISO 8601, as Cerberus wrote it). */
  createdTs: string;
  /** Who last changed it. */
  lastUpdatedBy: string;
  /** When. */
  lastUpdatedTs: string;
}

/** What {@link createSdb} takes. */
export interface NewSdb {
  /** Display name; its slug becomes the path segment. */
  name: string;
  /** Category id: see {@link categoryId}. */
  categoryId: string;
  /** The owning user group. */
  owner: string;
  /** Description. */
  description?: string;
  /** User groups and their roles. */
  userGroupPermissions?: readonly UserGroupPermission[];
  /** IAM principals and their roles. */
  iamPrincipalPermissions?: readonly IamPrincipalPermission[];
}

/** What {@link updateSdb} can change; a field left out keeps its value. */
export type SdbChanges = Partial<
  Pick<NewSdb, "description" | "owner" | "userGroupPermissions" | "iamPrincipalPermissions">
>;

/** A category of SDBs. */
export interface Category {
  /** Id. */
  id: string;
  /** Display name, e.g. `Applications`. */
  displayName: string;
  /** Path segment, e.g. `app`. */
  path: string;
}

/** A role an SDB grants. */
export interface Role {
  /** Id. */
  id: string;
  /** `owner`, `write` or `read`. */
  name: string;
}

const Text = v.nullish(v.string(), "");
const Summary = v.object({ id: v.string(), name: Text, path: v.string(), category_id: Text });
const Full = v.object({
  id: v.string(),
  name: Text,
  path: v.string(),
  category_id: Text,
  description: Text,
  owner: Text,
  user_group_permissions: v.nullish(
    v.array(v.object({ id: v.nullish(v.string()), name: v.string(), role_id: v.string() })),
    [],
  ),
  iam_principal_permissions: v.nullish(
    v.array(v.object({ id: v.nullish(v.string()), iam_principal_arn: v.string(), role_id: v.string() })),
    [],
  ),
  created_by: Text,
  created_ts: Text,
  last_updated_by: Text,
  last_updated_ts: Text,
});
const Categories = v.array(v.object({ id: v.string(), display_name: Text, path: v.string() }));
const Roles = v.array(v.object({ id: v.string(), name: v.string() }));

/** Checks an SDB, category or role id and returns it as a path segment. */
export function sdbIdPath(id: unknown, field = "sdbId"): string {
  if (typeof id !== "string" || !/^[\w-]{1,100}$/.test(id)) {
    throw new InvalidInputError("must be an id as Cerberus gives it (letters, digits, - and _)", { field });
  }
  return id;
}

async function get<S extends v.GenericSchema>(
  client: CerberusClient,
  path: string,
  what: string,
  schema: S,
  options: CallOptions | undefined,
): Promise<v.InferOutput<S>> {
  const call: CerberusCall = { method: "GET", path, what, step: "request", signal: options?.signal };
  return decodeAnswer(await clientCore(client).call(call), schema, call);
}

function sdbOf(s: v.InferOutput<typeof Full>): Sdb {
  return {
    id: s.id,
    name: s.name ?? "",
    path: s.path,
    categoryId: s.category_id ?? "",
    description: s.description ?? "",
    owner: s.owner ?? "",
    userGroupPermissions: (s.user_group_permissions ?? []).map((p) => ({
      ...(p.id ? { id: p.id } : {}),
      name: p.name,
      roleId: p.role_id,
    })),
    iamPrincipalPermissions: (s.iam_principal_permissions ?? []).map((p) => ({
      ...(p.id ? { id: p.id } : {}),
      iamPrincipalArn: p.iam_principal_arn,
      roleId: p.role_id,
    })),
    createdBy: s.created_by ?? "",
    createdTs: s.created_ts ?? "",
    lastUpdatedBy: s.last_updated_by ?? "",
    lastUpdatedTs: s.last_updated_ts ?? "",
  };
}

/** The SDBs the client's principal has a role on. */
export async function listSdbs(client: CerberusClient, options?: CallOptions): Promise<SdbSummary[]> {
  const list = await get(client, "/v2/safe-deposit-box", "listing SDBs", v.array(Summary), options);
  return list.map((s) => ({ id: s.id, name: s.name ?? "", path: s.path, categoryId: s.category_id ?? "" }));
}

/** The SDB with id `id`. */
export async function getSdb(client: CerberusClient, id: string, options?: CallOptions): Promise<Sdb> {
  const path = `/v2/safe-deposit-box/${sdbIdPath(id)}`;
  return sdbOf(await get(client, path, `reading SDB ${id}`, Full, options));
}

/** The SDB at `path` (`app/demo` or `app/demo/`) among those the principal sees; none throws a {@link NotFoundError}. */
export async function getSdbByPath(client: CerberusClient, path: string, options?: CallOptions): Promise<Sdb> {
  if (typeof path !== "string" || !/^[^/]+\/[^/]+\/?$/.test(path.replace(/^\//, ""))) {
    throw new InvalidInputError("must be an SDB path such as app/demo/", { field: "path" });
  }
  const wanted = path.replace(/^\//, "").replace(/\/?$/, "/");
  const found = (await listSdbs(client, options)).find((s) => s.path.replace(/\/?$/, "/") === wanted);
  if (!found) {
    throw new NotFoundError(`no SDB at ${sanitize(wanted, 120)} among those this principal has a role on`, {
      step: "response",
      status: 404,
    });
  }
  return getSdb(client, found.id, options);
}

function permissionsJson(input: SdbChanges): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  const list = (value: unknown, field: string): unknown[] => {
    if (!Array.isArray(value)) throw new InvalidInputError(`must be an array, got ${kindOf(value)}`, { field });
    return value.map((item, index) => {
      if (!isRecord(item)) {
        throw new InvalidInputError(`must be an object, got ${kindOf(item)}`, { field: `${field}[${index}]` });
      }
      sdbIdPath(item.roleId, `${field}[${index}].roleId`);
      return item;
    });
  };
  if (input.description !== undefined) json.description = text(input.description, "description");
  if (input.owner !== undefined) json.owner = text(input.owner, "owner");
  if (input.userGroupPermissions !== undefined) {
    json.user_group_permissions = list(input.userGroupPermissions, "userGroupPermissions").map((p) => {
      const { name, roleId } = p as UserGroupPermission;
      return { name: text(name, "userGroupPermissions.name"), role_id: roleId };
    });
  }
  if (input.iamPrincipalPermissions !== undefined) {
    json.iam_principal_permissions = list(input.iamPrincipalPermissions, "iamPrincipalPermissions").map((p) => {
      const { iamPrincipalArn, roleId } = p as IamPrincipalPermission;
      return { iam_principal_arn: text(iamPrincipalArn, "iamPrincipalPermissions.iamPrincipalArn"), role_id: roleId };
    });
  }
  return json;
}

function text(value: unknown, field: string): string {
  if (typeof value !== "string") throw new InvalidInputError(`must be a string, got ${kindOf(value)}`, { field });
  return value;
}

/** Creates an SDB (`POST /v2/safe-deposit-box`); the caller must belong to its owner group. */
export async function createSdb(client: CerberusClient, sdb: NewSdb, options?: CallOptions): Promise<Sdb> {
  if (!isRecord(sdb)) throw new InvalidInputError(`must be an object, got ${kindOf(sdb)}`, { field: "sdb" });
  const json = {
    name: text(sdb.name, "name"),
    category_id: sdbIdPath(sdb.categoryId, "categoryId"),
    owner: text(sdb.owner, "owner"),
    description: "",
    user_group_permissions: [],
    iam_principal_permissions: [],
    ...permissionsJson(sdb),
  };
  const call: CerberusCall = {
    method: "POST",
    path: "/v2/safe-deposit-box",
    json,
    what: `creating SDB ${json.name}`,
    step: "request",
    signal: options?.signal,
  };
  return sdbOf(decodeAnswer(await clientCore(client).call(call), Full, call));
}

/**
 * Changes an SDB: reads it, applies `changes`, and sends it whole (`PUT`), so that a field left
 * out keeps its value. Like every Cerberus write, it is not atomic: a change made in between by
 * someone else is overwritten.
 */
export async function updateSdb(
  client: CerberusClient,
  id: string,
  changes: SdbChanges,
  options?: CallOptions,
): Promise<Sdb> {
  if (!isRecord(changes)) {
    throw new InvalidInputError(`must be an object, got ${kindOf(changes)}`, { field: "changes" });
  }
  const update = permissionsJson(changes);
  const current = await getSdb(client, id, options);
  const json = {
    name: current.name,
    category_id: current.categoryId,
    ...permissionsJson(current),
    ...update,
  };
  const call: CerberusCall = {
    method: "PUT",
    path: `/v2/safe-deposit-box/${sdbIdPath(id)}`,
    json,
    what: `updating SDB ${id}`,
    step: "request",
    signal: options?.signal,
  };
  return sdbOf(decodeAnswer(await clientCore(client).call(call), Full, call));
}

/** Deletes the SDB with id `id` and everything in it (owner only). */
export async function deleteSdb(client: CerberusClient, id: string, options?: CallOptions): Promise<void> {
  await clientCore(client).call({
    method: "DELETE",
    path: `/v2/safe-deposit-box/${sdbIdPath(id)}`,
    what: `deleting SDB ${id}`,
    step: "request",
    signal: options?.signal,
  });
}

/** The SDB categories. */
export async function listCategories(client: CerberusClient, options?: CallOptions): Promise<Category[]> {
  const list = await get(client, "/v1/category", "listing categories", Categories, options);
  return list.map((c) => ({ id: c.id, displayName: c.display_name ?? "", path: c.path }));
}

/** The roles an SDB can grant. */
export async function listRoles(client: CerberusClient, options?: CallOptions): Promise<Role[]> {
  return (await get(client, "/v1/role", "listing roles", Roles, options)).map((r) => ({ id: r.id, name: r.name }));
}

/** The id of the category whose path is `path` (`app`, `shared`); none throws a {@link NotFoundError}. */
export async function categoryId(client: CerberusClient, path: string, options?: CallOptions): Promise<string> {
  const wanted = text(path, "path").replace(/^\/|\/$/g, "");
  const found = (await listCategories(client, options)).find((c) => c.path.replace(/^\/|\/$/g, "") === wanted);
  if (!found) {
    throw new NotFoundError(`no category with path ${sanitize(wanted, 80)}`, { step: "response", status: 404 });
  }
  return found.id;
}

/** The id of the role named `name` (`owner`, `write`, `read`); none throws a {@link NotFoundError}. */
export async function roleId(client: CerberusClient, name: string, options?: CallOptions): Promise<string> {
  const wanted = text(name, "name").toLowerCase();
  const found = (await listRoles(client, options)).find((r) => r.name.toLowerCase() === wanted);
  if (!found) throw new NotFoundError(`no role named ${sanitize(wanted, 80)}`, { step: "response", status: 404 });
  return found.id;
}
