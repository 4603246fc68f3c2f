/**
 * The one way a request is sent: through the injected transport, with a timeout on the injected
 * clock, the caller's abort signal, and the whole answer read through one bounded reader, so that
 * no socket stays open and no answer can grow without limit.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { AbortedError, CerberusEdgeError, PayloadError, type Step, TransportError } from "../errors.ts";
import type { HttpTransport, TransportInit, TransportResponse } from "../transport.ts";
import { AbortHandleController, takesAbortHandle } from "./abort-handle.ts";
import { foreignCause } from "./failure.ts";
import { sanitize } from "./text.ts";

/** The transport and the clock every request of a client goes through. */
export interface HttpContext {
  /** Sends requests. */
  readonly transport: HttpTransport;
  /** Drives timeouts and back-off. */
  readonly clock: Clock;
}

/** Largest answers read, by service, in bytes. */
export const BODY_LIMITS = {
  cerberus: 8 * 1024 * 1024,
  aws: 256 * 1024,
} as const;

/** How one request is sent. */
export interface SendOptions {
  /** The step a failure reports. */
  step: Step;
  /** Milliseconds before the request (body included) is abandoned. */
  timeoutMs: number;
  /** When the operation's budget ends (clock time, ms); the request is abandoned then if sooner. */
  deadline?: number | undefined;
  /** Largest body read, in bytes. */
  limit: number;
  /** The caller's signal. */
  signal?: AbortSignal | undefined;
}

/** An answer with its whole body read. */
export interface Answer {
  /** HTTP status. */
  readonly status: number;
  /** Header lookup. */
  readonly headers: TransportResponse["headers"];
  /** The body. */
  readonly body: Uint8Array;
}

/** The request parts a caller gives (the signal and the redirect mode are added here). */
export type RequestParts = Omit<TransportInit, "signal" | "redirect">;

/**
 * Sends one request and reads its answer. Network failures become {@link TransportError}s naming
 * the host only (never the path, query or headers); the caller's abort an {@link AbortedError}.
 */
export function send(http: HttpContext, url: string, parts: RequestParts, options: SendOptions): Promise<Answer> {
  const caller = options.signal;
  const step = options.step;
  if (caller?.aborted) return Promise.reject(aborted(url, step, caller.reason));
  const left = (options.deadline ?? Number.POSITIVE_INFINITY) - http.clock.now();
  const budgetBound = left < options.timeoutMs;
  const timeoutMs = budgetBound ? left : options.timeoutMs;
  const timedOutMessage = () =>
    budgetBound
      ? `the operation's time budget ran out before ${hostOf(url)} answered`
      : `${hostOf(url)} did not answer within ${timeoutMs} ms`;
  if (timeoutMs <= 0) return Promise.reject(new TransportError(timedOutMessage(), { step, timedOut: true }));
  // Written with callbacks rather than awaits and races: this is every request's path, and each
  // promise and each listener on an AbortSignal costs (Node's EventTarget most of all). Nothing
  // listens on the request's own signal here: the timer and the caller's abort stop it directly.
  return new Promise<Answer>((resolve, reject) => {
    const controller = takesAbortHandle(http.transport) ? new AbortHandleController() : new AbortController();
    let settled = false;
    let timedOut = false;
    let chunks: Chunks | undefined;
    // Called again only after a stop, by the reader it stopped: resolve and reject ignore that.
    const finish = (error: unknown, answer?: Answer) => {
      settled = true;
      cancelTimer();
      caller?.removeEventListener("abort", stop);
      if (answer) return resolve(answer);
      if (timedOut) {
        return reject(new TransportError(timedOutMessage(), { step, timedOut: true }));
      }
      if (caller?.aborted) return reject(aborted(url, step, caller.reason));
      if (error instanceof CerberusEdgeError) return reject(error);
      reject(
        new TransportError(`request to ${hostOf(url)} failed: ${networkReason(error)}`, {
          step,
          cause: foreignCause(error),
        }),
      );
    };
    function stop() {
      controller.abort();
      chunks?.stop();
      finish(controller.signal.reason);
    }
    const cancelTimer = http.clock.setTimer(timeoutMs, () => {
      timedOut = true;
      stop();
    });
    caller?.addEventListener("abort", stop);
    const init: TransportInit = {
      method: parts.method,
      headers: parts.headers,
      // An AbortHandle only reaches a transport that asked for one (see abort-handle.ts).
      signal: controller.signal as AbortSignal,
      redirect: "manual",
    };
    if (parts.body !== undefined) init.body = parts.body;
    let pending: Promise<TransportResponse>;
    try {
      pending = http.transport(url, init);
    } catch (error) {
      return finish(error);
    }
    pending.then(
      (response) => {
        if (settled) return stopReading(response.body);
        try {
          chunks = readInto(
            response,
            options.limit,
            step,
            (error, body) =>
              body ? finish(undefined, { status: response.status, headers: response.headers, body }) : finish(error),
          );
        } catch (error) {
          finish(error); // a body that is not a stream nor iterable, or a read that throws at once
        }
      },
      (error: unknown) => finish(error),
    );
  });
}

function aborted(url: string, step: Step, reason: unknown): AbortedError {
  return new AbortedError(`request to ${hostOf(url)} was aborted by the caller`, { step, cause: reason });
}

type Chunks = { next(): Promise<IteratorResult<Uint8Array>>; stop(): void };

/**
 * The bounded reader: pulls chunks until the end, then calls `done` with the bytes, or with the
 * error (too large, or the stream failed). Returns the stream's handle so the caller can stop
 * it, or `undefined` when there was nothing to read.
 */
function readInto(
  response: TransportResponse,
  limit: number,
  step: Step,
  done: (error: unknown, body?: Uint8Array) => void,
): Chunks | undefined {
  const body = response.body;
  const tooLarge = () => new PayloadError(`the answer is larger than the ${limit}-byte limit`, { step });
  // No body (a HEAD answer): its Content-Length describes what a GET would send.
  if (body === null) {
    done(undefined, new Uint8Array(0));
    return undefined;
  }
  // Number(null) is 0 and Number("junk") NaN: neither refuses.
  if (Number(response.headers.get("content-length")) > limit) {
    stopReading(body);
    done(tooLarge());
    return undefined;
  }
  const chunks = chunksOf(body);
  const parts: Uint8Array[] = [];
  let size = 0;
  const pull = (): void => {
    let next: Promise<IteratorResult<Uint8Array>>;
    try {
      next = chunks.next();
    } catch (error) {
      return done(error);
    }
    next.then(
      (result) => {
        if (result.done) return done(undefined, concat(parts, size));
        size += result.value.byteLength;
        if (size > limit) {
          chunks.stop();
          return done(tooLarge());
        }
        parts.push(result.value);
        pull();
      },
      (error: unknown) => done(error),
    );
  };
  pull();
  return chunks;
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function chunksOf(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): Chunks {
  if ("getReader" in body) {
    const reader = body.getReader();
    return {
      next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
      stop: () => void reader.cancel().catch(() => {}),
    };
  }
  const iterator = body[Symbol.asyncIterator]();
  return { next: () => iterator.next(), stop: () => void iterator.return?.()?.catch(() => {}) };
}

function stopReading(body: TransportResponse["body"]): void {
  if (body === null) return;
  if ("cancel" in body && typeof body.cancel === "function") void body.cancel().catch(() => {});
  else if (Symbol.asyncIterator in body) void body[Symbol.asyncIterator]().return?.()?.catch(() => {});
}

/** The host (and port) of a URL, for messages. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "an invalid URL";
  }
}

/** A short reason for a network failure, from the error's (or its cause's) code only. */
function networkReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code ??
    (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  // Bun and Deno name the failure only in their messages (which may hold the URL): keep the code.
  const messages = [error, (error as { cause?: unknown } | null)?.cause]
    .filter((e): e is Error => e instanceof Error)
    .map((e) => e.message)
    .join(" ");
  for (const [pattern, name] of NETWORK_CODES) if (pattern.test(messages)) return name;
  return error instanceof Error ? sanitize(error.name, 40) : "network error";
}

const NETWORK_CODES: [RegExp, string][] = [
  [/\bECONNREFUSED\b|connection refused/i, "ECONNREFUSED"],
  [/\bECONNRESET\b|connection reset/i, "ECONNRESET"],
  [/\bENOTFOUND\b|\bEAI_AGAIN\b|dns error|failed to lookup address/i, "ENOTFOUND"],
  [/\bEHOSTUNREACH\b|\bENETUNREACH\b|unreachable/i, "EHOSTUNREACH"],
];
