/**
 * Tiny HTTP servers on loopback for the transport tests: what the local stack cannot produce
 * (encoded answers, bodies cut short, sockets dropped on reuse, malformed status lines).
 * Not a test file itself.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";

/** A running server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` (or `http://[::1]:<port>`). */
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Closes every socket and the server. */
  close(): Promise<void>;
}

function track(server: Server | ReturnType<typeof createNetServer>) {
  const state = { connections: 0, sockets: new Set<Socket>() };
  server.on("connection", (socket: Socket) => {
    state.connections++;
    state.sockets.add(socket);
    socket.on("close", () => state.sockets.delete(socket));
  });
  return state;
}

async function listen(server: Server | ReturnType<typeof createNetServer>, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closer(server: Server | ReturnType<typeof createNetServer>, sockets: Set<Socket>) {
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

/** An HTTP server on `host` (127.0.0.1 by default) with keep-alive kept for 30 s. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host = "127.0.0.1",
): Promise<TestServer> {
  const server = createHttpServer(handler);
  server.keepAliveTimeout = 30_000;
  const state = track(server);
  const port = await listen(server, host);
  return {
    url: host.includes(":") ? `http://[${host}]:${port}` : `http://${host}:${port}`,
    get connections() {
      return state.connections;
    },
    close: closer(server, state.sockets),
  };
}

/** A TCP server on 127.0.0.1 that answers each request with `raw` bytes and closes. */
export function startRawServer(raw: string): Promise<TestServer> {
  return startScriptedServer((socket, nth) => {
    if (nth === 1) socket.end(raw);
  });
}

/**
 * A TCP server on 127.0.0.1 that hands each request (one `data` event) to `onRequest` with its
 * socket and its number on that connection (1 for the first); small requests only.
 */
export async function startScriptedServer(
  onRequest: (socket: Socket, nth: number) => void,
): Promise<TestServer> {
  const server = createNetServer((socket) => {
    let nth = 0;
    socket.on("error", () => {});
    socket.on("data", () => onRequest(socket, ++nth));
  });
  const state = track(server);
  const port = await listen(server, "127.0.0.1");
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return state.connections;
    },
    close: closer(server, state.sockets),
  };
}

/** True when this machine can listen on `host` (e.g. `::1`). */
export async function canListen(host: string): Promise<boolean> {
  const server = createNetServer();
  try {
    await listen(server, host);
    return true;
  } catch {
    return false;
  } finally {
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  }
}

/** The runtime running this file, found independently of the code under test. */
export const here: "node" | "bun" | "deno" = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined"
  ? "deno"
  : typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? "bun"
  : "node";
