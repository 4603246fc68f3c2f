/**
 * Secret and file paths: `<category>/<sdb-slug>/<sub/path>`, checked and percent-encoded.
 *
 * @module
 */
import { InvalidInputError } from "./errors.ts";

/** Options of {@link encodeSecretPath}. */
export interface PathRules {
  /** Allow a trailing `/` (listing a folder). */
  folder?: boolean;
  /** Fewest segments (default 2: category and SDB). */
  minSegments?: number;
  /** Name of the argument in error messages (default `path`). */
  field?: string;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Validates a secret path and returns it percent-encoded segment by segment, without a
 * leading slash. Rejects empty input, `.`/`..` and empty segments, control characters,
 * backslashes and `?`/`#`-smuggling is made harmless by encoding.
 */
export function encodeSecretPath(path: unknown, rules: PathRules = {}): string {
  const field = rules.field ?? "path";
  if (typeof path !== "string") throw new InvalidInputError(field, `must be a string, got ${path === null ? "null" : typeof path}`);
  let rest = path.startsWith("/") ? path.slice(1) : path;
  const folder = rest.endsWith("/");
  if (folder) {
    if (!rules.folder) throw new InvalidInputError(field, `"${shown(path)}" ends with "/"; name a secret, not a folder`);
    rest = rest.slice(0, -1);
  }
  if (!rest) throw new InvalidInputError(field, "is empty");
  if (CONTROL.test(rest)) throw new InvalidInputError(field, "contains a control character");
  if (rest.includes("\\")) throw new InvalidInputError(field, `"${shown(path)}" contains a backslash`);
  const segments = rest.split("/");
  segments.forEach((segment, index) => {
    if (segment === "") throw new InvalidInputError(field, `"${shown(path)}" has an empty segment at position ${index + 1}`);
    if (segment === "." || segment === "..") throw new InvalidInputError(field, `"${shown(path)}" contains a "${segment}" segment`);
  });
  const min = rules.minSegments ?? 2;
  if (segments.length < min) {
    throw new InvalidInputError(field, `"${shown(path)}" needs at least ${min} segments: <category>/<sdb>${min > 2 ? "/<name>" : ""}`);
  }
  try {
    return segments.map(encodeURIComponent).join("/") + (folder ? "/" : "");
  } catch {
    throw new InvalidInputError(field, "is not well-formed Unicode (a lone surrogate)");
  }
}

function shown(path: string): string {
  return path.length > 120 ? `${path.slice(0, 117)}...` : path;
}
