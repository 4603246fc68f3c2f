/**
 * The emulated AWS STS endpoint (query protocol): `GetCallerIdentity` (SigV4-verified, the call
 * Cerberus replays for STS auth) and `AssumeRoleWithWebIdentity` (unsigned). XML by default,
 * JSON when the caller sends `Accept: application/json`.
 *
 * @module
 */
import { utf8Text } from "../encoding.ts";
import { httpDate, readBody, type XmlContent, xmlElement } from "../http.ts";
import type { FetchHandler, TimeSource } from "../types.ts";
import type { AwsIdentityStore } from "./identity.ts";
import { isKnownRegion, regionalStsHost, regionOfAwsHost } from "./regions.ts";
import { type SigV4Failure, verifySigV4 } from "./sigv4-verify.ts";
import type { WebIdentityRegistry } from "./web-identity.ts";

/** What the STS service needs. */
export interface StsServiceOptions {
  /** Where access keys are looked up and role sessions issued. */
  identities: AwsIdentityStore;
  /** Accepted web identity tokens. */
  webIdentities: WebIdentityRegistry;
  /** Server time. */
  now: TimeSource;
}

/** STS's clock-skew tolerance for SigV4. */
export const STS_MAX_SKEW_MS = 15 * 60_000;

const NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
const API_VERSION = "2011-06-15";

/** An STS error, rendered as XML or JSON like the real service. */
export function stsErrorResponse(
  code: string,
  message: string,
  status: number,
  asJson: boolean,
  nowMs: number,
): Response {
  const requestId = crypto.randomUUID();
  const type = status >= 500 ? "Receiver" : "Sender";
  const headers = { "x-amzn-requestid": requestId, date: httpDate(nowMs) };
  if (asJson) {
    return new Response(JSON.stringify({ Error: { Code: code, Message: message, Type: type }, RequestId: requestId }), {
      status,
      headers: { ...headers, "content-type": "application/json" },
    });
  }
  const xml = `<ErrorResponse xmlns="${NAMESPACE}">${
    xmlElement("Error", { Type: type, Code: code, Message: message })
  }${xmlElement("RequestId", requestId)}</ErrorResponse>\n`;
  return new Response(xml, { status, headers: { ...headers, "content-type": "text/xml" } });
}

/** True when the caller asked for JSON. */
export function wantsJson(request: Request): boolean {
  return (request.headers.get("accept") ?? "").toLowerCase().includes("application/json");
}

/** Creates the STS fetch handler. */
export function createStsService(options: StsServiceOptions): FetchHandler {
  return async (request) => {
    const now = options.now();
    const asJson = wantsJson(request);
    const fail = (code: string, message: string, status = 400) => stsErrorResponse(code, message, status, asJson, now);
    const read = await readBody(request, 64 * 1024);
    if (!read.ok) return fail("ValidationError", "Request body could not be read or is too large.");
    const params = requestParams(request, read.bytes);
    if (!params) return fail("MalformedQueryString", "The request could not be parsed.");
    const action = params.get("Action");
    const version = params.get("Version");
    if (version !== null && version !== API_VERSION) {
      return fail("InvalidAction", `Could not find operation ${action ?? ""} for version ${version}`);
    }
    if (action === "GetCallerIdentity") {
      const verified = await verifySigV4(request, read.bytes, {
        service: "sts",
        identities: options.identities,
        now,
        maxSkewMs: STS_MAX_SKEW_MS,
      });
      if (!verified.ok) return signatureError(verified.failure, asJson, now);
      const hostRegion = regionOfAwsHost(new URL(request.url).hostname, "sts");
      const region = verified.value.region;
      if (!isKnownRegion(region) || (hostRegion !== undefined && hostRegion !== region)) {
        return fail("SignatureDoesNotMatch", `Credential should be scoped to a valid region, not '${region}'.`, 403);
      }
      const caller = verified.value.credential;
      return respond(
        "GetCallerIdentity",
        { Arn: caller.callerArn, UserId: caller.userId, Account: caller.accountId },
        asJson,
        now,
      );
    }
    if (action === "AssumeRoleWithWebIdentity") return assumeRoleWithWebIdentity(options, params, asJson, now);
    return fail("InvalidAction", `Could not find operation ${action ?? "(none)"} for version ${API_VERSION}`);
  };
}

function assumeRoleWithWebIdentity(
  options: StsServiceOptions,
  params: URLSearchParams,
  asJson: boolean,
  now: number,
): Response {
  const fail = (code: string, message: string, status = 400) => stsErrorResponse(code, message, status, asJson, now);
  for (const name of ["RoleArn", "RoleSessionName", "WebIdentityToken"]) {
    if (!params.get(name)) {
      const member = name.charAt(0).toLowerCase() + name.slice(1);
      return fail(
        "ValidationError",
        `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      );
    }
  }
  const roleArn = params.get("RoleArn") ?? "";
  const sessionName = params.get("RoleSessionName") ?? "";
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    return fail(
      "ValidationError",
      "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
  }
  const durationText = params.get("DurationSeconds") ?? "3600";
  const duration = /^\d{1,6}$/.test(durationText) ? Number(durationText) : NaN;
  if (!(duration >= 900 && duration <= 43_200)) {
    return fail("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
  }
  const grant = options.webIdentities.get(params.get("WebIdentityToken") ?? "");
  if (!grant) {
    return fail(
      "InvalidIdentityToken",
      "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.",
    );
  }
  const role = options.identities.getRole(roleArn);
  if (!role || (grant.roleArns.length > 0 && !grant.roleArns.includes(roleArn))) {
    return fail("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403);
  }
  const credentials = options.identities.issueRoleSession(role, { sessionName, ttlMs: duration * 1000 });
  const expiration = credentials.expiration ?? new Date(now + duration * 1000);
  const partition = roleArn.split(":")[1] ?? "aws";
  const assumedArn = `arn:${partition}:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`;
  const result = {
    SubjectFromWebIdentityToken: grant.subject,
    Audience: grant.audience,
    AssumedRoleUser: { Arn: assumedArn, AssumedRoleId: `${role.roleId}:${sessionName}` },
    Credentials: {
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      SessionToken: credentials.sessionToken ?? "",
      Expiration: asJson ? expiration.getTime() / 1000 : expiration.toISOString().replace(/\.\d{3}Z$/, "Z"),
    },
    Provider: grant.provider,
  };
  return respond("AssumeRoleWithWebIdentity", result, asJson, now);
}

type ResultValue = string | number | { [key: string]: ResultValue };

function respond(action: string, result: Record<string, ResultValue>, asJson: boolean, now: number): Response {
  const requestId = crypto.randomUUID();
  const headers = { "x-amzn-requestid": requestId, date: httpDate(now) };
  if (asJson) {
    const body = { [`${action}Response`]: { [`${action}Result`]: result, ResponseMetadata: { RequestId: requestId } } };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { ...headers, "content-type": "application/json" },
    });
  }
  const xml = `<${action}Response xmlns="${NAMESPACE}">` +
    xmlElement(`${action}Result`, toXml(result)) +
    xmlElement("ResponseMetadata", { RequestId: requestId }) +
    `</${action}Response>\n`;
  return new Response(xml, { status: 200, headers: { ...headers, "content-type": "text/xml" } });
}

function toXml(value: Record<string, ResultValue>): XmlContent {
  const out: Record<string, XmlContent> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = typeof child === "object" ? toXml(child) : String(child);
  }
  return out;
}

function requestParams(request: Request, body: Uint8Array): URLSearchParams | undefined {
  const url = new URL(request.url);
  if (request.method === "GET") return url.searchParams;
  if (request.method !== "POST") return undefined;
  const text = utf8Text(body);
  if (text === undefined) return undefined;
  const params = new URLSearchParams(text);
  for (const [key, value] of url.searchParams) if (!params.has(key)) params.set(key, value);
  return params;
}

function signatureError(failure: SigV4Failure, asJson: boolean, now: number): Response {
  switch (failure.kind) {
    case "missing-auth":
      return stsErrorResponse(
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
        403,
        asJson,
        now,
      );
    case "incomplete":
      return stsErrorResponse("IncompleteSignature", failure.message, 400, asJson, now);
    case "unknown-key":
    case "invalid-token":
      return stsErrorResponse("InvalidClientTokenId", failure.message, 403, asJson, now);
    case "expired-token":
      return stsErrorResponse("ExpiredToken", failure.message, 400, asJson, now);
    case "skew":
    case "scope":
    case "mismatch":
      return stsErrorResponse("SignatureDoesNotMatch", failure.message, 403, asJson, now);
  }
}

/** The base URL Cerberus replays GetCallerIdentity to for a region (`https://sts.<region>.amazonaws.com`). */
export function stsReplayUrl(region: string): string {
  return `https://${regionalStsHost(region)}/`;
}
