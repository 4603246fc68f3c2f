/**
 * Build of the npm package (`npm run build`, output in `dist/`):
 *
 * 1. The library, ESM (`.js`, code-split so entries share one copy of the core) and CJS
 *    (`.cjs`), with declarations for both (`.d.ts`, `.d.cts`):
 *    - `mod`     — `cerberus-edge`: the universal entry, runtime detected (Node, Bun, Deno, edge);
 *    - `core`    — `cerberus-edge/core`: the pure core on Web APIs, what the `workerd`, `worker`,
 *                  `browser` and `edge-light` conditions of `cerberus-edge` resolve to;
 *    - `testing` — `cerberus-edge/testing`: the local emulated stack (never in the core bundle).
 *    Dependencies stay external; `node:` imports stay as written (the Node adapter only loads
 *    them lazily with `import()`), never rewritten to bare `http`, which Deno and Workers reject.
 * 2. The CLI, `dist/cli.js` (ESM, Node, shebang, executable): the `cerberus-edge` bin.
 * 3. The vendorable file `dist/cerberus-edge.vendor.mjs`: `mod.ts` as one self-contained ES
 *    module with aws4fetch, valibot and @smithy/util-base64 (its browser variant: no `Buffer`)
 *    inlined, plus a self-contained `dist/cerberus-edge.vendor.d.mts`.
 *
 * `dist/` is emptied by the `build` script before tsup runs (the three builds run concurrently,
 * so none of them may clean).
 */
import { defineConfig, type Options } from "tsup";

const shared: Options = {
  target: "es2022",
  sourcemap: false,
  removeNodeProtocol: false,
  shims: false,
  treeshake: false,
  minify: false,
};

/** Imports that must stay `import("node:…")` wherever they appear. */
const NODE_BUILTINS = /^node:/;

export default defineConfig([
  {
    ...shared,
    name: "lib",
    entry: { mod: "mod.ts", core: "src/core.ts", testing: "src/testing/mod.ts" },
    format: ["esm", "cjs"],
    // Dependencies stay external (tsup externalises `dependencies`). "browser" only matters for
    // what `testing` bundles (its SigV4 verifier, dev dependencies): their Buffer-free variants.
    platform: "browser",
    external: [NODE_BUILTINS],
    dts: true,
    splitting: true,
    outDir: "dist",
  },
  {
    ...shared,
    name: "cli",
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    platform: "node",
    target: "node20",
    external: [NODE_BUILTINS],
    dts: false,
    splitting: false,
    outDir: "dist",
    // src/cli/main.ts starts with `#!/usr/bin/env node`; esbuild keeps it and tsup marks the file executable.
  },
  {
    ...shared,
    name: "vendor",
    entry: { "cerberus-edge.vendor": "mod.ts" },
    format: ["esm"],
    // (tsup names the declarations `.d.ts`; .ci/build.mjs renames them `.d.mts`, next to the `.mjs`.)
    outExtension: () => ({ js: ".mjs" }),
    // "browser" so that @smithy/util-base64's `browser` field picks its Buffer-free variant;
    // the result is plain ES2022 and runs on Node, Bun, Deno, Workers and browsers alike.
    platform: "browser",
    noExternal: [/^(?!node:)/],
    external: [NODE_BUILTINS],
    dts: { resolve: true, entry: { "cerberus-edge.vendor": "mod.ts" } },
    splitting: false,
    outDir: "dist",
    banner: {
      js: "/* cerberus-edge (Apache-2.0), self-contained build with aws4fetch (MIT), valibot (MIT) and @smithy/util-base64 (Apache-2.0) inlined. */",
    },
    esbuildOptions(options) {
      options.conditions = ["browser", "import", "default"];
      options.mainFields = ["browser", "module", "main"];
    },
  },
]);
