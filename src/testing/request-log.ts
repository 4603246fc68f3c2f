/**
 * A bounded log of the requests each service answered, without secrets: method, path (no
 * query), status and the `X-Cerberus-Client` header.
 *
 * @module
 */
import type { FetchHandler, ServiceName, TimeSource } from "./types.ts";

/** One answered (or failed) request. */
export interface RequestLogEntry {
  /** Which service. */
  service: ServiceName;
  /** HTTP method. */
  method: string;
  /** URL path, without the query. */
  path: string;
  /** Response status, or 0 when the call failed (connection reset, abort). */
  status: number;
  /** Server time, ms. */
  at: number;
  /** The `X-Cerberus-Client` header, when sent. */
  client: string | undefined;
}

/** The request log of a stack (keeps the last `capacity` entries). */
export class RequestLog {
  readonly #entries: RequestLogEntry[] = [];
  readonly #capacity: number;

  /** @param capacity how many entries to keep. */
  constructor(capacity = 1000) {
    this.#capacity = capacity;
  }

  /** The entries, oldest first (optionally of one service). */
  entries(service?: ServiceName): RequestLogEntry[] {
    return this.#entries.filter((e) => service === undefined || e.service === service);
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries.length = 0;
  }

  /** Wraps a handler so that its requests are logged. */
  wrap(service: ServiceName, handler: FetchHandler, now: TimeSource): FetchHandler {
    return async (request) => {
      const entry: RequestLogEntry = {
        service,
        method: request.method,
        path: new URL(request.url).pathname,
        status: 0,
        at: now(),
        client: request.headers.get("x-cerberus-client") ?? undefined,
      };
      this.#entries.push(entry);
      if (this.#entries.length > this.#capacity) this.#entries.shift();
      const response = await handler(request);
      entry.status = response.status;
      return response;
    };
  }
}
