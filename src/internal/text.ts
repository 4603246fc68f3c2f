/**
 * The one sanitiser for text that did not come from this library (server messages, ARNs, key
 * ids, user input echoed in errors), and the rules for what may go into a header or a URL host.
 *
 * @module
 */

// C0 and C1 controls, DEL, and the line/paragraph separators: nothing that moves a cursor.
// Matching control characters is the point of this pattern, hence the lint exception.
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** True when `text` holds a control character (or a line or paragraph separator). */
export function hasControl(text: string): boolean {
  CONTROLS.lastIndex = 0;
  return CONTROLS.test(text);
}

/**
 * One line of printable text, at most `max` characters: control characters (ESC, CR, LF
 * included) become a space and `secrets` (tokens, keys) become `[redacted]`.
 */
export function sanitize(text: unknown, max = 200, secrets: readonly (string | undefined)[] = []): string {
  let out = String(text);
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  out = out.replace(CONTROLS, " ").trim();
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

/** True for text a header value can carry unchanged: visible ASCII, no spaces. */
export function isHeaderSafe(value: unknown): value is string {
  return typeof value === "string" && /^[\x21-\x7e]+$/.test(value);
}

/** True for `localhost`, 127.0.0.0/8 and `[::1]` (the host part of a URL, as `URL.hostname` gives it). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" ||
    /^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)$/.test(hostname);
}
