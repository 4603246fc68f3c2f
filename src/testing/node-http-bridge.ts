/**
 * Converts `node:http` requests to Web `Request`s and Web `Response`s back, so that the pure
 * fetch handlers of the stack can be served by `node:http` in Node, Bun and Deno.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ConnectionResetError } from "./faults.ts";
import type { FetchHandler } from "./types.ts";

/** Largest request body the servers accept. */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
  "te",
  "trailer",
  "expect",
]);

/** Reads a whole `IncomingMessage` body; `undefined` when it exceeds the limit. */
function readNodeBody(req: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Uint8Array) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (tooLarge) return resolve(undefined);
      const out = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(out);
    });
    req.on("error", reject);
  });
}

/** Builds the Web request of a `node:http` request received on `origin`. */
export async function toWebRequest(
  req: IncomingMessage,
  origin: string,
  signal: AbortSignal,
): Promise<Request | undefined> {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const value = raw[i + 1] ?? "";
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    try {
      headers.append(name, value);
    } catch {
      // A header the runtime refuses to carry is dropped, as a proxy would.
    }
  }
  const method = (req.method ?? "GET").toUpperCase();
  const hasBody = method !== "GET" && method !== "HEAD";
  const body = hasBody ? await readNodeBody(req, MAX_REQUEST_BYTES) : null;
  if (body === undefined) return undefined;
  const url = new URL(req.url ?? "/", origin);
  return new Request(url, {
    method,
    headers,
    body: body && body.length > 0 ? body.slice() : hasBody ? new Uint8Array(0) : null,
    signal,
  });
}

/** Writes a Web response to a `node:http` response (no body for `HEAD`, 204 and 304). */
export async function writeWebResponse(res: ServerResponse, response: Response, method: string): Promise<void> {
  res.sendDate = false;
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length) res.setHeader("set-cookie", cookies);
  const noBody = method === "HEAD" || response.status === 204 || response.status === 304;
  if (noBody) {
    await response.body?.cancel();
    res.end();
    return;
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!response.headers.has("content-length")) res.setHeader("content-length", String(bytes.length));
  res.end(bytes);
}

/** A `node:http` request listener serving `handler()` (looked up per request) on `origin`. */
export function nodeListener(handler: () => FetchHandler | undefined, origin: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort(new DOMException("The client closed the connection", "AbortError"));
    });
    void (async () => {
      try {
        const request = await toWebRequest(req, origin, controller.signal);
        if (!request) {
          res.statusCode = 413;
          res.setHeader("connection", "close");
          res.end("Request Entity Too Large");
          return;
        }
        const current = handler();
        if (!current) {
          res.statusCode = 503;
          res.end("Service starting");
          return;
        }
        const response = await current(request);
        await writeWebResponse(res, response, request.method);
      } catch (error) {
        if (error instanceof ConnectionResetError || controller.signal.aborted) {
          req.socket.destroy();
          return;
        }
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader("content-type", "text/plain");
          res.end("Internal Server Error");
        } else {
          res.destroy();
        }
      }
    })();
  };
}
