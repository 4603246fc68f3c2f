/**
 * End to end in a real Workers runtime: workerd driven by miniflare on 127.0.0.1.
 *
 * Three Workers: one bundled from the pure core entry, one from `mod.ts` (it must load in workerd
 * and detect the edge runtime), and one on the single file `cerberus-edge.vendor.mjs`, built here
 * with the package's own tsup configuration and loaded as it is: no bundler, no module list, no
 * compatibility flag. Each authenticates by KMS auth v2 with an explicit principal ARN and static
 * credentials given as bindings, and reads a secret from the local stack served on loopback.
 *
 * The Worker's outbound `fetch` goes through a guard that forwards to 127.0.0.1 only and refuses
 * anything else before it leaves the process; miniflare listens on 127.0.0.1 and does not fetch
 * its `cf` data (`cf: false`). Runs on Node only (`node --import tsx --test`), via `test/run.mjs`.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare, type Request as MiniflareRequest, Response as MiniflareResponse } from "miniflare";
import { build, type Options } from "tsup";
import tsupConfig from "../../tsup.config.ts";

import { type LocalStack, startLocalStack } from "../../src/testing/mod.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const COMPATIBILITY_DATE = "2025-09-01";

/** Bundles a Worker entry the way Wrangler does: ESM, browser field, workerd conditions. */
async function bundle(entry: string, outDir: string): Promise<string> {
  const name = entry.replace(/\.ts$/, "");
  await build({
    config: false,
    silent: true,
    entry: { [name]: join(here, entry) },
    outDir,
    format: ["esm"],
    platform: "browser",
    target: "es2022",
    noExternal: [/.*/],
    dts: false,
    sourcemap: false,
    splitting: false,
    esbuildOptions(options) {
      options.conditions = ["workerd", "worker", "browser"];
    },
  });
  return readFile(join(outDir, `${name}.js`), "utf8");
}

/** Builds the single file with the package's own configuration, into `outDir`. */
async function buildSingleFile(outDir: string): Promise<string> {
  const vendor = (tsupConfig as Options[]).find((options) => options.name === "vendor")!;
  await build({ ...vendor, config: false, silent: true, dts: false, outDir });
  return readFile(join(outDir, "cerberus-edge.vendor.mjs"), "utf8");
}

/** A Worker on the single file: plain JavaScript next to it, loaded by workerd as written. */
const SINGLE_FILE_WORKER = `import { createCerberusClient, kmsAuth, readSecret } from "./cerberus-edge.vendor.mjs";
export default {
  async fetch(request, env) {
    const client = createCerberusClient({
      url: env.CERBERUS_URL,
      auth: kmsAuth({
        principalArn: env.PRINCIPAL_ARN,
        region: env.AWS_REGION,
        kmsEndpoint: env.KMS_ENDPOINT,
        credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN },
      }),
    });
    try {
      const data = await readSecret(client, env.SECRET_PATH);
      return Response.json({ ok: true, data, principal: (await client.whoami()).principal });
    } catch (error) {
      return Response.json({ ok: false, error: { name: error.name, code: error.code, message: error.message } }, { status: 500 });
    }
  },
};
`;

interface Outbound {
  method: string;
  url: string;
  forwarded: boolean;
}

const HOP_BY_HOP = new Set([
  "host",
  "connection",
  "content-length",
  "transfer-encoding",
  "keep-alive",
  "accept-encoding",
]);

/** Forwards the Worker's subrequests to 127.0.0.1 only; anything else is refused, never sent. */
function loopbackGuard(log: Outbound[]) {
  return async (request: MiniflareRequest): Promise<MiniflareResponse> => {
    const url = new URL(request.url);
    const entry = { method: request.method, url: request.url, forwarded: false };
    log.push(entry);
    if (url.hostname !== "127.0.0.1" || url.protocol !== "http:") {
      return new MiniflareResponse("outbound blocked: the Worker may only reach 127.0.0.1", {
        status: 403,
        headers: { "x-loopback-guard": "blocked" },
      });
    }
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => {
      if (!HOP_BY_HOP.has(key)) headers[key] = value;
    });
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
    const response = await fetch(request.url, { method: request.method, headers, body, redirect: "manual" });
    entry.forwarded = true;
    const responseHeaders: [string, string][] = [];
    response.headers.forEach((value, key) => {
      if (key !== "content-encoding" && key !== "content-length") responseHeaders.push([key, value]);
    });
    const nullBody = request.method === "HEAD" || [101, 204, 205, 304].includes(response.status);
    return new MiniflareResponse(nullBody ? null : await response.arrayBuffer(), {
      status: response.status,
      headers: responseHeaders,
    });
  };
}

interface SecretAnswer {
  ok: boolean;
  userAgent: string | null;
  hasProcess: boolean;
  detected: string | null;
  data?: Record<string, unknown>;
  principal?: string;
  method?: string;
  error?: { name?: string; code?: string; message?: string };
  cache?: { misses: number; hits: number };
}

describe("Workers (workerd via miniflare, loopback only)", { timeout: 180_000 }, () => {
  let stack: LocalStack;
  let mf: Miniflare;
  let outDir: string;
  let coreBundle: string;
  let modBundle: string;
  let singleFile: string;
  let secretKey: string;
  const outbound: Outbound[] = [];

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), "cerberus-edge-worker-"));
    [coreBundle, modBundle, singleFile] = await Promise.all([
      bundle("core-worker.ts", outDir),
      bundle("mod-worker.ts", outDir),
      buildSingleFile(outDir),
    ]);
    await writeFile(join(outDir, "single-file-worker.mjs"), SINGLE_FILE_WORKER);
    stack = await startLocalStack();
    const defaults = stack.defaults!;
    const credentials = stack.seed.roleCredentials(defaults.roles.app.arn);
    secretKey = credentials.secretAccessKey;
    const bindings = {
      CERBERUS_URL: stack.cerberus,
      KMS_ENDPOINT: stack.kms,
      AWS_REGION: defaults.region,
      PRINCIPAL_ARN: defaults.roles.app.arn,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
      SECRET_PATH: defaults.secretPath,
    };
    // Module scripts by path: miniflare walks their imports itself.
    const script = (name: string) => ({ modulesRoot: outDir, modules: true, scriptPath: join(outDir, name) });
    const common = {
      compatibilityDate: COMPATIBILITY_DATE,
      bindings,
      outboundService: loopbackGuard(outbound),
    };
    mf = new Miniflare({
      host: "127.0.0.1",
      port: 0,
      cf: false,
      workers: [
        { ...common, ...script("core-worker.js"), name: "core" },
        { ...common, ...script("mod-worker.js"), name: "mod" },
        { ...common, ...script("mod-worker.js"), name: "mod-nodejs-compat", compatibilityFlags: ["nodejs_compat"] },
        { ...common, ...script("single-file-worker.mjs"), name: "single-file" },
        {
          ...common,
          ...script("core-worker.js"),
          name: "core-bad-key",
          bindings: { ...bindings, AWS_SECRET_ACCESS_KEY: "not-the-key" },
        },
      ],
    });
    await mf.ready;
  });

  after(async () => {
    await stack?.close();
    // Miniflare's dispose() never settles when startup failed: do not let that hang the run.
    if (mf) {
      await Promise.race([
        mf.dispose().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
      ]);
    }
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  async function call(worker: string, path = "/secret"): Promise<{ status: number; body: SecretAnswer }> {
    // (typed loosely: miniflare's Fetcher type needs @cloudflare/workers-types)
    const fetcher = (await mf.getWorker(worker)) as unknown as { fetch(url: string): Promise<MiniflareResponse> };
    const response = await fetcher.fetch(`http://127.0.0.1${path}`);
    return { status: response.status, body: (await response.json()) as SecretAnswer };
  }

  it("no bundle imports a node: module or uses require or Buffer; the single file imports nothing", () => {
    for (const code of [coreBundle, modBundle, singleFile]) {
      assert.doesNotMatch(code, /(import\s*\(|from\s*|require\()\s*["'`]node:/);
      assert.doesNotMatch(code, /\brequire\(/);
      assert.doesNotMatch(code, /\bBuffer\b/);
    }
    assert.doesNotMatch(singleFile.replace(/\/\*[\s\S]*?\*\//g, ""), /^\s*import\s/m);
  });

  it("runs the single file in workerd as it is, without compatibility flags", async () => {
    const { status, body } = await call("single-file");
    assert.equal(status, 200, JSON.stringify(body.error));
    assert.deepEqual(body.data, stack.defaults!.secret);
    assert.equal(body.principal, stack.defaults!.roles.app.arn);
  });

  it("authenticates by KMS auth with bindings and reads the secret (core entry)", async () => {
    const { status, body } = await call("core");
    assert.equal(status, 200, JSON.stringify(body.error));
    assert.equal(body.ok, true);
    assert.equal(body.userAgent, "Cloudflare-Workers");
    assert.deepEqual(body.data, stack.defaults!.secret);
    assert.equal(body.data?.greeting, "hello from the local stack");
    assert.equal(body.principal, stack.defaults!.roles.app.arn);
    assert.equal(body.method, "kms");
  });

  it("a caching client at module scope lives as long as the isolate: the second request reads from memory", async () => {
    const first = await call("core", "/cached");
    assert.equal(first.status, 200, JSON.stringify(first.body.error));
    const second = await call("core", "/cached");
    assert.deepEqual(second.body.data, stack.defaults!.secret);
    const stats = second.body.cache!;
    assert.equal(stats.misses, 1, "one read reached Cerberus");
    assert.ok(stats.hits >= 1, `hits ${stats.hits}`);
  });

  it("loads mod.ts in workerd and detects the edge runtime", async () => {
    const { status, body } = await call("mod");
    assert.equal(status, 200, JSON.stringify(body.error));
    assert.equal(body.detected, "edge");
    assert.equal(body.hasProcess, false);
    assert.deepEqual(body.data, stack.defaults!.secret);
  });

  it("detects the edge runtime even with nodejs_compat's process global", async () => {
    const { status, body } = await call("mod-nodejs-compat");
    assert.equal(status, 200, JSON.stringify(body.error));
    assert.equal(body.hasProcess, true);
    assert.equal(body.detected, "edge");
    assert.deepEqual(body.data, stack.defaults!.secret);
  });

  it("reports a wrong key as an authentication error without leaking it", async () => {
    const { status, body } = await call("core-bad-key");
    assert.equal(status, 500);
    assert.equal(body.ok, false);
    assert.equal(body.error?.code, "AUTH_FAILED");
    assert.match(body.error?.message ?? "", /KMS/);
    assert.doesNotMatch(body.error?.message ?? "", /not-the-key/);
    assert.ok(!(body.error?.message ?? "").includes(secretKey));
  });

  it("talked to 127.0.0.1 only, and the guard refuses anything else unsent", async () => {
    const { body } = await call("core", `/probe?url=${encodeURIComponent("http://192.0.2.1/")}`);
    assert.deepEqual(body, { status: 403, guard: "blocked" });
    const sent = outbound.filter((o) => o.forwarded);
    assert.ok(sent.length >= 9, `expected cerberus and KMS calls, got ${sent.length}`);
    for (const o of sent) assert.equal(new URL(o.url).hostname, "127.0.0.1", o.url);
    const paths = new Set(sent.map((o) => `${o.method} ${new URL(o.url).pathname}`));
    assert.ok(paths.has("POST /v2/auth/iam-principal"));
    assert.ok(paths.has("POST /"));
    assert.ok(paths.has(`GET /v1/secret/${stack.defaults!.secretPath}`));
    assert.deepEqual(outbound.filter((o) => !o.forwarded).map((o) => o.url), ["http://192.0.2.1/"]);
  });
});
