/**
 * Cerberus key/value secrets: read, list, read a version, write (replacing every key), delete,
 * the version history of a path, and the paths of an SDB that have versions.
 *
 * @module
 */
import { emptyResponse, jsonResponse, parseJson } from "../http.ts";
import { authorizePath, pageFields, pageParams } from "./access.ts";
import { callerOf, readJsonObject, requireToken, type RouteContext } from "./context.ts";
import { cerberusError } from "./errors.ts";
import { type SecureEntry, type SecureVersion, versionOf } from "./store.ts";

function secretBody(data: unknown, metadata: Record<string, string>): Record<string, unknown> {
  return {
    request_id: crypto.randomUUID(),
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
    metadata,
  };
}

/** `GET /v1/secret/<path>` with `?list=true`, `?versionId=` or neither. */
export function readSecret(ctx: RouteContext, encodedPath: string): Response {
  const auth = authorizePath(ctx, encodedPath, "read");
  if (auth instanceof Response) return auth;
  const store = ctx.deps.store;
  const list = ctx.url.searchParams.get("list");
  if (list !== null && list.toLowerCase() === "true") {
    const prefix = auth.subPath === "" || auth.subPath.endsWith("/") ? auth.subPath : `${auth.subPath}/`;
    const keys = new Set<string>();
    for (const [path, entry] of store.entries(auth.sdb.id)) {
      if (entry.type !== "OBJECT" || !path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf("/");
      keys.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    if (keys.size === 0) return emptyResponse(404);
    return jsonResponse(200, secretBody({ keys: [...keys].sort() }, {}));
  }
  const versionId = ctx.url.searchParams.get("versionId");
  if (versionId !== null) {
    const found = findVersion(ctx, auth.sdb.id, auth.subPath, versionId, "OBJECT");
    if (!found) return emptyResponse(404);
    return jsonResponse(200, secretBody(parseJson(found.data as string), versionMetadata(found)));
  }
  const entry = store.entry(auth.sdb.id, auth.subPath);
  if (!entry || entry.type !== "OBJECT") return emptyResponse(404);
  return jsonResponse(
    200,
    secretBody(parseJson(entry.data as string), {
      created_by: entry.createdBy,
      created_ts: entry.createdTs,
      last_updated_by: entry.lastUpdatedBy,
      last_updated_ts: entry.lastUpdatedTs,
    }),
  );
}

/** A version of a path by id (`CURRENT` is the current value), as a version-shaped record. */
export function findVersion(
  ctx: RouteContext,
  sdbId: string,
  subPath: string,
  versionId: string,
  type: "OBJECT" | "FILE",
): SecureVersion | undefined {
  if (versionId === "CURRENT") {
    const entry = ctx.deps.store.entry(sdbId, subPath);
    return entry && entry.type === type ? currentAsVersion(entry) : undefined;
  }
  const version = ctx.deps.store.versions(sdbId, subPath).find((v) => v.id === versionId);
  return version && version.type === type ? version : undefined;
}

function currentAsVersion(entry: SecureEntry): SecureVersion {
  return versionOf(entry, "CURRENT", entry.action, entry.lastUpdatedBy, entry.lastUpdatedTs);
}

function versionMetadata(version: SecureVersion): Record<string, string> {
  return {
    version_id: version.id,
    action: version.action,
    version_created_by: version.versionCreatedBy,
    version_created_ts: version.versionCreatedTs,
    action_principal: version.actionPrincipal,
    action_ts: version.actionTs,
  };
}

/** `POST`/`PUT /v1/secret/<path>`: replaces every key at the path. */
export async function writeSecret(ctx: RouteContext, encodedPath: string): Promise<Response> {
  const auth = authorizePath(ctx, encodedPath, "write");
  if (auth instanceof Response) return auth;
  if (auth.subPath === "" || auth.subPath.endsWith("/")) {
    return cerberusError(99999, "A secret path must name a secret.");
  }
  const body = await readJsonObject(ctx);
  if (body instanceof Response) return body;
  const existing = ctx.deps.store.entry(auth.sdb.id, auth.subPath);
  if (existing && existing.type !== "OBJECT") return cerberusError(99235);
  ctx.deps.store.write(
    auth.sdb.id,
    auth.subPath,
    { type: "OBJECT", data: JSON.stringify(body) },
    auth.token.principal,
    ctx.nowTs,
  );
  return emptyResponse(204);
}

/** `DELETE /v1/secret/<path>`. */
export function deleteSecret(ctx: RouteContext, encodedPath: string): Response {
  const auth = authorizePath(ctx, encodedPath, "write");
  if (auth instanceof Response) return auth;
  const deleted = ctx.deps.store.delete(auth.sdb.id, auth.subPath, "OBJECT", auth.token.principal, ctx.nowTs);
  return deleted ? emptyResponse(204) : emptyResponse(404);
}

/** `GET /v1/secret-versions/<path>?limit=&offset=`: the history of a path, current first. */
export function listVersions(ctx: RouteContext, encodedPath: string): Response {
  const auth = authorizePath(ctx, encodedPath, "read");
  if (auth instanceof Response) return auth;
  const page = pageParams(ctx.url);
  if (!page) return cerberusError(99224);
  const current = ctx.deps.store.entry(auth.sdb.id, auth.subPath);
  const all = [...(current ? [currentAsVersion(current)] : []), ...ctx.deps.store.versions(auth.sdb.id, auth.subPath)];
  const slice = all.slice(page.offset, page.offset + page.limit);
  return jsonResponse(200, {
    ...pageFields(all.length, page),
    version_count_in_result: slice.length,
    total_version_count: all.length,
    secure_data_version_summaries: slice.map((v) => ({
      id: v.id,
      sdbox_id: auth.sdb.id,
      path: auth.fullPath,
      action: v.action,
      type: v.type,
      size_in_bytes: v.sizeInBytes,
      version_created_by: v.versionCreatedBy,
      version_created_ts: v.versionCreatedTs,
      action_principal: v.actionPrincipal,
      action_ts: v.actionTs,
    })),
  });
}

/** `GET /v1/sdb-secret-version-paths/<sdb-id>`: paths of the SDB with data or history. */
export function versionPaths(ctx: RouteContext, sdbId: string): Response {
  const token = requireToken(ctx);
  if (token instanceof Response) return token;
  const sdb = ctx.deps.store.sdb(sdbId);
  if (!sdb || ctx.deps.store.roleOn(sdb, callerOf(token)) === undefined) return cerberusError(99994);
  return jsonResponse(200, ctx.deps.store.pathsWithVersions(sdb.id).map((p) => sdb.path + p));
}
