/**
 * Small HTTP helpers shared by the emulated services: bodies, dates and typed JSON reading.
 *
 * @module
 */

/** An RFC 7231 IMF-fixdate, as servers put in the `Date` header. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** A JSON response with the given status and extra headers. */
export function jsonResponse(status: number, body: unknown, headers: HeadersInit = {}): Response {
  const out = new Headers(headers);
  if (!out.has("content-type")) out.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: out });
}

/** A plain-text response. */
export function textResponse(status: number, body: string, contentType = "text/plain; charset=utf-8"): Response {
  return new Response(body, { status, headers: { "content-type": contentType } });
}

/** A response without a body (`204`, `404` with an empty body, …). */
export function emptyResponse(status: number, headers: HeadersInit = {}): Response {
  return new Response(null, { status, headers });
}

/** Returns `response` with its `Date` header set to the given server time. */
export function withDate(response: Response, nowMs: number): Response {
  const headers = new Headers(response.headers);
  headers.set("date", httpDate(nowMs));
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** The outcome of reading a request body with a size limit. */
export type BodyRead = { ok: true; bytes: Uint8Array } | { ok: false; reason: "too-large" | "unreadable" };

/** Reads the whole request body, refusing more than `limit` bytes. */
export async function readBody(request: Request, limit: number): Promise<BodyRead> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (Number.isFinite(declared) && declared > limit) return { ok: false, reason: "too-large" };
  if (request.body === null) return { ok: true, bytes: new Uint8Array(0) };
  try {
    const bytes = new Uint8Array(await request.arrayBuffer());
    return bytes.length > limit ? { ok: false, reason: "too-large" } : { ok: true, bytes };
  } catch {
    return { ok: false, reason: "unreadable" };
  }
}

/** Parses JSON text; `undefined` when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** True for a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The string field `name` of a JSON object, or `undefined` when absent or not a string. */
export function stringField(record: Record<string, unknown>, name: string): string | undefined {
  const value = record[name];
  return typeof value === "string" ? value : undefined;
}

/** Escapes text for XML element content and attribute values. */
export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Builds a small XML element tree from nested objects (strings are text nodes). */
export function xmlElement(name: string, content: XmlContent): string {
  if (typeof content === "string") return `<${name}>${xmlEscape(content)}</${name}>`;
  const inner = Object.entries(content)
    .filter((entry): entry is [string, XmlContent] => entry[1] !== undefined)
    .map(([child, value]) => xmlElement(child, value))
    .join("");
  return `<${name}>${inner}</${name}>`;
}

/** Content of an XML element built by {@link xmlElement}. */
export type XmlContent = string | { [child: string]: XmlContent | undefined };
