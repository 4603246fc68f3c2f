/**
 * cerberus-edge: a small, exact Cerberus client for Node, Bun, Deno and edge workers.
 *
 * ```ts
 * import { createCerberusClient, kmsAuth } from "cerberus-edge";
 * const cerberus = createCerberusClient({ url: "https://cerberus.example.com", auth: kmsAuth() });
 * const config = await cerberus.readSecret("app/my-sdb/config");
 * ```
 *
 * This entry picks the runtime adapter (Node, Bun, Deno, edge) itself; the pure core, with
 * nothing detected, is `cerberus-edge/core`.
 *
 * @module
 */
import {
  type CerberusClient,
  type CerberusClientOptions,
  createCerberusClient as createClient,
} from "./src/client/client.ts";
import { detectRuntime } from "./src/runtime/detect.ts";

export * from "./src/core.ts";

/**
 * Creates a Cerberus client on the detected runtime: its environment variables and files where
 * it has them, and its fastest transport (Node: `node:http`; Bun, Deno, Workers: `fetch`).
 */
export function createCerberusClient(options: CerberusClientOptions): CerberusClient {
  return createClient({ ...options, runtime: options?.runtime ?? detectRuntime() });
}
