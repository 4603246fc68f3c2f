/**
 * Install footprint, side by side: what `npm install` of this package puts on a user's disk (the
 * tarball `npm pack` makes of the build, as published), against the official
 * `cerberus-node-client@4.0.0`. Each goes into an empty project of its own in a temporary
 * folder with `npm install --omit=dev --no-audit --no-fund --prefer-offline --ignore-scripts`
 * (from npm's cache when it has them; the registry otherwise; dependency ranges resolve as npm
 * resolves them that day, as a user's install would). Counted in that project's
 * node_modules: the bytes of its files (the sum of their sizes), what they take on disk (the
 * blocks allocated to its files, folders and links, each inode once, as `du` counts), and the
 * packages in it (every folder with a package.json directly under a node_modules, scoped or
 * not, at any depth; the installed package itself included). `--ignore-scripts` is a precaution:
 * neither tree has install scripts. The two installs run at once; the temporary folders are
 * removed.
 *
 *   npm run build && node test/bench/install.mjs
 */
import { execFile } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, runStandalone } from "./lib.mjs";

const OFFICIAL = "cerberus-node-client@4.0.0";

/**
 * npm's environment: this one without the `npm_*` variables `npm run` sets (among them
 * `npm_config_local_prefix`, this repository), but with npm's cache, user config and registry.
 *
 * @returns {Record<string, string>}
 */
function npmEnv() {
  const keep = new Set(["npm_config_cache", "npm_config_userconfig", "npm_config_registry"]);
  return Object.fromEntries(
    Object.entries(process.env).filter(([key, value]) =>
      value !== undefined && (!/^npm_/i.test(key) || keep.has(key.toLowerCase()))
    ),
  );
}

/**
 * Runs a command in `cwd` with npm's environment.
 *
 * @param {string} command
 * @param {string[]} args
 * @param {string} cwd
 * @returns {Promise<string>} its stdout
 */
const run = (command, args, cwd) =>
  new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`${command} ${args.join(" ")} failed: ${(stderr || error.message).slice(0, 600)}`))
        : resolve(stdout));
  });

/**
 * @param {string} dir a node_modules folder
 * @returns {{ files: number, bytes: number, blocks: number, packages: number }}
 */
function footprint(dir) {
  const seen = new Set();
  const total = { files: 0, bytes: 0, blocks: 0, packages: 0, byPackage: /** @type {Record<string, number>} */ ({}) };
  /** Adds everything under `path` (a folder, a file or a link). */
  const walk = (path) => {
    const stat = lstatSync(path, { bigint: false });
    const inode = `${stat.dev}:${stat.ino}`;
    if (!seen.has(inode)) {
      seen.add(inode);
      total.blocks += stat.blocks * 512;
      if (stat.isFile()) {
        total.files++;
        total.bytes += stat.size;
        // The innermost package holding the file: what follows the last node_modules/.
        const [first = "", second = ""] = path.slice(path.lastIndexOf("node_modules/") + 13).split("/");
        const owner = first.startsWith("@") ? `${first}/${second}` : first;
        total.byPackage[owner] = (total.byPackage[owner] ?? 0) + stat.size;
      }
    }
    if (stat.isDirectory()) { for (const name of readdirSync(path)) walk(join(path, name)); }
  };
  walk(dir);
  /** Counts the packages directly in `modules` (a node_modules folder) and in theirs. */
  const count = (modules) => {
    let entries;
    try {
      entries = readdirSync(modules, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const folders = entry.name.startsWith("@")
        ? readdirSync(join(modules, entry.name), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => join(modules, entry.name, e.name))
        : [join(modules, entry.name)];
      for (const folder of folders) {
        try {
          lstatSync(join(folder, "package.json"));
          total.packages++;
        } catch {
          // not a package
        }
        count(join(folder, "node_modules"));
      }
    }
  };
  count(dir);
  return total;
}

/**
 * Installs `spec` into an empty project in `scratch` and measures its node_modules.
 *
 * @param {string} spec what to install (a tarball's path, or name@version)
 * @param {string} scratch
 * @param {string} name the project folder's name
 */
async function installed(spec, scratch, name) {
  const folder = join(scratch, name);
  mkdirSync(folder);
  // A package.json of its own, so that npm installs here and nowhere above.
  writeFileSync(join(folder, "package.json"), `${JSON.stringify({ name: "footprint", private: true })}\n`);
  const started = performance.now();
  await run(
    "npm",
    ["install", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", spec],
    folder,
  );
  return { ...footprint(join(folder, "node_modules")), installMs: performance.now() - started };
}

/** @param {{ quick: boolean }} _options @returns {Promise<import("./lib.mjs").Section>} */
export async function measure(_options) {
  const scratch = mkdtempSync(join(tmpdir(), "cerberus-edge-install-"));
  try {
    const stdout = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", scratch], root);
    const [packed] = JSON.parse(stdout);
    // Both at once: npm's cache takes concurrent installs.
    const [ours, official] = await Promise.all([
      installed(join(scratch, packed.filename), scratch, "ours"),
      installed(OFFICIAL, scratch, "official"),
    ]);

    const MB = (n) => n / 1e6;
    const against = OFFICIAL;
    const rows = [
      {
        name: "cerberus-edge: files",
        unit: "MB",
        value: MB(ours.bytes),
        ratio: ours.bytes / official.bytes,
        against,
        goal: "≤ 0.35×",
        met: ours.bytes / official.bytes <= 0.35,
      },
      {
        name: "cerberus-edge: on disk",
        unit: "MB",
        value: MB(ours.blocks),
        ratio: ours.blocks / official.blocks,
        against,
      },
      {
        name: "cerberus-edge: packages",
        unit: "packages",
        value: ours.packages,
        ratio: ours.packages / official.packages,
        against,
      },
      { name: `${OFFICIAL}: files`, unit: "MB", value: MB(official.bytes) },
      { name: `${OFFICIAL}: on disk`, unit: "MB", value: MB(official.blocks) },
      { name: `${OFFICIAL}: packages`, unit: "packages", value: official.packages },
    ];
    return {
      id: "install",
      title: "Install footprint (npm install --omit=dev) against cerberus-node-client@4.0.0",
      command: "npm run build && node test/bench/install.mjs",
      rows,
      notes: [
        "files: the sum of the sizes of node_modules' files; on disk: the blocks allocated (du); 1 MB = 10^6 bytes",
        ...[["cerberus-edge", ours], [OFFICIAL, official]].map(([name, f]) =>
          `${name}, largest (MB): ${
            Object.entries(f.byPackage).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([p, n]) =>
              `${p} ${MB(n).toFixed(2)}`
            ).join(", ")
          }`
        ),
        `npm install took ${(ours.installMs / 1000).toFixed(1)} s and ${
          (official.installMs / 1000).toFixed(1)
        } s (at once); ` +
        `cerberus-edge: ${packed.filename} (${
          (packed.size / 1000).toFixed(1)
        } kB packed, ${packed.entryCount} files), ${ours.files} files installed; ${OFFICIAL}: ${official.files} files`,
      ],
      data: { ours: { ...ours, tarball: packed.filename, tarballBytes: packed.size }, official },
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await runStandalone(import.meta.url, measure);
