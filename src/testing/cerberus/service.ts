/**
 * The emulated Cerberus API: a router over the auth, secret, file and SDB routes. Every answer
 * carries a `Date` header; unknown routes answer 404 99996.
 *
 * @module
 */
import { textResponse, withDate } from "../http.ts";
import type { FetchHandler } from "../types.ts";
import { kmsAuthV1, kmsAuthV2, logout, mfaCheck, refreshUserToken, stsAuth, userAuth } from "./auth-routes.ts";
import type { CerberusDeps, RouteContext } from "./context.ts";
import { cerberusError } from "./errors.ts";
import { deleteFile, listFiles, readFile, writeFile } from "./file-routes.ts";
import { categories, createSdb, deleteSdb, getSdb, listSdbs, roles, updateSdb } from "./sdb-routes.ts";
import { deleteSecret, listVersions, readSecret, versionPaths, writeSecret } from "./secret-routes.ts";

type Route = (ctx: RouteContext, rest: string) => Response | Promise<Response>;

interface RouteTable {
  exact: Record<string, Partial<Record<string, Route>>>;
  prefix: [string, Partial<Record<string, Route>>][];
}

const ROUTES: RouteTable = {
  exact: {
    "/healthcheck": { GET: () => textResponse(200, "OK") },
    "/v2/auth/iam-principal": {
      POST: (ctx) => (ctx.deps.config.kmsAuthEnabled ? kmsAuthV2(ctx) : cerberusError(99996)),
    },
    "/v1/auth/iam-role": { POST: (ctx) => (ctx.deps.config.kmsAuthEnabled ? kmsAuthV1(ctx) : cerberusError(99996)) },
    "/v2/auth/sts-identity": { POST: (ctx) => stsAuth(ctx) },
    "/v2/auth/user": { GET: (ctx) => userAuth(ctx) },
    "/v2/auth/mfa_check": { POST: (ctx) => mfaCheck(ctx) },
    "/v2/auth/user/refresh": { GET: (ctx) => refreshUserToken(ctx) },
    "/v1/auth": { DELETE: (ctx) => logout(ctx) },
    "/v2/safe-deposit-box": { GET: (ctx) => listSdbs(ctx), POST: (ctx) => createSdb(ctx) },
    "/v1/category": { GET: (ctx) => categories(ctx, undefined) },
    "/v1/role": { GET: (ctx) => roles(ctx, undefined) },
  },
  prefix: [
    [
      "/v1/secret/",
      {
        GET: (ctx, rest) => readSecret(ctx, rest),
        POST: (ctx, rest) => writeSecret(ctx, rest),
        PUT: (ctx, rest) => writeSecret(ctx, rest),
        DELETE: (ctx, rest) => deleteSecret(ctx, rest),
      },
    ],
    ["/v1/secret-versions/", { GET: (ctx, rest) => listVersions(ctx, rest) }],
    ["/v1/sdb-secret-version-paths/", { GET: (ctx, rest) => versionPaths(ctx, rest) }],
    [
      "/v1/secure-file/",
      {
        GET: (ctx, rest) => readFile(ctx, rest),
        HEAD: (ctx, rest) => readFile(ctx, rest),
        POST: (ctx, rest) => writeFile(ctx, rest),
        PUT: (ctx, rest) => writeFile(ctx, rest),
        DELETE: (ctx, rest) => deleteFile(ctx, rest),
      },
    ],
    ["/v1/secure-files/", { GET: (ctx, rest) => listFiles(ctx, rest) }],
    [
      "/v2/safe-deposit-box/",
      {
        GET: (ctx, rest) => getSdb(ctx, rest),
        PUT: (ctx, rest) => updateSdb(ctx, rest),
        DELETE: (ctx, rest) => deleteSdb(ctx, rest),
      },
    ],
    ["/v1/category/", { GET: (ctx, rest) => categories(ctx, rest) }],
    ["/v1/role/", { GET: (ctx, rest) => roles(ctx, rest) }],
  ],
};

function route(pathname: string): { methods: Partial<Record<string, Route>>; rest: string } | undefined {
  const exact = ROUTES.exact[pathname] ?? ROUTES.exact[pathname.replace(/\/+$/, "")];
  if (exact) return { methods: exact, rest: "" };
  for (const [prefix, methods] of ROUTES.prefix) {
    if (pathname.startsWith(prefix)) return { methods, rest: pathname.slice(prefix.length) };
  }
  return undefined;
}

/** Creates the Cerberus fetch handler over the given stores and settings. */
export function createCerberusService(deps: CerberusDeps): FetchHandler {
  return async (request) => {
    const now = deps.now();
    const url = new URL(request.url);
    const ctx: RouteContext = { deps, request, url, now, nowTs: new Date(now).toISOString() };
    const found = route(url.pathname);
    let response: Response;
    if (!found) {
      response = cerberusError(99996);
    } else {
      const handler = found.methods[request.method];
      if (handler) {
        try {
          response = await handler(ctx, found.rest);
        } catch {
          response = cerberusError(99998);
        }
      } else {
        response = cerberusError(99999, `Request method '${request.method}' not supported`);
        response = new Response(response.body, { status: 405, headers: response.headers });
      }
    }
    return withDate(response, now);
  };
}
