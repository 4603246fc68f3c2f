/**
 * The one way a payload from the network becomes a value: bytes → UTF-8 text → JSON → a valibot
 * schema, with failures that name the field and the problem but never echo a value (it may be a
 * token or a secret).
 *
 * @module
 */
import * as v from "valibot";

const utf8 = new TextDecoder();

/** Bytes as UTF-8 text (malformed sequences become U+FFFD). */
export function text(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Describes what a value is without showing it: `a string`, `null`, `an array`, … */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : type === "undefined" ? "nothing" : `a ${type}`;
}

/** A string matching `pattern`; `message` names the field and the problem, never the value. */
export function matching(pattern: RegExp, message: string) {
  return v.pipe(v.string(), v.check((text) => pattern.test(text), message));
}

/** True for a JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses JSON text; `undefined` for anything that is not JSON (the parser's message is dropped). */
export function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** Checks `value` against `schema`; on failure returns the problem as one line. */
export function check<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
): { ok: true; value: v.InferOutput<S> } | { ok: false; problem: string } {
  const parsed = v.safeParse(schema, value);
  if (parsed.success) return { ok: true, value: parsed.output };
  const problem = parsed.issues
    .slice(0, 3)
    .map((issue) => {
      const where = issue.path?.map((p) => String(p.key)).join(".") || "(root)";
      if (issue.kind === "schema") {
        return issue.input === undefined
          ? `${where} is missing`
          : `${where}: expected ${issue.expected}, got ${kindOf(issue.input)}`;
      }
      // Our own check messages never include the input; valibot's defaults ("Invalid …: Received …") may.
      return issue.message.startsWith("Invalid ")
        ? `${where} failed its ${issue.type} check`
        : `${where}: ${issue.message}`;
    })
    .join("; ");
  return { ok: false, problem };
}

/**
 * Decodes a JSON body and validates it. `fail` builds the error from a problem such as
 * `is not JSON (text/html, 120 bytes)` or `is invalid: data.keys: expected Array, got a string`.
 */
export function decodeJson<S extends v.GenericSchema>(
  bytes: Uint8Array,
  schema: S,
  fail: (problem: string) => Error,
  contentType?: string | null,
): v.InferOutput<S> {
  const json = parseJson(text(bytes));
  if (!json) {
    throw fail(
      bytes.length === 0
        ? "is empty"
        : `is not JSON (${(contentType ?? "no content type").split(";")[0]}, ${bytes.length} bytes)`,
    );
  }
  const result = check(schema, json.value);
  if (!result.ok) throw fail(`is invalid: ${result.problem}`);
  return result.value;
}
