/**
 * Secret and file versions (docs/wire.md#versions): the history of a path, page by page, and
 * the paths of an SDB that have one.
 *
 * @module
 */
import * as v from "valibot";
import { type CerberusClient, clientCore } from "../client/client.ts";
import { encodeSecretPath } from "../client/paths.ts";
import { type CerberusCall, decodeAnswer } from "../client/request.ts";
import { type PageOptions, pages } from "./pages.ts";
import type { CallOptions } from "./secrets.ts";
import { sdbIdPath } from "./sdb.ts";

/** One version of a secret or file. */
export interface SecretVersion {
  /** Version id (`CURRENT` for the current one), for `readSecret(…, { versionId })`. */
  id: string;
  /** The SDB's id. */
  sdbId: string;
  /** The full path. */
  path: string;
  /** What made this version: `CREATE`, `UPDATE`, `DELETE`. */
  action: string;
  /** `OBJECT` (a secret) or `FILE`. */
  type: string;
  /** Size of the stored data. */
  sizeInBytes: number;
  /** Who created the version's content. */
  versionCreatedBy: string;
  /** When, as Cerberus wrote it (ISO 8601). */
  versionCreatedTs: string;
  /** Who performed `action`. */
  actionPrincipal: string;
  /** When. */
  actionTs: string;
}

const Text = v.nullish(v.string(), "");
const VersionPage = v.object({
  has_next: v.nullish(v.boolean(), false),
  next_offset: v.nullish(v.number()),
  secure_data_version_summaries: v.nullish(
    v.array(v.object({
      id: v.string(),
      sdbox_id: Text,
      path: Text,
      action: Text,
      type: Text,
      size_in_bytes: v.nullish(v.number(), 0),
      version_created_by: Text,
      version_created_ts: Text,
      action_principal: Text,
      action_ts: Text,
    })),
    [],
  ),
});

/**
 * Every version of the secret or file at `path`, newest first, fetched a page at a time.
 *
 * @example for await (const version of listVersions(client, "app/demo/config")) ids.push(version.id);
 */
export async function* listVersions(
  client: CerberusClient,
  path: string,
  options?: PageOptions,
): AsyncGenerator<SecretVersion, void, undefined> {
  const encoded = encodeSecretPath(path, { minSegments: 3 });
  yield* pages(
    client,
    `/v1/secret-versions/${encoded}`,
    VersionPage,
    `listing versions of ${path}`,
    options,
    (page) =>
      (page.secure_data_version_summaries ?? []).map((s) => ({
        id: s.id,
        sdbId: s.sdbox_id ?? "",
        path: s.path ?? "",
        action: s.action ?? "",
        type: s.type ?? "",
        sizeInBytes: s.size_in_bytes ?? 0,
        versionCreatedBy: s.version_created_by ?? "",
        versionCreatedTs: s.version_created_ts ?? "",
        actionPrincipal: s.action_principal ?? "",
        actionTs: s.action_ts ?? "",
      })),
  );
}

const PathList = v.array(v.string());

/** The paths of the SDB `sdbId` that have data or a history (`GET /v1/sdb-secret-version-paths/<id>`). */
export async function listVersionedPaths(
  client: CerberusClient,
  sdbId: string,
  options?: CallOptions,
): Promise<string[]> {
  const call: CerberusCall = {
    method: "GET",
    path: `/v1/sdb-secret-version-paths/${sdbIdPath(sdbId)}`,
    what: `listing the versioned paths of SDB ${sdbId}`,
    step: "request",
    signal: options?.signal,
  };
  return decodeAnswer(await clientCore(client).call(call), PathList, call);
}
