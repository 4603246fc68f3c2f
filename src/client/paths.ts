/**
 * Secret and file paths, `<category>/<sdb-slug>/<sub/path>`: checked, then percent-encoded
 * segment by segment.
 *
 * @module
 */
import { InvalidInputError } from "../errors.ts";
import { hasControl, sanitize } from "../internal/text.ts";

/** What a path must look like. */
export interface PathRules {
  /** Allow a trailing `/` (listing a folder). */
  folder?: boolean;
  /** Fewest segments (default 2: category and SDB). */
  minSegments?: number;
  /** Name of the argument in error messages (default `path`). */
  field?: string;
}

const UNRESERVED = /^[\w.~-]+(?:\/[\w.~-]+)*$/;

/**
 * Returns the path percent-encoded per segment, without a leading slash. Refuses non-strings,
 * empty paths and segments, `.` and `..`, control characters, backslashes and lone surrogates.
 */
export function encodeSecretPath(path: unknown, rules: PathRules = {}): string {
  const field = rules.field ?? "path";
  const refuse = (problem: string) => new InvalidInputError(problem, { field });
  if (typeof path !== "string") throw refuse(`must be a string, got ${path === null ? "null" : typeof path}`);
  const shown = () => `"${sanitize(path, 120)}"`;
  let rest = path.startsWith("/") ? path.slice(1) : path;
  const folder = rest.endsWith("/");
  if (folder) {
    if (!rules.folder) throw refuse(`${shown()} ends with "/"; name a secret, not a folder`);
    rest = rest.slice(0, -1);
  }
  if (!rest) throw refuse("is empty");
  // Unreserved characters only (the usual path): percent-encoding would leave it as it is.
  const plain = UNRESERVED.test(rest);
  if (!plain && hasControl(rest)) throw refuse("contains a control character");
  if (!plain && rest.includes("\\")) throw refuse(`${shown()} contains a backslash`);
  const segments = rest.split("/");
  segments.forEach((segment, index) => {
    if (segment === "") throw refuse(`${shown()} has an empty segment at position ${index + 1}`);
    if (segment === "." || segment === "..") throw refuse(`${shown()} contains a "${segment}" segment`);
  });
  const min = rules.minSegments ?? 2;
  if (segments.length < min) {
    throw refuse(`${shown()} needs at least ${min} segments: <category>/<sdb>${min > 2 ? "/<name>" : ""}`);
  }
  if (plain) return rest + (folder ? "/" : "");
  try {
    return segments.map(encodeURIComponent).join("/") + (folder ? "/" : "");
  } catch {
    throw refuse("is not well-formed Unicode (a lone surrogate)");
  }
}
