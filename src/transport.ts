/**
 * The HTTP seam. Every request the library makes goes through one function with the shape of
 * `fetch(url, init)`, called with plain values only, so the global `fetch` of any runtime is a
 * transport as it is, and an adapter can answer without building `Request`, `Response` or
 * `Headers` objects.
 *
 * @module
 */

/** What the library passes as `init`: plain values that every `fetch` accepts. */
export interface TransportInit {
  /** HTTP method, upper case. */
  method: string;
  /** Request headers, one value each. */
  headers: Record<string, string>;
  /** Request body, when there is one. */
  body?: string | Uint8Array<ArrayBuffer>;
  /** Aborts the request, including the reading of its body. */
  signal?: AbortSignal;
  /** Always `"manual"`: a redirect is returned, never followed. */
  redirect: "manual";
}

/** What the library reads of an answer. A `fetch` `Response` is one. */
export interface TransportResponse {
  /** HTTP status. */
  readonly status: number;
  /** Header lookup, case-insensitive; `null` when absent. */
  readonly headers: { get(name: string): string | null };
  /** The body as a byte stream (or async iterable of chunks); `null` when there is none. */
  readonly body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | null;
}

/**
 * Sends one HTTP request. `fetch` itself is one; so is any function of this shape.
 * Network failures reject (with any error); HTTP error statuses resolve.
 */
export type HttpTransport = (url: string, init: TransportInit) => Promise<TransportResponse>;
