/**
 * Secure files (docs/wire.md#files): bytes at `<category>/<sdb>/<path>`, read whole, described by
 * `HEAD`, uploaded as multipart form data, deleted, and listed per SDB.
 *
 * @module
 */
import * as v from "valibot";
import { cacheKeys, type CerberusClient, clientCore, forget } from "../client/client.ts";
import { encodeSecretPath } from "../client/paths.ts";
import type { CerberusCall } from "../client/request.ts";
import { CerberusEdgeError, InvalidInputError, NotFoundError, PayloadError } from "../errors.ts";
import { kindOf } from "../internal/decode.ts";
import type { Answer } from "../internal/http.ts";
import { hasControl, sanitize } from "../internal/text.ts";
import { type PageOptions, pages } from "./pages.ts";
import { type CallOptions, type ReadOptions, versionQuery } from "./secrets.ts";

/** What Cerberus tells about a file. */
export interface FileInfo {
  /** File name, from `Content-Disposition` (else the last segment of the path). */
  name: string;
  /** Media type as Cerberus sends it. */
  contentType: string;
  /** Size in bytes. */
  size: number;
}

/** A file and its content. */
export interface SecureFile extends FileInfo {
  /** The content, byte for byte. */
  bytes: Uint8Array;
}

/** One file of a listing. */
export interface FileSummary {
  /** The SDB's id. */
  sdbId: string;
  /** The full path, for {@link readFile}. */
  path: string;
  /** File name. */
  name: string;
  /** Size in bytes. */
  sizeInBytes: number;
  /** Who created it. */
  createdBy: string;
  /** When (ISO 8601, as Cerberus wrote it). */
  createdTs: string;
  /** Who last changed it. */
  lastUpdatedBy: string;
  /** When. */
  lastUpdatedTs: string;
}

function fileCall(
  client: CerberusClient,
  method: "GET" | "HEAD",
  path: string,
  options: ReadOptions | undefined,
): CerberusCall {
  return {
    method,
    path: `/v1/secure-file/${encodeSecretPath(path, { minSegments: 3 })}${versionQuery(options?.versionId)}`,
    what: `${method === "HEAD" ? "describing" : "reading"} file ${path}`,
    step: "request",
    accept: "*/*",
    limit: clientCore(client).session.cerberus.maxFileBytes,
    signal: options?.signal,
  };
}

/** Reads the file at `path` (or one of its versions); a missing file throws a `NotFoundError`. */
export async function readFile(client: CerberusClient, path: string, options?: ReadOptions): Promise<SecureFile> {
  const core = clientCore(client);
  const load = async (signal?: AbortSignal): Promise<SecureFile> => {
    const answer = await core.call(fileCall(client, "GET", path, { ...options, signal }));
    return { ...fileInfo(answer, path, answer.body.length), bytes: answer.body };
  };
  if (!core.cache?.files) return load(options?.signal);
  const key = cacheKeys.file(encodeSecretPath(path, { minSegments: 3 }), versionQuery(options?.versionId));
  const file = await core.cache.read(key, () => load(), {
    signal: options?.signal,
    absent: (error) => error instanceof NotFoundError,
    size: (held) => held.bytes.byteLength,
  });
  // Each caller its own bytes: a caller writing into them cannot change what another reads.
  return Object.freeze({ ...file, bytes: file.bytes.slice() });
}

/** What {@link readFile} would tell about the file at `path`, without its content (`HEAD`). */
export async function headFile(client: CerberusClient, path: string, options?: ReadOptions): Promise<FileInfo> {
  const call = fileCall(client, "HEAD", path, options);
  const answer = await clientCore(client).call(call);
  const length = answer.headers.get("content-length");
  if (length === null || !/^\d{1,15}$/.test(length.trim())) {
    throw new PayloadError(`Cerberus's answer to ${sanitize(call.what)} has no valid Content-Length`, {
      step: "response",
    });
  }
  return fileInfo(answer, path, Number(length));
}

function fileInfo(answer: Answer, path: string, size: number): FileInfo {
  return {
    name: fileNameOf(answer.headers.get("content-disposition")) ?? path.slice(path.lastIndexOf("/") + 1),
    contentType: sanitize(answer.headers.get("content-type") ?? "application/octet-stream", 200),
    size,
  };
}

/** The file name of a `Content-Disposition` value: `filename*` (RFC 5987) first, then `filename`. */
function fileNameOf(disposition: string | null): string | undefined {
  if (!disposition) return undefined;
  const extended = /filename\*\s*=\s*utf-8''([^;\s]+)/i.exec(disposition);
  if (extended) {
    try {
      return sanitize(decodeURIComponent(extended[1]!), 255);
    } catch {
      // Malformed percent-encoding: fall back to the plain parameter.
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(disposition);
  const plain = quoted ? quoted[1]!.replace(/\\(.)/g, "$1") : /filename\s*=\s*([^;\s]+)/i.exec(disposition)?.[1];
  return plain ? sanitize(plain, 255) : undefined;
}

/** Options of {@link writeFile}. */
export interface WriteFileOptions extends CallOptions {
  /** Media type of the part (default: the Blob's own type, else `application/octet-stream`). */
  contentType?: string;
}

/**
 * Uploads `data` to `path`, replacing the file there: a `multipart/form-data` body whose part
 * `file-content` carries the content, encoded by the runtime's own `FormData`.
 */
export async function writeFile(
  client: CerberusClient,
  path: string,
  data: Uint8Array | Blob | string,
  options?: WriteFileOptions,
): Promise<void> {
  const encoded = encodeSecretPath(path, { minSegments: 3 });
  const type = options?.contentType;
  if (type !== undefined && (typeof type !== "string" || !/^[\w.+-]+\/[\w.+-]+(\s*;[\x20-\x7e]*)?$/.test(type))) {
    throw new InvalidInputError("must be a media type such as application/x-pem-file", { field: "contentType" });
  }
  let blob: Blob;
  if (typeof data === "string" || data instanceof Uint8Array) {
    blob = new Blob([data as BlobPart], { type: type ?? "application/octet-stream" });
  } else if (data instanceof Blob) {
    blob = type === undefined ? data : new Blob([data], { type });
  } else {
    throw new InvalidInputError(`must be a Uint8Array, Blob or string, got ${kindOf(data)}`, { field: "data" });
  }
  const name = path.slice(path.lastIndexOf("/") + 1);
  const form = new FormData();
  form.append("file-content", blob, hasControl(name) ? "file" : name);
  // Response encodes the form as the runtime's fetch would: the boundary is its choice. The type
  // is read before the body, because Bun drops it once the body is consumed.
  const multipart = new Response(form);
  const contentType = multipart.headers.get("content-type");
  if (!contentType?.startsWith("multipart/form-data; boundary=")) {
    throw new CerberusEdgeError("this runtime's FormData encoding gave no multipart boundary", { step: "request" });
  }
  const body = new Uint8Array(await multipart.arrayBuffer());
  const core = clientCore(client);
  try {
    await core.call({
      method: "POST",
      path: `/v1/secure-file/${encoded}`,
      bytes: { body, contentType },
      what: `writing file ${path}`,
      step: "request",
      signal: options?.signal,
    });
  } finally {
    forget(core.cache, path);
  }
}

/** Deletes the file at `path`; a missing file throws a `NotFoundError`. */
export async function deleteFile(client: CerberusClient, path: string, options?: CallOptions): Promise<void> {
  const core = clientCore(client);
  try {
    await core.call({
      method: "DELETE",
      path: `/v1/secure-file/${encodeSecretPath(path, { minSegments: 3 })}`,
      what: `deleting file ${path}`,
      step: "request",
      signal: options?.signal,
    });
  } finally {
    forget(core.cache, path);
  }
}

const Text = v.nullish(v.string(), "");
const FilePage = v.object({
  has_next: v.nullish(v.boolean(), false),
  next_offset: v.nullish(v.number()),
  secure_file_summaries: v.nullish(
    v.array(v.object({
      sdbox_id: Text,
      path: v.string(),
      size_in_bytes: v.nullish(v.number(), 0),
      name: Text,
      created_by: Text,
      created_ts: Text,
      last_updated_by: Text,
      last_updated_ts: Text,
    })),
    [],
  ),
});

/**
 * Every file of the SDB at `sdbPath` (`<category>/<sdb>/`, or a folder in it), a page at a time.
 *
 * @example for await (const file of listFiles(client, "app/demo/")) total += file.sizeInBytes;
 */
export async function* listFiles(
  client: CerberusClient,
  sdbPath: string,
  options?: PageOptions,
): AsyncGenerator<FileSummary, void, undefined> {
  const encoded = encodeSecretPath(sdbPath, { folder: true }).replace(/\/?$/, "/");
  yield* pages(
    client,
    `/v1/secure-files/${encoded}`,
    FilePage,
    `listing the files of ${sdbPath}`,
    options,
    (page) =>
      (page.secure_file_summaries ?? []).map((f) => ({
        sdbId: f.sdbox_id ?? "",
        path: f.path,
        name: f.name ?? "",
        sizeInBytes: f.size_in_bytes ?? 0,
        createdBy: f.created_by ?? "",
        createdTs: f.created_ts ?? "",
        lastUpdatedBy: f.last_updated_by ?? "",
        lastUpdatedTs: f.last_updated_ts ?? "",
      })),
  );
}
