/**
 * A programmable fake of everything the KMS flow talks to — IMDS, Cerberus and KMS — behind
 * one in-memory transport. Unit tests steer it and read what was sent.
 */
import type { HttpTransport } from "../../src/transport.ts";

/** A request as the fake saw it. */
export interface Seen {
  host: string;
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/** What a fake endpoint answers in place of its normal behaviour. */
export type Override = Response | "timeout" | "reset" | ((req: Request, body: string) => Response | Promise<Response>);

/** A registered principal: its token payload and the access key whose holder may decrypt. */
export interface FakePrincipal {
  accessKeyId: string;
  payload?: Record<string, unknown>;
  /** Raw plaintext to put in the ciphertext instead of the JSON payload. */
  plaintext?: Uint8Array;
  /** Cerberus's own answer instead of `auth_data`. */
  cerberusAnswer?: Response;
}

const enc = new TextEncoder();
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** JSON response helper. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** The fake world. Hosts: `169.254.169.254` (IMDS), `cerberus.test`, `kms.<region>.amazonaws.com`. */
export class FakeWorld {
  readonly seen: Seen[] = [];
  /** Per route key (`imds:PUT /latest/api/token`, `cerberus:POST /v2/auth/iam-principal`, `kms:us-west-2`), answers to give before normal behaviour. */
  readonly overrides = new Map<string, Override[]>();

  // IMDS
  accountId = "111122223333";
  region = "us-west-2";
  instanceProfileArn = "arn:aws:iam::111122223333:instance-profile/app-profile";
  roles = new Map<string, { AccessKeyId: string; SecretAccessKey: string; Token: string }>();
  imdsV1Allowed = true;
  imdsTokens = new Set<string>();

  // Cerberus: principal ARN (v2) or "acct/role" (v1) → principal
  principals = new Map<string, FakePrincipal>();
  validTokens = new Set<string>();
  secrets = new Map<string, Record<string, unknown>>();
  authCount = 0;

  // KMS
  decryptCount = 0;

  /** Adds an IMDS role with credentials derived from its name. */
  addRole(name: string): { AccessKeyId: string; SecretAccessKey: string; Token: string } {
    const creds = { AccessKeyId: `ASIA${name.toUpperCase().replace(/[^A-Z0-9]/g, "").padEnd(16, "X")}`, SecretAccessKey: `secret-of-${name}`, Token: `session-of-${name}` };
    this.roles.set(name, creds);
    return creds;
  }

  /** Registers a principal on Cerberus, decryptable by `accessKeyId`, issuing `token`. */
  register(principal: string, accessKeyId: string, token = `tok-${principal.slice(-12)}`, lease = 3600): FakePrincipal {
    const p: FakePrincipal = {
      accessKeyId,
      payload: { client_token: token, policies: ["app_demo_read"], metadata: { username: principal, is_admin: "false" }, lease_duration: lease, renewable: false },
    };
    this.principals.set(principal, p);
    return p;
  }

  /** Queues answers for a route key. */
  override(key: string, ...answers: Override[]): void {
    this.overrides.set(key, [...(this.overrides.get(key) ?? []), ...answers]);
  }

  /** Requests seen by a host kind. */
  count(kind: "imds" | "cerberus" | "kms", method?: string, path?: string): number {
    return this.seen.filter((s) => hostKind(s.host) === kind && (!method || s.method === method) && (!path || s.path.startsWith(path))).length;
  }

  readonly transport: HttpTransport = async (request) => {
    const url = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    this.seen.push({ host: url.host, method: request.method, path: url.pathname + url.search, headers: new Headers(request.headers), body });
    const kind = hostKind(url.host);
    const key = kind === "kms" ? `kms:${url.host.split(".")[1]}` : `${kind}:${request.method} ${url.pathname}`;
    const queued = this.overrides.get(key);
    if (queued?.length) {
      const answer = queued.shift()!;
      if (answer === "timeout") return new Promise<Response>((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)));
      if (answer === "reset") throw new TypeError("fetch failed", { cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) });
      return typeof answer === "function" ? answer(request, body) : answer;
    }
    if (kind === "imds") return this.#imds(request, url);
    if (kind === "cerberus") return this.#cerberus(request, url, body);
    if (kind === "kms") return this.#kms(request, url, body);
    throw new TypeError("fetch failed", { cause: Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }) });
  };

  #imds(request: Request, url: URL): Response {
    if (url.pathname === "/latest/api/token" && request.method === "PUT") {
      if (!request.headers.get("x-aws-ec2-metadata-token-ttl-seconds")) return new Response("", { status: 400 });
      const token = `imds-token-${this.imdsTokens.size + 1}`;
      this.imdsTokens.add(token);
      return new Response(token);
    }
    const token = request.headers.get("x-aws-ec2-metadata-token");
    if (token ? !this.imdsTokens.has(token) : !this.imdsV1Allowed) return new Response("", { status: 401 });
    const p = url.pathname;
    if (p === "/latest/dynamic/instance-identity/document") return json(200, { accountId: this.accountId, region: this.region, instanceId: "i-0abc" });
    if (p === "/latest/meta-data/iam/info") return json(200, { Code: "Success", InstanceProfileArn: this.instanceProfileArn, InstanceProfileId: "AIPA" });
    if (p === "/latest/meta-data/iam/security-credentials/") return new Response([...this.roles.keys()].join("\n"));
    const role = p.startsWith("/latest/meta-data/iam/security-credentials/") ? this.roles.get(decodeURIComponent(p.split("/").pop()!)) : undefined;
    if (role) return json(200, { Code: "Success", Type: "AWS-HMAC", ...role, Expiration: "2026-11-29T18:00:00Z" });
    return new Response("Not Found", { status: 404 });
  }

  async #cerberus(request: Request, url: URL, body: string): Promise<Response> {
    const p = url.pathname;
    if (p === "/v2/auth/iam-principal" || p === "/v1/auth/iam-role") {
      this.authCount++;
      const req = JSON.parse(body) as Record<string, string>;
      const key = p.startsWith("/v2") ? req.iam_principal_arn! : `${req.account_id}/${req.role_name}`;
      const principal = this.principals.get(key);
      if (!principal) return json(400, { error_id: "e1", errors: [{ code: 99216, message: "The specified IAM principal is not valid." }] });
      if (principal.cerberusAnswer) return principal.cerberusAnswer.clone();
      const plaintext = principal.plaintext ?? enc.encode(JSON.stringify(principal.payload));
      if (principal.payload && typeof principal.payload.client_token === "string") this.validTokens.add(principal.payload.client_token);
      const blob = enc.encode(JSON.stringify({ k: principal.accessKeyId, r: req.region, p: b64(plaintext) }));
      return json(200, { auth_data: b64(blob) });
    }
    const token = request.headers.get("x-cerberus-token");
    if (!token || !this.validTokens.has(token)) return json(401, { error_id: "e2", errors: [{ code: 99105, message: "X-Cerberus-Token header is malformed or invalid." }] });
    if (p.startsWith("/v1/secret/")) {
      const path = decodeURIComponent(p.slice("/v1/secret/".length));
      if (url.searchParams.get("list") === "true") {
        const prefix = path.endsWith("/") ? path : `${path}/`;
        const keys = [...new Set([...this.secrets.keys()].filter((k) => k.startsWith(prefix)).map((k) => {
          const rest = k.slice(prefix.length);
          return rest.includes("/") ? `${rest.split("/")[0]}/` : rest;
        }))];
        return keys.length ? json(200, { data: { keys } }) : new Response(null, { status: 404 });
      }
      const data = this.secrets.get(path);
      return data ? json(200, { request_id: "r", lease_id: "", renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null, metadata: {} }) : new Response(null, { status: 404 });
    }
    return json(404, { error_id: "e3", errors: [{ code: 99996, message: "Not found" }] });
  }

  #kms(request: Request, url: URL, body: string): Response {
    this.decryptCount++;
    const date = { date: new Date().toUTCString() };
    const auth = request.headers.get("authorization") ?? "";
    const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/kms\/aws4_request/.exec(auth);
    if (!m || request.headers.get("x-amz-target") !== "TrentService.Decrypt") return json(400, { __type: "InvalidSignatureException", message: "bad" }, date);
    const [, accessKeyId, scopeRegion] = m;
    const hostRegion = url.host.split(".")[1];
    if (scopeRegion !== hostRegion) return json(400, { __type: "InvalidSignatureException", message: "wrong region" }, date);
    let blob: { k: string; r: string; p: string };
    try {
      blob = JSON.parse(new TextDecoder().decode(unb64((JSON.parse(body) as { CiphertextBlob: string }).CiphertextBlob)));
    } catch {
      return json(400, { __type: "InvalidCiphertextException" }, date);
    }
    if (blob.r !== scopeRegion) return json(400, { __type: "com.amazonaws.kms#IncorrectKeyException", message: "key in another region" }, date);
    if (blob.k !== accessKeyId) return json(400, { __type: "AccessDeniedException", message: "not allowed" }, date);
    return json(200, { KeyId: `arn:aws:kms:${scopeRegion}:999999999999:key/k1`, Plaintext: blob.p, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" }, date);
  }
}

function hostKind(host: string): "imds" | "cerberus" | "kms" | "other" {
  if (host === "169.254.169.254") return "imds";
  if (host === "cerberus.test") return "cerberus";
  if (host.startsWith("kms.")) return "kms";
  return "other";
}
