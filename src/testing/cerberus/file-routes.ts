/**
 * Cerberus secure files: read (raw bytes with `Content-Disposition`), `HEAD`, multipart upload
 * (part `file-content`), delete, and the file listing of an SDB.
 *
 * @module
 */
import { emptyResponse, jsonResponse } from "../http.ts";
import { authorizePath, pageFields, pageParams } from "./access.ts";
import type { RouteContext } from "./context.ts";
import { cerberusError } from "./errors.ts";
import { findVersion } from "./secret-routes.ts";

/** Largest file the stack accepts. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

const MIME_BY_EXTENSION: Record<string, string> = {
  json: "application/json",
  txt: "text/plain",
  pem: "application/x-x509-ca-cert",
  crt: "application/x-x509-ca-cert",
  key: "application/octet-stream",
  xml: "application/xml",
  yaml: "application/x-yaml",
  yml: "application/x-yaml",
  properties: "text/x-java-properties",
  p12: "application/x-pkcs12",
};

function mimeOf(name: string): string {
  const extension = name.includes(".") ? name.split(".").pop()?.toLowerCase() ?? "" : "";
  return MIME_BY_EXTENSION[extension] ?? "application/octet-stream";
}

function fileHeaders(name: string, size: number): Headers {
  return new Headers({
    "content-type": mimeOf(name),
    "content-length": String(size),
    "content-disposition": `attachment; filename="${name.replace(/["\\\r\n]/g, "_")}"`,
  });
}

/** `GET`/`HEAD /v1/secure-file/<path>` (optionally `?versionId=`). */
export function readFile(ctx: RouteContext, encodedPath: string): Response {
  const auth = authorizePath(ctx, encodedPath, "read");
  if (auth instanceof Response) return auth;
  const versionId = ctx.url.searchParams.get("versionId") ?? "CURRENT";
  const found = findVersion(ctx, auth.sdb.id, auth.subPath, versionId, "FILE");
  if (!found || !(found.data instanceof Uint8Array)) return cerberusError(99996);
  const headers = fileHeaders(found.name, found.sizeInBytes);
  if (ctx.request.method === "HEAD") return new Response(null, { status: 200, headers });
  return new Response(found.data.slice(), { status: 200, headers });
}

/** `POST`/`PUT /v1/secure-file/<path>`: multipart/form-data with a `file-content` part. */
export async function writeFile(ctx: RouteContext, encodedPath: string): Promise<Response> {
  const auth = authorizePath(ctx, encodedPath, "write");
  if (auth instanceof Response) return auth;
  if (auth.subPath === "" || auth.subPath.endsWith("/")) return cerberusError(99999, "A file path must name a file.");
  const contentType = ctx.request.headers.get("content-type") ?? "";
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    return cerberusError(99999, "Content type must be multipart/form-data.");
  }
  if (Number(ctx.request.headers.get("content-length") ?? "0") > MAX_FILE_BYTES + 64 * 1024) {
    return cerberusError(99999, "File too large.");
  }
  let part: FormDataEntryValue | null;
  try {
    part = (await ctx.request.formData()).get("file-content");
  } catch {
    return cerberusError(99999, "Malformed multipart body.");
  }
  if (part === null || typeof part === "string") {
    return cerberusError(99999, "Required part 'file-content' is missing.");
  }
  const bytes = new Uint8Array(await part.arrayBuffer());
  if (bytes.length > MAX_FILE_BYTES) return cerberusError(99999, "File too large.");
  const existing = ctx.deps.store.entry(auth.sdb.id, auth.subPath);
  if (existing && existing.type !== "FILE") return cerberusError(99235);
  ctx.deps.store.write(auth.sdb.id, auth.subPath, { type: "FILE", data: bytes }, auth.token.principal, ctx.nowTs);
  return emptyResponse(204);
}

/** `DELETE /v1/secure-file/<path>`. */
export function deleteFile(ctx: RouteContext, encodedPath: string): Response {
  const auth = authorizePath(ctx, encodedPath, "write");
  if (auth instanceof Response) return auth;
  const deleted = ctx.deps.store.delete(auth.sdb.id, auth.subPath, "FILE", auth.token.principal, ctx.nowTs);
  return deleted ? emptyResponse(204) : cerberusError(99996);
}

/** `GET /v1/secure-files/<category>/<sdb>/<prefix>?limit=&offset=`: file summaries. */
export function listFiles(ctx: RouteContext, encodedPath: string): Response {
  const auth = authorizePath(ctx, encodedPath, "read");
  if (auth instanceof Response) return auth;
  const page = pageParams(ctx.url);
  if (!page) return cerberusError(99224);
  const files = [...ctx.deps.store.entries(auth.sdb.id)]
    .filter(([path, entry]) => entry.type === "FILE" && path.startsWith(auth.subPath))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const slice = files.slice(page.offset, page.offset + page.limit);
  return jsonResponse(200, {
    ...pageFields(files.length, page),
    file_count_in_result: slice.length,
    total_file_count: files.length,
    secure_file_summaries: slice.map(([path, entry]) => ({
      sdbox_id: auth.sdb.id,
      path: auth.sdb.path + path,
      size_in_bytes: entry.sizeInBytes,
      name: entry.name,
      created_by: entry.createdBy,
      created_ts: entry.createdTs,
      last_updated_by: entry.lastUpdatedBy,
      last_updated_ts: entry.lastUpdatedTs,
    })),
  });
}
