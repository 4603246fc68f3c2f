/**
 * The Worker used by the Workers end-to-end test: KMS auth with an explicit principal ARN and
 * static credentials, all taken from bindings, then a secret read. The library's entry is passed
 * in, so the same handler runs on the pure core (`src/core.ts`) and on `mod.ts` (detection).
 */
import type {
  AuthProvider,
  CerberusClient,
  CerberusClientOptions,
  KmsAuthOptions,
  RuntimeEnvironment,
} from "../../src/core.ts";

/** The Worker's bindings (plain-text vars and secrets). */
export interface WorkerEnv {
  CERBERUS_URL: string;
  KMS_ENDPOINT: string;
  AWS_REGION: string;
  PRINCIPAL_ARN: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_SESSION_TOKEN?: string;
  SECRET_PATH: string;
}

/** What a Worker needs from the library entry it was bundled with. */
export interface Library {
  createClient(options: CerberusClientOptions): CerberusClient;
  kmsAuth(options: KmsAuthOptions): AuthProvider;
  readSecret(client: CerberusClient, path: string): Promise<Record<string, string>>;
  detectRuntime?: () => RuntimeEnvironment;
}

/** The caching client of this isolate (the `/cached` route). */
let isolateClient: CerberusClient | undefined;

/** Builds the Worker's `fetch` handler on a library entry. */
export function worker(lib: Library): { fetch(request: Request, env: WorkerEnv): Promise<Response> } {
  return {
    async fetch(request, env) {
      const url = new URL(request.url);
      const facts = {
        userAgent: (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? null,
        hasProcess: typeof (globalThis as { process?: unknown }).process !== "undefined",
        detected: lib.detectRuntime ? lib.detectRuntime().name : null,
      };
      if (url.pathname === "/probe") {
        // Only used to prove the outbound guard: the test points it at a non-loopback address.
        const target = url.searchParams.get("url") ?? "";
        try {
          const response = await fetch(target);
          return Response.json({ status: response.status, guard: response.headers.get("x-loopback-guard") });
        } catch (error) {
          return Response.json({ error: String(error) });
        }
      }
      // /cached: one caching client per isolate, kept at module scope across requests.
      const cached = url.pathname === "/cached";
      const options: CerberusClientOptions = {
        url: env.CERBERUS_URL,
        auth: lib.kmsAuth({
          version: 2,
          principalArn: env.PRINCIPAL_ARN,
          region: env.AWS_REGION,
          kmsEndpoint: env.KMS_ENDPOINT,
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }),
      };
      const client = cached
        ? (isolateClient ??= lib.createClient({ ...options, cache: true }))
        : lib.createClient(options);
      try {
        const data = await lib.readSecret(client, env.SECRET_PATH);
        const me = await client.whoami();
        const cache = client.cache?.stats();
        return Response.json({ ok: true, ...facts, data, principal: me.principal, method: me.method, cache });
      } catch (error) {
        const e = error as { name?: string; code?: string; message?: string };
        return Response.json({ ok: false, ...facts, error: { name: e.name, code: e.code, message: e.message } }, {
          status: 500,
        });
      }
    },
  };
}
