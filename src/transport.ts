/**
 * The HTTP seam. Everything the library sends goes through one fetch-shaped function,
 * so a runtime adapter, a test fake or an in-memory server can stand behind it.
 *
 * @module
 */
import type { Clock } from "./clock.ts";
import { AbortedError, CerberusEdgeError, TransportError, safeCause, type Step } from "./errors.ts";

/** Sends one HTTP request and resolves with its response. `fetch` itself is one. */
export type HttpTransport = (request: Request) => Promise<Response>;

/** The transport used when none is given: the runtime's global `fetch`. */
export const fetchTransport: HttpTransport = (request) => fetch(request);

/** Options for {@link send}. */
export interface SendOptions {
  /** Transport to use. */
  transport: HttpTransport;
  /** Clock that drives the timeout. */
  clock: Clock;
  /** Milliseconds before the request is aborted. */
  timeoutMs: number;
  /** Step reported by a failure. */
  step: Step;
  /** Caller's signal; aborting it aborts the request. */
  signal?: AbortSignal;
}

/** A sent request's answer with its body already read, so no socket stays open. */
export interface ReadResponse {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** The whole body. */
  body: Uint8Array;
}

/**
 * Sends `request` through the transport with a timeout driven by the injected clock,
 * reads the whole body, and turns network failures into {@link TransportError}s that
 * name the host only (never the path, query or headers).
 */
export async function send(request: Request, options: SendOptions): Promise<ReadResponse> {
  const host = new URL(request.url).host;
  const what = `request to ${host}`;
  if (options.signal?.aborted) throw new AbortedError(what, options.step, options.signal.reason);
  const controller = new AbortController();
  const stopTimer = new AbortController();
  let timedOut = false;
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onCallerAbort, { once: true });
  options.clock.sleep(options.timeoutMs, stopTimer.signal).then(
    () => {
      timedOut = true;
      controller.abort(new TransportError(`${what} timed out after ${options.timeoutMs} ms`, options.step, true));
    },
    () => {},
  );
  // Redirects are never followed: a 3xx to another origin would carry the token or the
  // AWS session token there. Callers see the 3xx and report it.
  const abortable = new Request(request, { signal: controller.signal, redirect: "manual" });
  try {
    const response = await raceAbort(options.transport(abortable), controller.signal);
    const body = new Uint8Array(await raceAbort(response.arrayBuffer(), controller.signal));
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (timedOut) throw new TransportError(`${what} timed out after ${options.timeoutMs} ms`, options.step, true);
    if (options.signal?.aborted) throw new AbortedError(what, options.step, options.signal.reason);
    if (error instanceof CerberusEdgeError) throw error;
    throw new TransportError(`${what} failed: ${networkReason(error)}`, options.step, false, safeCause(error));
  } finally {
    stopTimer.abort();
    options.signal?.removeEventListener("abort", onCallerAbort);
  }
}

/** Rejects as soon as `signal` aborts, even if the transport ignores the signal. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {}); // whoever loses the race must not become an unhandled rejection
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A short reason from a network error, e.g. `ECONNREFUSED`, without any URL it carries. */
function networkReason(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  // Deno and Bun put the cause in the message only; name the few well-known ones.
  const message = error instanceof Error ? error.message : "";
  for (const [pattern, code] of KNOWN_FAILURES) if (pattern.test(message)) return code;
  return error instanceof Error && error.name !== "Error" ? error.name : "network error";
}

const KNOWN_FAILURES: [RegExp, string][] = [
  [/connection refused|ECONNREFUSED/i, "ECONNREFUSED"],
  [/connection reset|ECONNRESET|socket hang up/i, "ECONNRESET"],
  [/dns error|ENOTFOUND|failed to lookup address/i, "ENOTFOUND"],
  [/timed? ?out|ETIMEDOUT/i, "ETIMEDOUT"],
  [/certificate|TLS|SSL/i, "TLS_ERROR"],
];
