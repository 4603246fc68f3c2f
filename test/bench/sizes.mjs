/**
 * Bundle sizes side by side (minified with esbuild, then gzip -9), against the official
 * `cerberus-node-client@4.0.0` bundled the same way and against a floor: aws4fetch's signer plus
 * one valibot schema, the least a SigV4-signing, validating client can carry.
 *
 *   npm run build && node test/bench/sizes.mjs
 */
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const core = `${root}dist/core.js`;

/** Bundles `contents` (an entry module) and returns its minified and gzipped sizes in bytes. */
async function sizeOf(contents, platform = "browser") {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform,
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].contents;
  return { min: code.byteLength, gz: gzipSync(code, { level: 9 }).byteLength };
}

const rows = {
  "single file (dist/cerberus-edge.vendor.mjs)": await sizeOf(
    `export * from ${JSON.stringify(`${root}dist/cerberus-edge.vendor.mjs`)};`,
  ),
  "KMS auth + readSecret": await sizeOf(
    `export { createCerberusClient, kmsAuth, readSecret } from ${JSON.stringify(core)};`,
  ),
  "STS auth + readSecret": await sizeOf(
    `export { createCerberusClient, stsAuth, readSecret } from ${JSON.stringify(core)};`,
  ),
  "token + readSecret": await sizeOf(
    `export { createCerberusClient, tokenAuth, readSecret } from ${JSON.stringify(core)};`,
  ),
  "everything (cerberus-edge/core)": await sizeOf(`export * from ${JSON.stringify(core)};`),
  "floor: aws4fetch signer + one valibot schema": await sizeOf(
    `import { AwsV4Signer } from "aws4fetch"; import * as v from "valibot";
     export const schema = v.object({ client_token: v.string(), lease_duration: v.number() });
     export const sign = (url) => new AwsV4Signer({ url, accessKeyId: "a", secretAccessKey: "b", service: "kms", region: "us-west-2" }).sign();`,
  ),
  "official cerberus-node-client@4.0.0 (platform node)": await sizeOf(
    `export { default } from "cerberus-node-client";`,
    "node",
  ),
};

const official = rows["official cerberus-node-client@4.0.0 (platform node)"].gz;
const kB = (n) => `${(n / 1000).toFixed(1)} kB`.padStart(9);
console.log(`${"bundle".padEnd(52)} ${"min".padStart(9)} ${"min+gz".padStart(9)}  × official`);
for (const [name, size] of Object.entries(rows)) {
  console.log(`${name.padEnd(52)} ${kB(size.min)} ${kB(size.gz)}  ${(size.gz / official).toFixed(3)}`);
}
