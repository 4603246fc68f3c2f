/**
 * Serving the stack on sockets: every service on its own `node:http` server bound to
 * 127.0.0.1 with an ephemeral port (never any other address), in Node, Bun and Deno.
 *
 * @module
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { nodeListener } from "./node-http-bridge.ts";
import { buildLocalStack, type LocalStack, type LocalStackOptions, type ServiceUrls } from "./stack.ts";
import { type FetchHandler, SERVICE_NAMES, type ServiceName } from "./types.ts";

/** The only address the stack ever binds. */
export const LOOPBACK = "127.0.0.1";

interface Running {
  server: Server;
  sockets: Set<Socket>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen({ host: LOOPBACK, port: 0 }, () => {
      server.off("error", onError);
      const address = server.address();
      if (address === null || typeof address === "string" || address.address !== LOOPBACK) {
        server.close();
        reject(new Error("the local stack must listen on 127.0.0.1 only"));
        return;
      }
      resolve(address.port);
    });
  });
}

function stop(running: Running): Promise<void> {
  return new Promise((resolve) => {
    for (const socket of running.sockets) socket.destroy();
    const closer = running.server as Server & { closeAllConnections?: () => void };
    closer.closeAllConnections?.();
    if (!running.server.listening) return resolve();
    running.server.close(() => resolve());
  });
}

/**
 * Starts the stack: each service on `http://127.0.0.1:<ephemeral port>`. The returned stack has
 * the service URLs, an `env` for clients, the in-memory `transport` (same handlers, no sockets),
 * seeding, faults, the clock, and `close()`, which stops every server it started.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const http = await import("node:http");
  const running: Running[] = [];
  const current: Partial<Record<ServiceName, FetchHandler>> = {};
  const urls = {} as Record<ServiceName, string>;
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= Promise.all(running.map(stop)).then(() => undefined));
  try {
    for (const service of SERVICE_NAMES) {
      const entry: Running = { server: http.createServer(), sockets: new Set() };
      running.push(entry);
      entry.server.on("connection", (socket: Socket) => {
        entry.sockets.add(socket);
        socket.on("close", () => entry.sockets.delete(socket));
      });
      const port = await listen(entry.server);
      urls[service] = `http://${LOOPBACK}:${port}`;
      entry.server.on("request", nodeListener(() => current[service], urls[service]));
    }
  } catch (error) {
    await close();
    throw error;
  }
  let stack: LocalStack;
  try {
    stack = buildLocalStack(options, urls as ServiceUrls, close);
  } catch (error) {
    await close();
    throw error;
  }
  for (const service of SERVICE_NAMES) current[service] = stack.handlers[service];
  return stack;
}
