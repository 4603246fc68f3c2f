/**
 * Resolving a secure-data path to its SDB and checking the caller's SDB role on it.
 *
 * @module
 */
import { callerOf, requireToken, type RouteContext } from "./context.ts";
import { cerberusError } from "./errors.ts";
import type { SafeDepositBox, SdbRoleName } from "./store.ts";
import type { TokenRecord } from "./tokens.ts";

/** What a request may do: `read` (any role) or `write` (owner or write). */
export type Access = "read" | "write";

/** A request that passed the permission check. */
export interface Authorized {
  /** The caller's token. */
  token: TokenRecord;
  /** The SDB of the path. */
  sdb: SafeDepositBox;
  /** The full path, `<category>/<sdb>/<sub/path>`. */
  fullPath: string;
  /** The path inside the SDB (may be empty or end with `/`). */
  subPath: string;
  /** The caller's role. */
  role: SdbRoleName;
}

/** Decodes the percent-encoded path after a route prefix; `undefined` for malformed or dot segments. */
export function decodePath(encoded: string): string | undefined {
  try {
    const segments = encoded.split("/").map((s) => decodeURIComponent(s));
    if (segments.some((s) => s === "." || s === ".." || s.includes("\0"))) return undefined;
    return segments.join("/");
  } catch {
    return undefined;
  }
}

/** Checks the token and the caller's role on the SDB of `encodedPath`; answers 401/403/400 otherwise. */
export function authorizePath(ctx: RouteContext, encodedPath: string, access: Access): Authorized | Response {
  const token = requireToken(ctx);
  if (token instanceof Response) return token;
  const fullPath = decodePath(encodedPath);
  if (fullPath === undefined) return cerberusError(99999, "Invalid path.");
  const located = ctx.deps.store.locate(fullPath);
  if (!located) return cerberusError(99994);
  const role = ctx.deps.store.roleOn(located.sdb, callerOf(token));
  if (role === undefined || (access === "write" && role === "read")) return cerberusError(99994);
  return { token, sdb: located.sdb, fullPath, subPath: located.subPath, role };
}

/** Parses `limit`/`offset` (defaults 100/0); `undefined` when invalid. */
export function pageParams(url: URL): { limit: number; offset: number } | undefined {
  const limitText = url.searchParams.get("limit");
  const offsetText = url.searchParams.get("offset");
  const limit = limitText === null || limitText === "" ? 100 : /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
  const offset = offsetText === null || offsetText === "" ? 0 : /^\d{1,9}$/.test(offsetText) ? Number(offsetText) : NaN;
  if (!(limit >= 1 && limit <= 1000) || !(offset >= 0)) return undefined;
  return { limit, offset };
}

/** The paging fields of a listing. */
export function pageFields(total: number, page: { limit: number; offset: number }): {
  has_next: boolean;
  next_offset: number | null;
  limit: number;
  offset: number;
} {
  const hasNext = page.offset + page.limit < total;
  return {
    has_next: hasNext,
    next_offset: hasNext ? page.offset + page.limit : null,
    limit: page.limit,
    offset: page.offset,
  };
}
