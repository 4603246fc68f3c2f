/**
 * Validation of everything that crosses a boundary, with messages that name the field and
 * the problem but never echo the value (it may be a token or a secret).
 *
 * @module
 */
import type * as v from "valibot";

/** Describes what a value is without showing it: `a string`, `a number`, `null`, `an array`. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : type === "undefined" ? "nothing" : `a ${type}`;
}

/** Joins valibot issues into one line naming the fields, without the offending values. */
export function issueSummary(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const where = issue.path?.map((p) => String(p.key)).join(".") || "(root)";
      if (issue.kind === "schema" && issue.input === undefined) return `${where}: missing`;
      if (issue.kind === "schema") return `${where}: expected ${issue.expected}, got ${kindOf(issue.input)}`;
      // Our own messages never include the input; valibot's defaults ("Invalid …: … received …") may.
      return issue.message.startsWith("Invalid ") ? `${where}: failed ${issue.type} check` : `${where}: ${issue.message}`;
    })
    .join("; ");
}

/** Parses JSON text; returns `undefined` for anything that is not JSON (never rethrows the parser's message). */
export function parseJsonText(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}
