/**
 * Requests to Cerberus: URL building, standard headers, timeouts and error bodies.
 *
 * @module
 */
import * as v from "valibot";
import type { Clock } from "./clock.ts";
import { CerberusApiError, PayloadError, type CerberusErrorDetail, type Step } from "./errors.ts";
import { send, type HttpTransport, type ReadResponse } from "./transport.ts";
import { issueSummary, parseJsonText } from "./validate.ts";
import { CLIENT_HEADER } from "./version.ts";

/** Where and how to reach Cerberus. */
export interface CerberusConnection {
  /** Base URL of Cerberus (no trailing slash needed). */
  baseUrl: URL;
  /** Transport. */
  transport: HttpTransport;
  /** Clock for timeouts. */
  clock: Clock;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /** `X-Cerberus-Client` value. */
  clientHeader?: string;
}

/** One request to Cerberus. */
export interface CerberusRequest {
  /** HTTP method. */
  method: "GET" | "POST" | "PUT" | "DELETE" | "HEAD";
  /** Path after the base URL, already percent-encoded, starting with `/`. */
  path: string;
  /** Query parameters. */
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body. */
  json?: unknown;
  /** Raw body (e.g. multipart form data). */
  body?: BodyInit;
  /** Extra headers (e.g. `Authorization` for user auth, STS signature headers). */
  headers?: Record<string, string>;
  /** The Cerberus token to send in `X-Cerberus-Token`. */
  token?: string;
  /** Step to report on failure. */
  step: Step;
  /** Statuses to return instead of throwing (e.g. 404 for a list). */
  allow?: readonly number[];
  /** Caller's abort signal. */
  signal?: AbortSignal;
}

/** Builds the full URL of a request. */
function requestUrl(base: URL, path: string, query?: CerberusRequest["query"]): URL {
  const url = new URL(base.toString().replace(/\/+$/, "") + path);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url;
}

/** Sends a request to Cerberus; throws {@link CerberusApiError} on a status outside 2xx and `allow`. */
export async function cerberusRequest(conn: CerberusConnection, req: CerberusRequest): Promise<ReadResponse> {
  const headers = new Headers(req.headers);
  headers.set("X-Cerberus-Client", conn.clientHeader ?? CLIENT_HEADER);
  headers.set("Accept", "application/json");
  if (req.token !== undefined) headers.set("X-Cerberus-Token", req.token);
  let body: BodyInit | undefined = req.body;
  if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    headers.set("Content-Type", "application/json");
  }
  const request = new Request(requestUrl(conn.baseUrl, req.path, req.query), { method: req.method, headers, body, redirect: "manual" });
  const res = await send(request, { transport: conn.transport, clock: conn.clock, timeoutMs: conn.timeoutMs, step: req.step, signal: req.signal });
  if ((res.status >= 200 && res.status < 300) || req.allow?.includes(res.status)) return res;
  throw parseCerberusError(res, req.step);
}

const ErrorBody = v.object({
  error_id: v.optional(v.string()),
  errors: v.optional(
    v.array(
      v.union([
        v.object({ code: v.optional(v.number()), message: v.optional(v.string()) }),
        v.string(),
      ]),
    ),
  ),
});

/** Turns an error response into a {@link CerberusApiError}, whatever its body. */
export function parseCerberusError(res: ReadResponse, step: Step): CerberusApiError {
  const status = res.status;
  if (status >= 300 && status < 400) {
    const location = res.headers.get("location");
    const target = location ? safeOrigin(location) : "nowhere";
    return new CerberusApiError(status, [], undefined, `Cerberus answered a redirect (HTTP ${status}) to ${target}; not followed, so the token is not sent elsewhere`, step);
  }
  const text = new TextDecoder().decode(res.body);
  const json = text.trim() ? parseJsonText(text) : undefined;
  const parsed = json ? v.safeParse(ErrorBody, json.value) : undefined;
  if (!json || !parsed?.success) {
    const type = (res.headers.get("content-type") ?? "no content type").split(";")[0];
    const what = text.trim() === "" ? "an empty body" : json ? "an unexpected JSON body" : `a non-JSON body (${type}, ${res.body.length} bytes; a WAF or load balancer in front of Cerberus?)`;
    return new CerberusApiError(status, [], undefined, `Cerberus HTTP ${status} with ${what}`, step);
  }
  const errors: CerberusErrorDetail[] = (parsed.output.errors ?? []).map((e) =>
    typeof e === "string" ? { message: clean(e) } : { code: e.code, message: clean(e.message ?? "") },
  );
  const summary = errors.length
    ? errors.map((e) => (e.code === undefined ? e.message : `${e.code} ${e.message}`)).join("; ")
    : "no error details";
  return new CerberusApiError(status, errors, parsed.output.error_id, `Cerberus HTTP ${status}: ${summary}`, step);
}

/** Parses a 2xx JSON body with a schema; a bad body is a {@link PayloadError} naming `what`. */
export function parseJsonBody<S extends v.GenericSchema>(res: ReadResponse, schema: S, what: string, step: Step): v.InferOutput<S> {
  const text = new TextDecoder().decode(res.body);
  const json = parseJsonText(text);
  if (!json) {
    const type = (res.headers.get("content-type") ?? "no content type").split(";")[0];
    throw new PayloadError(step, `${what}: expected JSON, got ${text.trim() ? `${type} (${res.body.length} bytes)` : "an empty body"}`);
  }
  const parsed = v.safeParse(schema, json.value);
  if (!parsed.success) throw new PayloadError(step, `${what} is invalid: ${issueSummary(parsed.issues)}`);
  return parsed.output;
}

function clean(message: string): string {
  return message.replace(/[\u0000-\u001f]/g, " ").slice(0, 300);
}

function safeOrigin(location: string): string {
  try {
    return new URL(location, "http://relative.invalid").origin;
  } catch {
    return "an invalid location";
  }
}
