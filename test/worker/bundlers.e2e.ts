/**
 * The single file and `mod.ts` under other people's bundlers, with no configuration at all:
 * esbuild for `browser` and `neutral`, and webpack for `web`. The single file is built here with
 * the package's own tsup configuration. Runs on Node only, via `test/run.mjs`.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import * as esbuild from "esbuild";
import { build, type Options } from "tsup";
import webpack from "webpack";
import tsupConfig from "../../tsup.config.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const USE = `import { createCerberusClient, kmsAuth } from "./cerberus-edge.vendor.mjs";
export const client = createCerberusClient({ url: "https://cerberus.example.com", auth: kmsAuth({ principalArn: "arn:aws:iam::111122223333:role/app", region: "us-west-2" }) });
`;

describe("the single file under bundlers, unconfigured", { timeout: 120_000 }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cerberus-edge-bundlers-"));
    const vendor = (tsupConfig as Options[]).find((options) => options.name === "vendor")!;
    await build({ ...vendor, config: false, silent: true, dts: false, outDir: dir });
    await writeFile(join(dir, "use.mjs"), USE);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const platform of ["browser", "neutral"] as const) {
    it(`esbuild --platform=${platform}`, async () => {
      const result = await esbuild.build({
        entryPoints: [join(dir, "use.mjs")],
        bundle: true,
        platform,
        write: false,
        logLevel: "silent",
        metafile: true,
      });
      assert.deepEqual(result.errors, []);
      assert.deepEqual(result.warnings, []);
      // The graph is the two files and nothing else: no package, no built-in.
      assert.deepEqual(Object.keys(result.metafile.inputs).map((p) => p.split("/").pop()).sort(), [
        "cerberus-edge.vendor.mjs",
        "use.mjs",
      ]);
    });
  }

  it("webpack --target=web", async () => {
    const stats = await new Promise<webpack.Stats>((resolve, reject) => {
      webpack(
        {
          mode: "production",
          target: "web",
          context: dir,
          entry: "./use.mjs",
          output: { path: join(dir, "webpack") },
          infrastructureLogging: { level: "none" },
        },
        (error, result) => (error || !result ? reject(error) : resolve(result)),
      );
    });
    const info = stats.toJson({ errors: true, warnings: true });
    assert.deepEqual(info.errors, []);
    assert.deepEqual(
      (info.warnings ?? []).filter((w) => !/performance|size limit|asset size/i.test(String(w.message))),
      [],
    );
  });

  it("mod.ts bundles for the browser with no node: module in its graph", async () => {
    const result = await esbuild.build({
      entryPoints: [join(root, "mod.ts")],
      bundle: true,
      platform: "browser",
      write: false,
      logLevel: "silent",
      metafile: true,
    });
    assert.deepEqual(result.errors, []);
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((p) => p.endsWith("src/runtime/node.ts")));
    assert.deepEqual(inputs.filter((p) => p.startsWith("node:")), []);
  });
});
