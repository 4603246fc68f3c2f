/**
 * Build of the npm package (`npm run build`, output in `dist/`):
 *
 * 1. The library, ESM (`.js`, code-split so entries share one copy of the core) and CJS
 *    (`.cjs`), with declarations for both (`.d.ts`, `.d.cts`):
 *    - `mod`     — `cerberus-edge`: the universal entry, runtime detected (Node, Bun, Deno, edge);
 *    - `core`    — `cerberus-edge/core`: the pure core on Web APIs, what the `workerd`, `worker`,
 *                  `browser` and `edge-light` conditions of `cerberus-edge` resolve to;
 *    - `testing` — `cerberus-edge/testing`: the local emulated stack (never in the core bundle;
 *                  the only entry that imports a `node:` module, lazily, to serve on sockets).
 *    Dependencies stay external.
 * 2. The CLI, `dist/cli.js` (ESM, Node, shebang, executable): the `cerberus-edge` bin.
 * 3. The single file `dist/cerberus-edge.vendor.mjs`: `mod.ts` as one self-contained ES module
 *    with aws4fetch, valibot and @smithy/util-base64 (its browser variant: no `Buffer`) inlined,
 *    their licence notices in its banner, and `dist/cerberus-edge.vendor.d.mts` beside it, which
 *    Deno finds through the `@ts-self-types` directive. It has no import at all, so any bundler
 *    takes it without configuration and workerd runs it without compatibility flags.
 *
 * `dist/` is emptied by the `build` script before tsup runs (the three builds run concurrently,
 * so none of them may clean).
 */
import { readFile } from "node:fs/promises";
import type { Plugin } from "esbuild";
import { defineConfig, type Options } from "tsup";

const shared: Options = {
  target: "es2022",
  sourcemap: false,
  removeNodeProtocol: false,
  shims: false,
  treeshake: false,
  minify: false,
};

/**
 * Marks every valibot call in our sources `/* @__PURE__ *\/`. Schemas are built at module level,
 * and a bundler drops an unused one only when it knows the calls have no side effects: valibot
 * says so of its functions, but bundlers honour that within valibot's own file only. Without
 * this, a program that imports one operation from `dist/core.js` would carry the schemas of all.
 */
const pureValibot: Plugin = {
  name: "pure-valibot",
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      if (/[\\/]src[\\/]testing[\\/]/.test(args.path)) return undefined;
      const source = await readFile(args.path, "utf8");
      return { contents: source.replace(/(?<![\w.])v\.(\w+)\(/g, "/* @__PURE__ */ v.$1("), loader: "ts" };
    });
  },
};

/** Imports that must stay `node:…` wherever they appear (only the test stack has one). */
const NODE_BUILTINS = /^node:/;

/** The notices of the code a bundled file inlines, after its first line. */
const INLINED_NOTICES = ` *
 * It inlines aws4fetch (MIT, Copyright 2018 Michael Hart), valibot (MIT, Copyright (c) Fabian
 * Hiller) and @smithy/util-base64 (Apache-2.0, Copyright 2018-2020 Amazon.com, Inc. or its
 * affiliates). For aws4fetch and valibot:
 *
 * Permission is hereby granted, free of charge, to any person obtaining a copy of this software
 * and associated documentation files (the "Software"), to deal in the Software without
 * restriction, including without limitation the rights to use, copy, modify, merge, publish,
 * distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
 * Software is furnished to do so, subject to the following conditions:
 *
 * The above copyright notice and this permission notice shall be included in all copies or
 * substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
 * BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
 * NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
 * DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 * OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
 */`;

/** The single file's banner: Deno's types directive, then the notices of the code it inlines. */
const VENDOR_BANNER = `// @ts-self-types="./cerberus-edge.vendor.d.mts"
/*! cerberus-edge (Apache-2.0; see its LICENSE and NOTICE), one self-contained file.
${INLINED_NOTICES}`;

/** The CLI's banner: the notices of the code it inlines. */
const CLI_BANNER = `/*! cerberus-edge command line (Apache-2.0; see its LICENSE and NOTICE).
${INLINED_NOTICES}`;

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
    esbuildPlugins: [pureValibot],
  },
  {
    ...shared,
    name: "cli",
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    platform: "node",
    target: "node20",
    // The dependencies are bundled (their Buffer-free browser variants): resolving and loading
    // packages (and @smithy's CommonJS build) is most of a cold start's cost on Node.
    noExternal: [/^(?!node:)/],
    external: [NODE_BUILTINS],
    dts: false,
    // Split: a command loads only what it uses (the demo its local stack, exec and edit their modules).
    splitting: true,
    outDir: "dist",
    banner: { js: CLI_BANNER },
    esbuildPlugins: [pureValibot],
    esbuildOptions(options) {
      options.conditions = ["browser", "import", "default"];
      options.mainFields = ["browser", "module", "main"];
    },
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
    banner: { js: VENDOR_BANNER },
    esbuildPlugins: [pureValibot],
    esbuildOptions(options) {
      options.conditions = ["browser", "import", "default"];
      options.mainFields = ["browser", "module", "main"];
    },
  },
]);
