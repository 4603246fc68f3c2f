/**
 * The one way a request is sent: through the injected transport, with a timeout on the injected
 * clock, the caller's abort signal, and the whole answer read through one bounded reader, so that
 * no socket stays open and no answer can grow without limit.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { AbortedError, CerberusEdgeError, PayloadError, TransportError, type Step } from "../errors.ts";
import type { HttpTransport, TransportInit, TransportResponse } from "../transport.ts";
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
export async function send(http: HttpContext, url: string, parts: RequestParts, options: SendOptions): Promise<Answer> {
  const caller = options.signal;
  if (caller?.aborted) throw aborted(url, options.step, caller.reason);
  // Listeners on an AbortSignal are costly in some runtimes (Node's EventTarget): this function
  // adds none to its own controller. It aborts the transport and stops its own waits directly.
  const controller = new AbortController();
  let timedOut = false;
  let halt!: (reason: unknown) => void;
  const halted = new Promise<never>((_, reject) => (halt = reject));
  halted.catch(() => {});
  const abort = () => {
    controller.abort();
    halt(controller.signal.reason);
  };
  const cancelTimer = http.clock.setTimer(options.timeoutMs, () => {
    timedOut = true;
    abort();
  });
  caller?.addEventListener("abort", abort, { once: true });
  try {
    const init: TransportInit = { method: parts.method, headers: parts.headers, signal: controller.signal, redirect: "manual" };
    if (parts.body !== undefined) init.body = parts.body;
    const pending = http.transport(url, init);
    pending.catch(() => {});
    const response = await Promise.race([pending, halted]);
    const body = await readBodyUntil(response, options.limit, halted, options.step);
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (timedOut) {
      throw new TransportError(`${hostOf(url)} did not answer within ${options.timeoutMs} ms`, { step: options.step, timedOut: true });
    }
    if (caller?.aborted) throw aborted(url, options.step, caller.reason);
    if (error instanceof CerberusEdgeError) throw error;
    throw new TransportError(`request to ${hostOf(url)} failed: ${networkReason(error)}`, { step: options.step, cause: foreignCause(error) });
  } finally {
    cancelTimer();
    caller?.removeEventListener("abort", abort);
  }
}

function aborted(url: string, step: Step, reason: unknown): AbortedError {
  return new AbortedError(`request to ${hostOf(url)} was aborted by the caller`, { step, cause: reason });
}

type Chunks = { next(): Promise<IteratorResult<Uint8Array>>; stop(): void };

/**
 * Reads a whole body, refusing one larger than `limit` bytes (by its `Content-Length` before
 * reading, or as it arrives). An abort of `signal` stops the read.
 */
export function readBody(response: TransportResponse, limit: number, signal: AbortSignal, step: Step): Promise<Uint8Array> {
  let halt!: (reason: unknown) => void;
  const halted = new Promise<never>((_, reject) => (halt = reject));
  halted.catch(() => {});
  if (signal.aborted) halt(signal.reason);
  const onAbort = () => halt(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  return readBodyUntil(response, limit, halted, step).finally(() => signal.removeEventListener("abort", onAbort));
}

/** {@link readBody}, stopped when `halted` rejects (with its reason). */
async function readBodyUntil(response: TransportResponse, limit: number, halted: Promise<never>, step: Step): Promise<Uint8Array> {
  const body = response.body;
  const declared = Number(response.headers.get("content-length") ?? "");
  const tooLarge = () => new PayloadError(`the answer is larger than the ${limit}-byte limit`, { step });
  if (declared > limit) {
    stopReading(body);
    throw tooLarge();
  }
  if (body === null) return new Uint8Array(0);
  const chunks = chunksOf(body);
  let stopped = false;
  // A pending read may never settle on its own (a stalled async generator ignores return()),
  // so every read races the halt.
  halted.catch(() => {
    stopped = true;
    chunks.stop();
  });
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await Promise.race([chunks.next(), halted]);
    if (stopped) await halted;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      chunks.stop();
      throw tooLarge();
    }
    parts.push(value);
  }
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
    return { next: () => reader.read() as Promise<IteratorResult<Uint8Array>>, stop: () => void reader.cancel().catch(() => {}) };
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
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  return error instanceof Error ? sanitize(error.name, 40) : "network error";
}
