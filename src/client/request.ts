/**
 * Requests to Cerberus: the base URL, the standard headers, and error answers turned into
 * typed errors whose text is sanitised and scrubbed of the token.
 *
 * @module
 */
import * as v from "valibot";
import { CerberusApiError, type CerberusErrorDetail, PayloadError, type Step } from "../errors.ts";
import { check, decodeJson, isRecord, parseJson, text } from "../internal/decode.ts";
import { type Answer, BODY_LIMITS, type HttpContext, send } from "../internal/http.ts";
import { sanitize } from "../internal/text.ts";

/** Where Cerberus is and how the client talks to it. */
export interface CerberusEndpoint {
  /** Base URL without a trailing slash, e.g. `https://cerberus.example.com`. */
  readonly baseUrl: string;
  /** `X-Cerberus-Client` value. */
  readonly clientHeader: string;
  /** Timeout of each request, ms. */
  readonly timeoutMs: number;
}

/** What a call to Cerberus needs from the client that makes it. */
export interface CerberusSession {
  /** Transport and clock. */
  readonly http: HttpContext;
  /** Cerberus itself. */
  readonly cerberus: CerberusEndpoint;
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
}

/** Sends a call; a status outside 2xx and `allow` throws a {@link CerberusApiError}. */
export async function callCerberus(session: CerberusSession, call: CerberusCall): Promise<Answer> {
  const headers: Record<string, string> = call.headers ? { ...call.headers } : {};
  headers["X-Cerberus-Client"] = session.cerberus.clientHeader;
  headers.Accept = "application/json";
  if (call.token !== undefined) headers["X-Cerberus-Token"] = call.token;
  let body: string | undefined;
  if (call.json !== undefined) {
    body = JSON.stringify(call.json);
    headers["Content-Type"] = "application/json";
  }
  const answer = await send(
    session.http,
    session.cerberus.baseUrl + call.path,
    body === undefined ? { method: call.method, headers } : { method: call.method, headers, body },
    {
      step: call.step,
      timeoutMs: session.cerberus.timeoutMs,
      limit: BODY_LIMITS.cerberus,
      signal: call.signal,
    },
  );
  if ((answer.status >= 200 && answer.status < 300) || call.allow?.includes(answer.status)) return answer;
  throw cerberusError(answer, call);
}

/** Decodes a 2xx JSON answer; a bad one is a {@link PayloadError} naming the call. */
export function decodeAnswer<S extends v.GenericSchema>(
  answer: Answer,
  schema: S,
  call: Pick<CerberusCall, "what" | "step">,
): v.InferOutput<S> {
  return decodeJson(
    answer.body,
    schema,
    (problem) => new PayloadError(`Cerberus's answer to ${sanitize(call.what)} ${problem}`, { step: call.step }),
    answer.headers.get("content-type"),
  );
}

const ErrorBody = v.object({
  error_id: v.nullish(v.string()),
  errors: v.nullish(v.array(v.unknown())),
});

/** Turns an error answer into a {@link CerberusApiError}, whatever its body. */
export function cerberusError(
  answer: Answer,
  call: Pick<CerberusCall, "what" | "step" | "token" | "secrets">,
): CerberusApiError {
  const status = answer.status;
  const options = { step: call.step, status };
  const what = sanitize(call.what);
  if (status >= 300 && status < 400) {
    return new CerberusApiError(
      `${what}: Cerberus answered a redirect (HTTP ${status}) to ${
        originOf(answer.headers.get("location"))
      }; not followed, so the token goes nowhere else`,
      options,
    );
  }
  const json = parseJson(text(answer.body));
  const parsed = json ? check(ErrorBody, json.value) : undefined;
  if (!parsed?.ok) {
    const type = sanitize((answer.headers.get("content-type") ?? "no content type").split(";")[0], 60);
    const what = answer.body.length === 0
      ? "an empty body"
      : json
      ? "an unexpected JSON body"
      : `a non-JSON body (${type}, ${answer.body.length} bytes; a WAF or proxy in front of Cerberus?)`;
    return new CerberusApiError(`${what}: Cerberus answered HTTP ${status} with ${what}`, options);
  }
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
  return new CerberusApiError(`${what}: Cerberus answered HTTP ${status}: ${summary}`, {
    ...options,
    errors,
    errorId: typeof parsed.value.error_id === "string" ? sanitize(parsed.value.error_id, 80, secrets) : undefined,
  });
}

function originOf(location: string | null): string {
  if (!location) return "nowhere";
  try {
    return sanitize(new URL(location, "http://relative.invalid").origin, 100);
  } catch {
    return "an invalid location";
  }
}
