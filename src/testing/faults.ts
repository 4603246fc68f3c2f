/**
 * Fault injection in front of each service: added latency, a service that never answers, the
 * next N answers replaced by an error status or by exact bytes, a KMS error type, a Cerberus
 * error code, throttling, a connection reset, a wrong `Date` header, a redirect to another
 * origin, or an HTML WAF page. Faults can be limited to a path prefix (or pattern) and a method.
 *
 * @module
 */
import { type Clock, systemClock } from "../clock.ts";
import { kmsErrorResponse, type KmsErrorType } from "./aws/kms-errors.ts";
import { stsErrorResponse, wantsJson } from "./aws/sts-service.ts";
import { cerberusError, type CerberusErrorCode } from "./cerberus/errors.ts";
import { httpDate, textResponse } from "./http.ts";
import type { FetchHandler, ServiceName, TimeSource } from "./types.ts";

/** One kind of fault. */
export type Fault =
  /**
   * Waits `ms` on the stack's clock before the request is handled (stacks with other faults).
   * The wait ends early, rejecting with the signal's reason, when the request is aborted.
   */
  | { kind: "latency"; ms: number }
  /**
   * Never answers, like a server that accepts the request and never replies: the request stays
   * pending until its signal aborts (over sockets: until the client gives up or the stack closes).
   */
  | { kind: "hang" }
  /** Answers `status`; the body defaults to what that service sends for that status. */
  | { kind: "status"; status: number; body?: string; contentType?: string }
  /**
   * Answers exactly this: `status` (default 200), these headers only (no `Date`, no implied
   * `Content-Type`) and these bytes (a string is sent as UTF-8).
   */
  | { kind: "body"; status?: number; body: string | Uint8Array; headers?: Record<string, string> }
  /** KMS only in spirit: answers `{"__type": type}` with the type's status (or `status`). */
  | { kind: "kms-error"; type: KmsErrorType; message?: string; status?: number }
  /** Answers a Cerberus error body with this code. */
  | { kind: "cerberus-error"; code: CerberusErrorCode; message?: string }
  /** The service's throttling answer (KMS ThrottlingException, STS Throttling, else 429). */
  | { kind: "throttle" }
  /** Drops the connection: the socket is destroyed; in memory the call rejects with a TypeError. */
  | { kind: "reset" }
  /** Handles the request but sends a `Date` header off by `offsetMs` (clock skew as seen by the client). */
  | { kind: "date"; offsetMs: number }
  /** Redirects to another origin (default: the same path on `http://localhost:<port>`). */
  | { kind: "redirect"; location?: string; status?: 301 | 302 | 303 | 307 | 308 }
  /** An HTML page from a WAF or load balancer in front of the service (default 403). */
  | { kind: "waf"; status?: number };

/** Where and how often a fault applies. */
export interface FaultScope {
  /** Path prefix (string) or pattern (RegExp) the request's path must match. */
  path?: string | RegExp;
  /** HTTP method the request must have. */
  method?: string;
  /** How many matching requests it affects (default 1; `Infinity` until removed). */
  times?: number;
}

/** A fault that was injected. */
export interface FaultHandle {
  /** The service it applies to. */
  readonly service: ServiceName;
  /** The fault. */
  readonly fault: Fault;
  /** How many more requests it will affect. */
  readonly remaining: number;
  /** How many requests it affected so far. */
  readonly hits: number;
  /** Stops it. */
  remove(): void;
}

/** The error a connection-reset fault raises: a `TypeError` like `fetch`'s, with `cause.code` `ECONNRESET`. */
export class ConnectionResetError extends TypeError {
  /** Creates the error. */
  constructor() {
    super("fetch failed", { cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }) });
    this.name = "TypeError";
  }
}

interface Rule {
  service: ServiceName;
  fault: Fault;
  path: string | RegExp | undefined;
  method: string | undefined;
  remaining: number;
  hits: number;
}

const WAF_PAGE =
  "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n</body>\r\n</html>\r\n";

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** The fault rules of a stack and the wrapper that applies them. */
export class FaultInjector {
  readonly #rules: Rule[] = [];
  readonly #timers: Pick<Clock, "setTimer">;

  /** @param timers what latency waits on (default: the system clock). */
  constructor(timers: Pick<Clock, "setTimer"> = systemClock) {
    this.#timers = timers;
  }

  /** Injects a fault for a service; returns a handle to inspect or remove it. */
  inject(service: ServiceName, fault: Fault, scope: FaultScope = {}): FaultHandle {
    const times = scope.times ?? 1;
    if (!(times > 0)) throw new RangeError("times must be positive");
    checkFault(fault);
    const rule: Rule = {
      service,
      fault,
      path: scope.path,
      method: scope.method?.toUpperCase(),
      remaining: times,
      hits: 0,
    };
    this.#rules.push(rule);
    const rules = this.#rules;
    return {
      service,
      fault,
      get remaining() {
        return rule.remaining;
      },
      get hits() {
        return rule.hits;
      },
      remove() {
        const index = rules.indexOf(rule);
        if (index >= 0) rules.splice(index, 1);
      },
    };
  }

  /** Removes every fault (of one service, or all). */
  clear(service?: ServiceName): void {
    for (let i = this.#rules.length - 1; i >= 0; i--) {
      if (service === undefined || this.#rules[i]?.service === service) this.#rules.splice(i, 1);
    }
  }

  /** Number of active faults (of one service, or all). */
  count(service?: ServiceName): number {
    return this.#rules.filter((r) => service === undefined || r.service === service).length;
  }

  /** Wraps a service handler so that this injector's faults apply to it. */
  wrap(service: ServiceName, handler: FetchHandler, now: TimeSource): FetchHandler {
    return async (request) => {
      const url = new URL(request.url);
      const matching = this.#rules.filter((r) => r.service === service && matches(r, request.method, url.pathname));
      let latency = 0;
      let terminal: Rule | undefined;
      const dates: Rule[] = [];
      for (const rule of matching) {
        if (rule.fault.kind === "latency") latency += this.#use(rule) ? rule.fault.ms : 0;
        else if (rule.fault.kind === "date") dates.push(rule);
        else if (!terminal) terminal = rule;
      }
      if (latency > 0) await wait(this.#timers, latency, request.signal);
      let response: Response;
      if (terminal && this.#use(terminal)) {
        if (terminal.fault.kind === "hang") return hang(request.signal);
        response = faultResponse(service, terminal.fault, request, url, now());
      } else {
        response = await handler(request);
      }
      for (const rule of dates) {
        if (rule.fault.kind !== "date" || !this.#use(rule)) continue;
        const headers = new Headers(response.headers);
        headers.set("date", httpDate(now() + rule.fault.offsetMs));
        response = new Response(response.body, { status: response.status, statusText: response.statusText, headers });
      }
      return response;
    };
  }

  #use(rule: Rule): boolean {
    if (rule.remaining <= 0) return false;
    rule.remaining -= 1;
    rule.hits += 1;
    if (rule.remaining <= 0) {
      const index = this.#rules.indexOf(rule);
      if (index >= 0) this.#rules.splice(index, 1);
    }
    return true;
  }
}

function checkFault(fault: Fault): void {
  if (fault.kind === "latency" && !(Number.isFinite(fault.ms) && fault.ms >= 0)) {
    throw new RangeError("latency must be a finite, non-negative number of ms");
  }
  if (fault.kind === "body") {
    const status = fault.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError("a body fault's status must be 200 to 599");
    }
    if (NULL_BODY_STATUSES.has(status) && fault.body.length > 0) {
      throw new RangeError(`a ${status} answer cannot have a body`);
    }
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/** Resolves after `ms` on `timers`, or rejects with the signal's reason when it aborts first. */
function wait(timers: Pick<Clock, "setTimer">, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    let cancel = () => {};
    const onAbort = () => {
      cancel();
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    cancel = timers.setTimer(ms, () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

/** Never resolves; rejects with the signal's reason once it aborts. */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(abortReason(signal));
    signal.addEventListener("abort", () => reject(abortReason(signal)), { once: true });
  });
}

function exactResponse(fault: Extract<Fault, { kind: "body" }>): Response {
  const status = fault.status ?? 200;
  // Bytes, not a string: a string body would make Response imply a Content-Type.
  const bytes = typeof fault.body === "string" ? new TextEncoder().encode(fault.body) : fault.body.slice();
  return new Response(NULL_BODY_STATUSES.has(status) ? null : bytes, { status, headers: fault.headers ?? {} });
}

function matches(rule: Rule, method: string, pathname: string): boolean {
  if (rule.method !== undefined && rule.method !== method.toUpperCase()) return false;
  if (rule.path === undefined) return true;
  return typeof rule.path === "string" ? pathname.startsWith(rule.path) : rule.path.test(pathname);
}

function faultResponse(service: ServiceName, fault: Fault, request: Request, url: URL, now: number): Response {
  const dated = (response: Response) => {
    response.headers.set("date", httpDate(now));
    return response;
  };
  switch (fault.kind) {
    case "reset":
      throw new ConnectionResetError();
    case "kms-error":
      return kmsErrorResponse(fault.type, fault.message, now, fault.status);
    case "cerberus-error":
      return dated(cerberusError(fault.code, fault.message));
    case "throttle":
      if (service === "kms") return kmsErrorResponse("ThrottlingException", "Rate exceeded", now);
      if (service === "sts") return stsErrorResponse("Throttling", "Rate exceeded", 400, wantsJson(request), now);
      return dated(
        new Response("Too Many Requests", {
          status: 429,
          headers: { "content-type": "text/plain", "retry-after": "1" },
        }),
      );
    case "waf":
      return dated(textResponse(fault.status ?? 403, WAF_PAGE, "text/html"));
    case "redirect": {
      const location = fault.location ??
        new URL(url.pathname + url.search, `http://localhost${url.port ? `:${url.port}` : ""}`).href;
      return dated(new Response(null, { status: fault.status ?? 307, headers: { location } }));
    }
    case "body":
      return exactResponse(fault);
    case "status":
      if (fault.body !== undefined) {
        return dated(
          new Response(fault.body, {
            status: fault.status,
            headers: { "content-type": fault.contentType ?? "text/plain" },
          }),
        );
      }
      return defaultStatusResponse(service, fault.status, request, now);
    case "latency":
    case "date":
    case "hang":
      throw new Error("not answered by a response");
  }
}

function defaultStatusResponse(service: ServiceName, status: number, request: Request, now: number): Response {
  if (service === "kms") {
    const type: KmsErrorType = status === 503
      ? "DependencyTimeoutException"
      : status >= 500
      ? "KMSInternalException"
      : status === 429
      ? "ThrottlingException"
      : "ValidationException";
    return kmsErrorResponse(type, undefined, now, status);
  }
  if (service === "sts") {
    const code = status === 503
      ? "ServiceUnavailable"
      : status >= 500
      ? "InternalFailure"
      : status === 403
      ? "AccessDenied"
      : "InvalidRequest";
    return stsErrorResponse(code, "Injected fault", status, wantsJson(request), now);
  }
  if (service === "cerberus") {
    const code: CerberusErrorCode = status === 401
      ? 99105
      : status === 403
      ? 99994
      : status === 404
      ? 99996
      : status === 503
      ? 99997
      : status >= 500
      ? 99998
      : 99999;
    const body = cerberusError(code);
    return new Response(body.body, { status, headers: { "content-type": "application/json", date: httpDate(now) } });
  }
  return new Response(status >= 500 ? "Internal Server Error" : "Error", {
    status,
    headers: { "content-type": "text/plain", date: httpDate(now) },
  });
}
