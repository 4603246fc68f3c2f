/**
 * The emulated container credentials endpoint (ECS task roles / EKS Pod Identity): a GET on a
 * registered path, checked against the `Authorization` token, answers role credentials.
 *
 * @module
 */
import { constantTimeEqual, randomToken } from "../encoding.ts";
import { httpDate, jsonResponse } from "../http.ts";
import type { AwsCredentials, FetchHandler, TimeSource } from "../types.ts";
import type { AwsIdentityStore } from "./identity.ts";

/** One container's credentials endpoint. */
export interface ContainerGrant {
  /** Path of the endpoint, e.g. `/v2/credentials/<uuid>`. */
  path: string;
  /** Role the credentials are for. */
  roleArn: string;
  /** The `Authorization` header value required, or `undefined` for none (classic ECS relative URI). */
  authorizationToken: string | undefined;
}

/** The registered container endpoints. */
export class ContainerRegistry {
  readonly #grants = new Map<string, ContainerGrant>();

  /** Registers an endpoint for `roleArn`; requires an authorization token unless `requireAuthorization` is false. */
  add(roleArn: string, requireAuthorization = true): ContainerGrant {
    const grant: ContainerGrant = {
      path: `/v2/credentials/${crypto.randomUUID()}`,
      roleArn,
      authorizationToken: requireAuthorization ? randomToken("", 24) : undefined,
    };
    this.#grants.set(grant.path, grant);
    return grant;
  }

  /** The grant behind a path. */
  get(path: string): ContainerGrant | undefined {
    return this.#grants.get(path);
  }
}

/** What the container endpoint needs. */
export interface EcsServiceOptions {
  /** Role sessions are issued here. */
  identities: AwsIdentityStore;
  /** Registered endpoints. */
  containers: ContainerRegistry;
  /** Server time. */
  now: TimeSource;
  /** Lifetime of issued credentials, ms (default 6 h). */
  ttlMs?: number;
}

/** Creates the container credentials fetch handler. */
export function createEcsService(options: EcsServiceOptions): FetchHandler {
  const issued = new Map<string, AwsCredentials>();
  // Synchronous inside; a throw still becomes a rejection, as from a real server.
  const handle = (request: Request): Response => {
    const now = options.now();
    const dated = { date: httpDate(now) };
    if (request.method !== "GET") {
      return jsonResponse(405, { code: "MethodNotAllowed", message: "Only GET is supported" }, dated);
    }
    const grant = options.containers.get(new URL(request.url).pathname);
    if (!grant) {
      return jsonResponse(
        400,
        { code: "InvalidIdInRequest", message: "CredentialsV2Request: Credentials not found" },
        dated,
      );
    }
    if (grant.authorizationToken !== undefined) {
      const sent = request.headers.get("authorization");
      if (sent === null) {
        return jsonResponse(401, { code: "AccessDenied", message: "Authorization header is missing" }, dated);
      }
      if (!constantTimeEqual(sent, grant.authorizationToken)) {
        return jsonResponse(403, { code: "AccessDenied", message: "Authorization token is invalid" }, dated);
      }
    }
    const role = options.identities.getRole(grant.roleArn);
    if (!role) return jsonResponse(500, { code: "InternalError", message: "Role no longer exists" }, dated);
    let credentials = issued.get(grant.path);
    if (!credentials || (credentials.expiration?.getTime() ?? 0) - now <= 15 * 60_000) {
      credentials = options.identities.issueRoleSession(role, {
        sessionName: "ecs-task",
        ttlMs: options.ttlMs ?? 6 * 3_600_000,
      });
      issued.set(grant.path, credentials);
    }
    return jsonResponse(
      200,
      {
        RoleArn: role.arn,
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
        Token: credentials.sessionToken ?? "",
        Expiration: new Date(credentials.expiration?.getTime() ?? now).toISOString().replace(/\.\d{3}Z$/, "Z"),
      },
      dated,
    );
  };
  return (request) => Promise.resolve().then(() => handle(request));
}
