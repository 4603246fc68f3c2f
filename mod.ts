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
import { defaultAuth } from "./src/auth/default-auth.ts";
import type { AuthProvider } from "./src/auth/provider.ts";
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
 * Without `auth`, the default chain picks the method: `CERBERUS_AUTH` (`token`, `sts`, `kms`,
 * `kms-v1`, or `auto`: a pasted `CERBERUS_TOKEN`, else STS auth when the host has AWS
 * credentials, else KMS auth through instance metadata).
 */
export function createCerberusClient(
  options: Omit<CerberusClientOptions, "auth"> & { auth?: AuthProvider },
): CerberusClient {
  return createClient({
    ...options,
    auth: options?.auth ?? defaultAuth(),
    runtime: options?.runtime ?? detectRuntime(),
  });
}
