/**
 * The official `cerberus-node-client@4.0.0` as the benchmarks use it: STS auth with the `AWS_*`
 * keys of the process, reading one secret. Imports nothing else, so that a memory figure taken
 * around it counts the official client alone.
 */
import { createRequire } from "node:module";

/**
 * @param {string | URL} root the repository's root folder (where node_modules is)
 * @param {Record<string, string>} env the stack's environment (its `CERBERUS_URL`)
 * @param {string} path the secret
 * @returns {() => Promise<unknown>} a read of `path` through one official client
 */
export function officialReader(root, env, path) {
  const CerberusClient = createRequire(root)("cerberus-node-client");
  const client = new CerberusClient({ hostUrl: env.CERBERUS_URL, region: "us-west-2" });
  return () => client.getSecureData(path);
}
