/**
 * A hostile "Cerberus" on 127.0.0.1 for the resource tests and the hostile-body benchmark. The
 * first path segment picks the behaviour, so that a client pointed at `<url>/<mode>` meets it on
 * every request:
 *
 * - `endless`   a 200 JSON answer whose body never ends (chunked);
 * - `stream-N`  a 200 JSON answer of N MiB, chunked (no `Content-Length`);
 * - `length-N`  a 200 answer that announces N MiB in `Content-Length`, then sends slowly;
 * - `gzip-N`    a gzip bomb: `Content-Encoding: gzip`, one member that inflates to N MiB of zeros
 *               (built on first use: about 7 ms per MiB);
 * - `gzipm-N`   the same as N members of 1 MiB each, sent at once (some decoders stop after the first);
 * - anything else: 404.
 *
 * It never reads a body and stops writing as soon as the client goes away. Works on Node, Bun
 * and Deno (`node:http`, `node:zlib`).
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";

const MIB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61); // "aaaa…": valid inside a JSON string
/** One gzip member of 1 MiB of zeros (about 1 KiB); members concatenated inflate one after the other. */
const ZEROS_MEMBER = gzipSync(Buffer.alloc(MIB), { level: 9 });
const bombs = new Map<number, Buffer>();

/** A single gzip member that inflates to `mib` MiB of zeros. */
function bomb(mib: number): Buffer {
  let built = bombs.get(mib);
  if (!built) bombs.set(mib, built = gzipSync(Buffer.alloc(mib * MIB), { level: 9 }));
  return built;
}

/** A running hostile server. */
export interface HostileServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Stops it, dropping open connections. */
  close(): Promise<void>;
}

/** Starts the server. */
export async function startHostileServer(): Promise<HostileServer> {
  const server = createServer((req, res) => {
    const [, mode = ""] = (req.url ?? "").split("/");
    const [kind, size] = mode.split("-");
    const mib = Number(size);
    let open = true;
    res.on("close", () => (open = false));
    /** Writes `next()` chunks while the client reads, until `next` returns undefined. */
    const pump = (next: () => Buffer | undefined) => {
      const write = () => {
        while (open) {
          const chunk = next();
          if (chunk === undefined) return res.end();
          if (!res.write(chunk)) return res.once("drain", write);
        }
      };
      write();
    };
    if (kind === "endless") {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"data":{"k":"');
      pump(() => CHUNK);
    } else if (kind === "stream" && mib > 0) {
      let left = mib * MIB;
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"data":{"k":"');
      pump(() => {
        if (left <= 0) return undefined;
        left -= CHUNK.length;
        return left > 0 ? CHUNK : Buffer.concat([CHUNK.subarray(0, CHUNK.length + left), Buffer.from('"}}')]);
      });
    } else if (kind === "length" && mib > 0) {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(mib * MIB) });
      res.write('{"data":{"k":"');
      const timer = setInterval(() => (open ? res.write(CHUNK) : clearInterval(timer)), 50);
    } else if (kind === "gzip" && mib > 0) {
      gzipped(res);
      res.end(bomb(mib));
    } else if (kind === "gzipm" && mib > 0) {
      let members = mib;
      gzipped(res);
      pump(() => (members-- > 0 ? ZEROS_MEMBER : undefined));
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"errors":[{"code":99996,"message":"Not found"}]}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function gzipped(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
}
