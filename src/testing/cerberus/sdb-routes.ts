/**
 * Cerberus safe deposit boxes (`/v2/safe-deposit-box`), categories (`/v1/category`) and roles
 * (`/v1/role`).
 *
 * @module
 */
import { CERBERUS_PRINCIPAL_ARN } from "../aws/arn.ts";
import { emptyResponse, isRecord, jsonResponse, stringField } from "../http.ts";
import { callerOf, readJsonObject, requireToken, type RouteContext } from "./context.ts";
import { cerberusError } from "./errors.ts";
import { type Audited, type Category, type SafeDepositBox, type SdbInput, type SdbRole, sdbSlug } from "./store.ts";
import type { TokenRecord } from "./tokens.ts";

/** The JSON of an SDB, as `GET /v2/safe-deposit-box/<id>` returns it. */
export function sdbJson(sdb: SafeDepositBox): Record<string, unknown> {
  return {
    id: sdb.id,
    name: sdb.name,
    description: sdb.description,
    path: sdb.path,
    category_id: sdb.categoryId,
    owner: sdb.owner,
    user_group_permissions: sdb.userGroupPermissions.map((p) => ({ id: p.id, name: p.name, role_id: p.roleId })),
    iam_principal_permissions: sdb.iamPrincipalPermissions.map((p) => ({
      id: p.id,
      iam_principal_arn: p.iamPrincipalArn,
      role_id: p.roleId,
    })),
    ...auditJson(sdb),
  };
}

/** The audit fields every Cerberus record carries, in its JSON names. */
function auditJson(record: Audited): Record<string, string> {
  return {
    created_ts: record.createdTs,
    last_updated_ts: record.lastUpdatedTs,
    created_by: record.createdBy,
    last_updated_by: record.lastUpdatedBy,
  };
}

function categoryJson(c: Category): Record<string, unknown> {
  return {
    id: c.id,
    display_name: c.displayName,
    path: c.path,
    ...auditJson(c),
  };
}

function roleJson(r: SdbRole): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    ...auditJson(r),
  };
}

/** `GET /v2/safe-deposit-box`: the SDBs the caller has a role on. */
export function listSdbs(ctx: RouteContext): Response {
  const token = requireToken(ctx);
  if (token instanceof Response) return token;
  const caller = callerOf(token);
  const visible = ctx.deps.store.allSdbs().filter((s) =>
    token.isAdmin || ctx.deps.store.roleOn(s, caller) !== undefined
  );
  return jsonResponse(200, visible.map((s) => ({ id: s.id, name: s.name, path: s.path, category_id: s.categoryId })));
}

/** `GET /v2/safe-deposit-box/<id>`. */
export function getSdb(ctx: RouteContext, id: string): Response {
  const found = sdbWithRole(ctx, id, false);
  return found instanceof Response ? found : jsonResponse(200, sdbJson(found.sdb));
}

/** `POST /v2/safe-deposit-box`: creates an SDB; the creator must be in the owner group (or admin). */
export async function createSdb(ctx: RouteContext): Promise<Response> {
  const token = requireToken(ctx);
  if (token instanceof Response) return token;
  const body = await readJsonObject(ctx);
  if (body instanceof Response) return body;
  const input = validateSdbInput(ctx, body, undefined);
  if (input instanceof Response) return input;
  if (token.principalType === "USER" && !token.isAdmin && !token.groups.includes(input.owner)) {
    return cerberusError(99994);
  }
  const sdb = ctx.deps.store.createSdb(input, token.principal, ctx.nowTs);
  return jsonResponse(201, sdbJson(sdb), { location: `/v2/safe-deposit-box/${sdb.id}` });
}

/** `PUT /v2/safe-deposit-box/<id>`: owner-only update of description, owner and permissions. */
export async function updateSdb(ctx: RouteContext, id: string): Promise<Response> {
  const found = sdbWithRole(ctx, id, true);
  if (found instanceof Response) return found;
  const body = await readJsonObject(ctx);
  if (body instanceof Response) return body;
  const input = validateSdbInput(ctx, { name: found.sdb.name, category_id: found.sdb.categoryId, ...body }, found.sdb);
  if (input instanceof Response) return input;
  ctx.deps.store.updateSdb(found.sdb, input, found.token.principal, ctx.nowTs);
  return jsonResponse(200, sdbJson(found.sdb));
}

/** `DELETE /v2/safe-deposit-box/<id>`: owner only. */
export function deleteSdb(ctx: RouteContext, id: string): Response {
  const found = sdbWithRole(ctx, id, true);
  if (found instanceof Response) return found;
  ctx.deps.store.deleteSdb(found.sdb.id);
  return emptyResponse(200);
}

function sdbWithRole(
  ctx: RouteContext,
  id: string,
  ownerOnly: boolean,
): { token: TokenRecord; sdb: SafeDepositBox } | Response {
  const token = requireToken(ctx);
  if (token instanceof Response) return token;
  const sdb = ctx.deps.store.sdb(id);
  if (!sdb) return cerberusError(99996);
  const role = ctx.deps.store.roleOn(sdb, callerOf(token));
  if (ownerOnly ? role !== "owner" && !token.isAdmin : role === undefined && !token.isAdmin) {
    return cerberusError(99994);
  }
  return { token, sdb };
}

function validateSdbInput(
  ctx: RouteContext,
  body: Record<string, unknown>,
  existing: SafeDepositBox | undefined,
): SdbInput | Response {
  const store = ctx.deps.store;
  const name = stringField(body, "name")?.trim() ?? "";
  if (name === "" || sdbSlug(name) === "") return cerberusError(99208);
  const categoryId = stringField(body, "category_id") ?? "";
  const category = store.categories.find((c) => c.id === categoryId);
  if (!category) return cerberusError(99207);
  const owner = stringField(body, "owner")?.trim() ?? "";
  if (owner === "") return cerberusError(99209);
  if (!existing && store.allSdbs().some((s) => s.path === `${category.path}/${sdbSlug(name)}/`)) {
    return cerberusError(99210);
  }
  const roleIds = new Set(store.roles.map((r) => r.id));
  const groups = body["user_group_permissions"] ?? [];
  const principals = body["iam_principal_permissions"] ?? [];
  if (!Array.isArray(groups) || !Array.isArray(principals)) return cerberusError(99001);
  const userGroupPermissions: { name: string; roleId: string }[] = [];
  for (const item of groups) {
    const groupName = isRecord(item) ? stringField(item, "name") : undefined;
    const roleId = isRecord(item) ? stringField(item, "role_id") : undefined;
    if (!groupName || !roleId || !roleIds.has(roleId)) return cerberusError(99203);
    userGroupPermissions.push({ name: groupName, roleId });
  }
  const iamPrincipalPermissions: { iamPrincipalArn: string; roleId: string }[] = [];
  for (const item of principals) {
    const arn = isRecord(item) ? stringField(item, "iam_principal_arn") : undefined;
    const roleId = isRecord(item) ? stringField(item, "role_id") : undefined;
    if (!arn || !CERBERUS_PRINCIPAL_ARN.test(arn)) return cerberusError(99226);
    if (!roleId || !roleIds.has(roleId)) return cerberusError(99206);
    iamPrincipalPermissions.push({ iamPrincipalArn: arn, roleId });
  }
  return {
    name,
    description: stringField(body, "description") ?? existing?.description ?? "",
    categoryId,
    owner,
    userGroupPermissions,
    iamPrincipalPermissions,
  };
}

/** `GET /v1/category` and `GET /v1/category/<id>`. */
export function categories(ctx: RouteContext, id: string | undefined): Response {
  const token = requireToken(ctx);
  if (token instanceof Response) return token;
  if (id === undefined) return jsonResponse(200, ctx.deps.store.categories.map(categoryJson));
  const category = ctx.deps.store.categories.find((c) => c.id === id);
  return category ? jsonResponse(200, categoryJson(category)) : cerberusError(99996);
}

/** `GET /v1/role` and `GET /v1/role/<id>`. */
export function roles(ctx: RouteContext, id: string | undefined): Response {
  const token = requireToken(ctx);
  if (token instanceof Response) return token;
  if (id === undefined) return jsonResponse(200, ctx.deps.store.roles.map(roleJson));
  const role = ctx.deps.store.roles.find((r) => r.id === id);
  return role ? jsonResponse(200, roleJson(role)) : cerberusError(99996);
}
