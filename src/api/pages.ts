/**
 * The one pager: Cerberus listings answer `limit`/`offset` pages with `has_next` and
 * `next_offset`; this walks them as one async iterator.
 *
 * @module
 */
import { InvalidInputError, PayloadError } from "../errors.ts";
import { sanitize } from "../internal/text.ts";

/** Options of every paged listing. */
export interface PageOptions {
  /** Items asked for per request, 1 to 1000 (default 100). */
  pageSize?: number;
  /** Stops the listing. */
  signal?: AbortSignal;
}

/** One page as the caller of {@link pages} decoded it. */
export interface Page<T> {
  /** The items of the page. */
  items: readonly T[];
  /** `has_next`. */
  has_next: boolean;
  /** `next_offset`. */
  next_offset?: number | null | undefined;
}

/** Checks `pageSize`, giving the default of 100. */
export function pageSizeOf(options: PageOptions | undefined): number {
  const size = options?.pageSize ?? 100;
  if (!Number.isInteger(size) || size < 1 || size > 1000) {
    throw new InvalidInputError("must be a whole number from 1 to 1000", { field: "pageSize" });
  }
  return size;
}

/**
 * Every item of every page, fetched one page at a time as the caller iterates. A server whose
 * `next_offset` does not move forward is an error rather than an endless loop.
 */
export async function* pages<T>(
  load: (offset: number, limit: number) => Promise<Page<T>>,
  limit: number,
  what: string,
): AsyncGenerator<T, void, undefined> {
  for (let offset = 0;;) {
    const page = await load(offset, limit);
    yield* page.items;
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
