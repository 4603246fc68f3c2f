/**
 * Requests to Cerberus: the base URL, the standard headers, and error answers turned into
 * typed errors whose text is sanitised and scrubbed of the token.
 *
 * @module
 */
import * as v from "valibot";
import {
  AbortedError,
  AccessDeniedError,
  CerberusApiError,
  type CerberusErrorDetail,
  NotFoundError,
  PayloadError,
  type Step,
  TransportError,
  UnexpectedAnswerError,
} from "../errors.ts";
import type { EventListener } from "../events.ts";
import { check, isRecord, parseJson, text } from "../internal/decode.ts";
import { type Answer, BODY_LIMITS, type HttpContext, send } from "../internal/http.ts";
import { emit } from "../internal/events.ts";
import { describeError } from "../internal/failure.ts";
import { retry } from "../internal/retry.ts";
import { sanitize } from "../internal/text.ts";

/** Where Cerberus is and how the client talks to it. */
export interface CerberusEndpoint {
  /** Base URL without a trailing slash, e.g. `https://cerberus.example.com`. */
  readonly baseUrl: string;
  /** `X-Cerberus-Client` value. */
  readonly clientHeader: string;
  /** Timeout of each request, ms. */
  readonly timeoutMs: number;
  /** Attempts per call, the first included, for the failures worth another (see {@link callCerberus}). */
  readonly attempts: number;
  /** Largest file read, in bytes. */
  readonly maxFileBytes: number;
}

/** What a call to Cerberus needs from the client that makes it. */
export interface CerberusSession {
  /** Transport and clock. */
  readonly http: HttpContext;
  /** Cerberus itself. */
  readonly cerberus: CerberusEndpoint;
  /** Told of each retry. */
  readonly onEvent?: EventListener | undefined;
}

/** One request to Cerberus. */
export interface CerberusCall {
  /** HTTP method. */
  method: "GET" | "POST" | "PUT" | "DELETE" | "HEAD";
  /** Path after the base URL, percent-encoded, starting with `/`, with its query if any. */
  path: string;
  /** What the call does, for messages, e.g. `reading app/demo/config` (no value, no token; sanitised when used). */
  what: string;
  /** The step a failure reports. */
  step: Step;
  /** A JSON body. */
  json?: unknown;
  /** A body of any other type (a multipart upload). */
  bytes?: { body: Uint8Array<ArrayBuffer>; contentType: string };
  /** `Accept` value (default `application/json`). */
  accept?: string;
  /** Largest answer read, in bytes (default {@link BODY_LIMITS}`.cerberus`). */
  limit?: number;
  /** More headers (`Authorization` for user auth, STS signature headers). */
  headers?: Record<string, string>;
  /** The token, sent as `X-Cerberus-Token`. */
  token?: string | undefined;
  /** Other secrets the call carries (an AWS session token), scrubbed from any server message. */
  secrets?: readonly string[] | undefined;
  /** Statuses answered rather than thrown (404 for a listing). */
  allow?: readonly number[];
  /** The caller's signal. */
  signal?: AbortSignal | undefined;
  /** When the operation's time budget ends (clock time, ms). */
  deadline?: number | undefined;
}

/**
 * Sends a call, again with jittered back-off (or after the server's `Retry-After`, within the
 * budget) when the failure is worth it: for a read (`GET`, `HEAD`) a network error, a timeout,
 * a 5xx or a 429; for an authentication (a `POST` of step `cerberus-auth`, which changes nothing
 * on the server) the same but a timeout; for a write or delete only a 429, the one answer that
 * says the server did not act on it. A status outside 2xx and `allow` throws the error
 * {@link cerberusError} makes of it.
 */
export function callCerberus(session: CerberusSession, call: CerberusCall): Promise<Answer> {
  const read = call.method === "GET" || call.method === "HEAD";
  const auth = !read && call.step === "cerberus-auth";
  let retryAfterMs: number | undefined;
  return retry(
    async () => {
      retryAfterMs = undefined;
      const answer = await sendOnce(session, call);
      if ((answer.status >= 200 && answer.status < 300) || call.allow?.includes(answer.status)) return answer;
      retryAfterMs = retryAfter(answer, session.http.clock.now());
      throw cerberusError(answer, call);
    },
    { attempts: session.cerberus.attempts, baseDelayMs: 100, maxDelayMs: 2_000 },
    {
      clock: session.http.clock,
      signal: call.signal,
      deadline: call.deadline,
      aborted: (reason) =>
        new AbortedError(`${sanitize(call.what)} was aborted by the caller`, { step: call.step, cause: reason }),
      retryable(error) {
        if (error instanceof TransportError) return read || (auth && error.code !== "TIMEOUT");
        const status = (error as { status?: unknown }).status;
        if (!(error instanceof CerberusApiError || error instanceof UnexpectedAnswerError)) return false;
        return status === 429 || ((read || auth) && typeof status === "number" && status >= 500);
      },
      delayFor: () => retryAfterMs,
      onRetry: (attempt, delayMs, error) =>
        emit(session.onEvent, {
          type: "request.retry",
          step: call.step,
          attempt,
          delayMs,
          reason: describeError(error),
        }),
    },
  );
}

/** `Retry-After` in ms (seconds or an HTTP date), when the answer has a usable one. */
function retryAfter(answer: Answer, now: number): number | undefined {
  const value = answer.headers.get("retry-after")?.trim();
  if (!value) return undefined;
  const ms = /^\d{1,6}$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

function sendOnce(session: CerberusSession, call: CerberusCall): Promise<Answer> {
  const headers: Record<string, string> = call.headers ? { ...call.headers } : {};
  headers["X-Cerberus-Client"] = session.cerberus.clientHeader;
  headers.Accept = call.accept ?? "application/json";
  if (call.token !== undefined) headers["X-Cerberus-Token"] = call.token;
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (call.json !== undefined) {
    body = JSON.stringify(call.json);
    headers["Content-Type"] = "application/json";
  } else if (call.bytes) {
    body = call.bytes.body;
    headers["Content-Type"] = call.bytes.contentType;
  }
  return send(
    session.http,
    session.cerberus.baseUrl + call.path,
    body === undefined ? { method: call.method, headers } : { method: call.method, headers, body },
    {
      step: call.step,
      timeoutMs: session.cerberus.timeoutMs,
      deadline: call.deadline,
      limit: call.limit ?? BODY_LIMITS.cerberus,
      signal: call.signal,
    },
  );
}

/**
 * Decodes a 2xx JSON answer: a body that is not JSON is an {@link UnexpectedAnswerError}; JSON
 * of the wrong shape a {@link PayloadError} naming the call, its endpoint and the field.
 */
export function decodeAnswer<S extends v.GenericSchema>(
  answer: Answer,
  schema: S,
  call: Pick<CerberusCall, "what" | "step" | "method" | "path" | "token" | "secrets">,
): v.InferOutput<S> {
  const json = parseJson(text(answer.body));
  if (!json) throw unexpectedAnswer(answer, call);
  const result = check(schema, json.value);
  if (result.ok) return result.value;
  throw new PayloadError(
    `Cerberus's answer to ${sanitize(call.what)} (${call.method} ${
      endpointOf(call.path)
    }) is invalid: ${result.problem}`,
    { step: call.step },
  );
}

const ErrorBody = v.object({
  error_id: v.nullish(v.string()),
  errors: v.nullish(v.array(v.unknown())),
});

/**
 * Turns an error answer into a typed error, whatever its body: {@link NotFoundError} for 404,
 * {@link AccessDeniedError} for 403, {@link CerberusApiError} for any other status, and
 * {@link UnexpectedAnswerError} for a body that is not JSON.
 */
export function cerberusError(
  answer: Answer,
  call: Pick<CerberusCall, "what" | "step" | "token" | "secrets">,
): CerberusApiError | UnexpectedAnswerError {
  const status = answer.status;
  const what = sanitize(call.what);
  const options = { step: call.step, status };
  const Class = status === 404 ? NotFoundError : status === 403 ? AccessDeniedError : CerberusApiError;
  if (status >= 300 && status < 400) {
    return new CerberusApiError(
      `${what}: Cerberus answered a redirect (HTTP ${status}) to ${
        originOf(answer.headers.get("location"))
      }; not followed, so the token goes nowhere else`,
      options,
    );
  }
  if (answer.body.length === 0) {
    return new Class(`${what}: Cerberus answered HTTP ${status} with an empty body`, options);
  }
  const json = parseJson(text(answer.body));
  if (!json) return unexpectedAnswer(answer, call);
  const parsed = check(ErrorBody, json.value);
  if (!parsed.ok) return new Class(`${what}: Cerberus answered HTTP ${status} with an unexpected JSON body`, options);
  const secrets = [call.token, ...(call.secrets ?? [])];
  // Current bodies hold {code, message} objects; older (Vault-style) ones plain strings.
  const errors: CerberusErrorDetail[] = (parsed.value.errors ?? []).slice(0, 10).map((e) => {
    const entry = isRecord(e) ? e : { message: e };
    return {
      code: typeof entry.code === "number" ? entry.code : undefined,
      message: sanitize(typeof entry.message === "string" ? entry.message : "", 200, secrets),
    };
  });
  const summary = errors.length
    ? errors.map((e) => (e.code === undefined ? e.message : `${e.code} ${e.message}`)).join("; ")
    : "no details";
  return new Class(`${what}: Cerberus answered HTTP ${status}: ${summary}`, {
    ...options,
    errors,
    errorId: typeof parsed.value.error_id === "string" ? sanitize(parsed.value.error_id, 80, secrets) : undefined,
  });
}

/** An answer whose body is not JSON: status, content type and the first characters of the body. */
function unexpectedAnswer(
  answer: Answer,
  call: Pick<CerberusCall, "what" | "step" | "token" | "secrets">,
): UnexpectedAnswerError {
  const contentType = sanitize((answer.headers.get("content-type") ?? "no content type").split(";")[0], 60);
  const excerpt = sanitize(text(answer.body.subarray(0, 400)).replace(/\s+/g, " "), 80, [
    call.token,
    ...(call.secrets ?? []),
  ]);
  return new UnexpectedAnswerError(
    `${
      sanitize(call.what)
    }: the answer is not Cerberus JSON (HTTP ${answer.status}, ${contentType}, ${answer.body.length} bytes: "${excerpt}"); a WAF or proxy in front of Cerberus?`,
    { step: call.step, status: answer.status, contentType, excerpt },
  );
}

/** The path of a call without its query, for messages. */
function endpointOf(path: string): string {
  const query = path.indexOf("?");
  return sanitize(query < 0 ? path : path.slice(0, query), 160);
}

function originOf(location: string | null): string {
  if (!location) return "nowhere";
  try {
    return sanitize(new URL(location, "http://relative.invalid").origin, 100);
  } catch {
    return "an invalid location";
  }
}
