/**
 * The one pager: Cerberus listings answer `limit`/`offset` pages with `has_next` and
 * `next_offset`; this walks them as one async iterator.
 *
 * @module
 */
import type * as v from "valibot";
import { type CerberusClient, clientCore } from "../client/client.ts";
import { type CerberusCall, decodeAnswer } from "../client/request.ts";
import { InvalidInputError, PayloadError } from "../errors.ts";
import { sanitize } from "../internal/text.ts";

/** Options of every paged listing. */
export interface PageOptions {
  /** Items asked for per request, 1 to 1000 (default 100). */
  pageSize?: number;
  /** Stops the listing. */
  signal?: AbortSignal;
}

/** Checks `pageSize`, giving the default of 100. */
export function pageSizeOf(options: PageOptions | undefined): number {
  const size = options?.pageSize ?? 100;
  if (!Number.isInteger(size) || size < 1 || size > 1000) {
    throw new InvalidInputError("must be a whole number from 1 to 1000", { field: "pageSize" });
  }
  return size;
}

/** The paging fields a listing's schema must give. */
export interface PageFields {
  /** `has_next`. */
  has_next?: boolean | null | undefined;
  /** `next_offset`. */
  next_offset?: number | null | undefined;
}

/**
 * Every item of every page of the listing at `endpoint` (percent-encoded, without a query),
 * fetched one page at a time as the caller iterates; `items` picks a page's items. A server whose
 * `next_offset` does not move forward is an error rather than an endless loop.
 */
export async function* pages<S extends v.GenericSchema<unknown, PageFields>, T>(
  client: CerberusClient,
  endpoint: string,
  schema: S,
  what: string,
  options: PageOptions | undefined,
  items: (page: v.InferOutput<S>) => readonly T[],
): AsyncGenerator<T, void, undefined> {
  const limit = pageSizeOf(options);
  const core = clientCore(client);
  for (let offset = 0;;) {
    const call: CerberusCall = {
      method: "GET",
      path: `${endpoint}?limit=${limit}&offset=${offset}`,
      what,
      step: "request",
      signal: options?.signal,
    };
    const page = decodeAnswer(await core.call(call), schema, call);
    yield* items(page);
    if (!page.has_next) return;
    const next = page.next_offset;
    if (typeof next !== "number" || !Number.isInteger(next) || next <= offset) {
      throw new PayloadError(`${sanitize(what)}: has_next is true but next_offset does not move forward`, {
        step: "response",
      });
    }
    offset = next;
  }
}
