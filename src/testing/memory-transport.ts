/**
 * An in-memory transport called like `fetch`: routes each request by origin to a service
 * handler, without sockets. It behaves like `fetch` where clients notice: unknown hosts and
 * connection resets reject with a `TypeError`, aborts reject with the signal's reason, and
 * redirects are followed (up to 20, `Authorization` dropped across origins) unless `redirect`
 * is `manual`. Being `fetch`-shaped, it is also the core's `HttpTransport`.
 *
 * @module
 */
import type { HttpTransport } from "../transport.ts";
import type { FetchHandler } from "./types.ts";

/** Finds the handler serving a URL's origin. */
export type OriginResolver = (url: URL) => FetchHandler | undefined;

/** A `fetch`-shaped function: a `Request`, or a URL and an init, in; a `Response` out. */
export type MemoryTransport = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

function networkError(message: string, code: string): TypeError {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function tag(response: Response, url: string, redirected: boolean): Response {
  try {
    Object.defineProperty(response, "url", { value: url, configurable: true });
    Object.defineProperty(response, "redirected", { value: redirected, configurable: true });
  } catch {
    // Some runtimes freeze Response instances; the URL is then simply not reported.
  }
  return response;
}

/** Creates a transport that dispatches requests to the handler of their origin. */
export function createMemoryTransport(resolve: OriginResolver): MemoryTransport {
  const transport: MemoryTransport = async (input, init) => {
    const original = new Request(input, init);
    const signal = original.signal;
    let url = new URL(original.url);
    let method = original.method;
    const headers = new Headers(original.headers);
    let body: ArrayBuffer | null = original.body === null ? null : await original.arrayBuffer();
    for (let hops = 0;; hops++) {
      if (signal.aborted) throw abortReason(signal);
      const handler = resolve(url);
      if (!handler) throw networkError(`getaddrinfo ENOTFOUND ${url.hostname}`, "ENOTFOUND");
      const request = new Request(url, {
        method,
        headers,
        body: body === null ? null : body.slice(0),
        signal,
        redirect: "manual",
      });
      const response = await raceAbort(handler(request), signal);
      const location = response.headers.get("location");
      if (!REDIRECT_STATUSES.has(response.status) || location === null || original.redirect === "manual") {
        return tag(response, url.href, hops > 0);
      }
      if (original.redirect === "error") throw networkError("unexpected redirect", "UND_ERR_REDIRECT");
      if (hops >= MAX_REDIRECTS) throw networkError("redirect count exceeded", "UND_ERR_REDIRECT");
      await response.body?.cancel();
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        for (const name of ["authorization", "cookie", "proxy-authorization"]) headers.delete(name);
      }
      const switchToGet = (response.status === 303 && method !== "GET" && method !== "HEAD") ||
        ((response.status === 301 || response.status === 302) && method === "POST");
      if (switchToGet) {
        method = "GET";
        body = null;
        for (
          const name of ["content-type", "content-length", "content-encoding", "content-language", "content-location"]
        ) headers.delete(name);
      }
      url = next;
    }
  };
  // Checked by the compiler: the core can take this transport as its HTTP seam.
  return transport satisfies HttpTransport;
}
