/**
 * Bundle sizes (minified, then gzip -9), measured exactly as `npm run size` (size-limit 12.1.0
 * with `@size-limit/preset-small-lib`) measures them, for the builds of this package, for the
 * official `cerberus-node-client@4.0.0` and for a floor: aws4fetch's signer plus one valibot
 * schema, the least a SigV4-signing, validating client can carry.
 *
 *   npm run build && node test/bench/sizes.mjs
 *
 * How size-limit measures (node_modules/size-limit/process-import.js,
 * node_modules/@size-limit/esbuild/{get-config,index}.js, node_modules/@size-limit/file/index.js),
 * and so how this script does:
 *
 * - a check with `import` bundles a generated entry, `import <import> from "<absolute path>"`
 *   followed by `console.log(<the names, braces removed>)` (`*` becomes `* as all`); a check
 *   without it bundles the file itself as the entry;
 * - esbuild (the root node_modules/esbuild, 0.28) with `bundle`, `minifyIdentifiers`,
 *   `minifySyntax`, `minifyWhitespace`, `treeShaking`, `metafile`, `outdir` and no `format` and
 *   no `platform`: so the browser platform and, bundling for it, the IIFE format (not ESM);
 * - every output file is gzipped at level 9 (zlib, as a stream; the same bytes as `gzipSync`);
 * - then the size of an empty project is subtracted: 46 bytes for an `import` check, 32 for a
 *   file (12 and 34 from the minified size).
 *
 * The previous version of this script bundled `export … from` as ESM and subtracted nothing: it
 * read 28,695 and 16,465 bytes for the two checks where size-limit read 28,365 and 16,416 (the
 * single file: 298 bytes of ESM export list that an IIFE does not have, then the 32; the import:
 * 3 bytes of entry, then the 46). Measured this way, the two agree to the byte: each run calls
 * `size-limit --json` and prints both figures for every check in package.json.
 *
 * The official client needs Node's built-ins, so it is bundled with `platform: "node"` and
 * `format: "iife"` (what every other row gets by default), its default export as the import.
 */
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { createGzip } from "node:zlib";
import { root, runStandalone } from "./lib.mjs";

/** What size-limit subtracts: the size of an empty project (`@size-limit/esbuild`). */
const EMPTY = { file: { min: 12, gz: 32 }, import: { min: 34, gz: 46 } };

const OFFICIAL = "official cerberus-node-client@4.0.0 (platform node)";

/** @param {string} path @returns {Promise<number>} its size gzipped at level 9, as `@size-limit/file` counts it. */
const gzipSize = (path) =>
  new Promise((resolve, reject) => {
    let size = 0;
    createReadStream(path)
      .pipe(createGzip({ level: 9 }))
      .on("data", (chunk) => size += chunk.length)
      .on("end", () => resolve(size))
      .on("error", reject);
  });

/**
 * One size-limit check, measured as size-limit measures it.
 *
 * @param {{ path: string, import?: string, platform?: "node" }} check `path` relative to the
 *   repository, or absolute
 * @param {string} scratch a folder for the entry and the bundles
 * @returns {Promise<{ min: number, gz: number }>} bytes, minified and minified + gzipped
 */
async function measureCheck(check, scratch) {
  const out = mkdtempSync(join(scratch, "out-"));
  const target = isAbsolute(check.path) ? check.path : join(root, check.path);
  let entry = target;
  if (check.import !== undefined) {
    // As size-limit's processImport writes it.
    const imports = check.import === "*" ? "* as all" : check.import;
    const list = check.import === "*" ? "all" : check.import.replace(/}|{/g, "").trim();
    entry = join(out, "index.js");
    writeFileSync(entry, `import ${imports} from ${JSON.stringify(target)}\nconsole.log(${list})\n`);
  }
  const result = await build({
    allowOverwrite: check.import !== undefined,
    bundle: true,
    entryPoints: [entry],
    metafile: true,
    minifyIdentifiers: true,
    minifySyntax: true,
    minifyWhitespace: true,
    outdir: out,
    treeShaking: true,
    write: true,
    logLevel: "silent",
    ...(check.platform ? { platform: check.platform, format: "iife" } : {}),
  });
  const empty = check.import !== undefined ? EMPTY.import : EMPTY.file;
  let min = -empty.min;
  let gz = -empty.gz;
  for (const output of Object.keys(result.metafile.outputs)) {
    const path = resolve(output); // metafile paths are relative to the working folder
    min += readFileSync(path).byteLength;
    gz += await gzipSize(path);
  }
  rmSync(out, { recursive: true, force: true });
  return { min, gz };
}

/** size-limit's own figures: `size-limit --json`, with each check's path and import from package.json. */
function sizeLimitFigures() {
  const config = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))["size-limit"] ?? [];
  const run = spawnSync(process.execPath, [join(root, "node_modules", "size-limit", "bin.js"), "--json"], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    encoding: "utf8",
  });
  const start = run.stdout.indexOf("[");
  if (start === -1) {
    throw new Error(`size-limit --json printed no figures: ${(run.stderr || run.stdout).slice(0, 600)}`);
  }
  /** @type {{ name: string, size: number, passed: boolean }[]} */
  const figures = JSON.parse(run.stdout.slice(start));
  return config.map((check, i) => ({ ...check, size: figures[i]?.size, passed: figures[i]?.passed }));
}

/** @param {{ quick: boolean }} _options @returns {Promise<import("./lib.mjs").Section>} */
export async function measure(_options) {
  const scratch = mkdtempSync(join(tmpdir(), "cerberus-edge-sizes-"));
  try {
    // The floor, as a module of its own: the two packages as this package imports them (ESM).
    const floor = join(scratch, "floor.js");
    writeFileSync(
      floor,
      `import { AwsV4Signer } from ${JSON.stringify(fileURLToPath(import.meta.resolve("aws4fetch")))};
import * as v from ${JSON.stringify(fileURLToPath(import.meta.resolve("valibot")))};
export const schema = v.object({ client_token: v.string(), lease_duration: v.number() });
export const sign = (url) => new AwsV4Signer({ url, accessKeyId: "a", secretAccessKey: "b", service: "kms", region: "us-west-2" }).sign();\n`,
    );
    /** @type {[string, { path: string, import?: string, platform?: "node" }][]} */
    const checks = [
      ["single file (dist/cerberus-edge.vendor.mjs)", { path: "dist/cerberus-edge.vendor.mjs" }],
      ["KMS auth + readSecret (core)", {
        path: "dist/core.js",
        import: "{ createCerberusClient, kmsAuth, readSecret }",
      }],
      ["STS auth + readSecret (core)", {
        path: "dist/core.js",
        import: "{ createCerberusClient, stsAuth, readSecret }",
      }],
      ["token + readSecret (core)", {
        path: "dist/core.js",
        import: "{ createCerberusClient, tokenAuth, readSecret }",
      }],
      ["everything (cerberus-edge/core)", { path: "dist/core.js", import: "*" }],
      ["floor: aws4fetch signer + one valibot schema", { path: floor, import: "{ schema, sign }" }],
      [OFFICIAL, {
        path: createRequire(join(root, "package.json")).resolve("cerberus-node-client"),
        import: "CerberusClient",
        platform: "node",
      }],
    ];
    /** @type {Record<string, { min: number, gz: number }>} */
    const bytes = {};
    for (const [name, check] of checks) bytes[name] = await measureCheck(check, scratch);
    const official = bytes[OFFICIAL].gz;

    const rows = checks.map(([name, check]) => {
      const ratio = bytes[name].gz / official;
      /** @type {import("./lib.mjs").Row} */
      const row = { name, unit: "kB", value: bytes[name].gz / 1000, ratio, against: "official" };
      if (check.import === "{ createCerberusClient, kmsAuth, readSecret }") {
        row.goal = "≤ 0.10×";
        row.met = ratio <= 0.1;
      }
      return row;
    });

    // The proof: size-limit's figures for the checks in package.json, next to ours.
    const notes = [
      "min+gz as size-limit counts it (esbuild IIFE bundle, gzip -9, minus the empty project); 1 kB = 1000 bytes",
      `minified (kB): ${
        checks.map(([name]) => `${name.split(/ \(|:/)[0]} ${(bytes[name].min / 1000).toFixed(1)}`).join(", ")
      }`,
    ];
    const agreement = [];
    for (const check of sizeLimitFigures()) {
      const ours = checks.find(([, c]) => c.path === check.path && c.import === check.import);
      const mine = ours ? bytes[ours[0]].gz : undefined;
      agreement.push({ path: check.path, import: check.import, sizeLimit: check.size, ours: mine });
      notes.push(
        `size-limit ${check.path}${check.import ? ` import ${check.import}` : ""}: ${check.size} B, here ${
          mine ?? "not measured"
        } B${mine === check.size ? " (the same)" : " (DIFFERENT)"}${check.passed === false ? ", over its limit" : ""}`,
      );
    }
    return {
      id: "sizes",
      title: "Bundle size (min+gz) against cerberus-node-client@4.0.0",
      command: "npm run build && node test/bench/sizes.mjs",
      rows,
      notes,
      data: { bytes, sizeLimit: agreement },
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await runStandalone(import.meta.url, measure);
