/**
 * How the command line prints a secret (`read <path> --format F`) and names its keys as
 * environment variables (`exec --prefix X --uppercase`). Pure functions: no I/O, no runtime API.
 *
 * A key that cannot be a variable name is refused with an {@link InvalidInputError} naming it,
 * never dropped or renamed; error messages name keys but never contain a value.
 *
 * @module
 */
import { InvalidInputError } from "../errors.ts";
import { sanitize } from "../internal/text.ts";

/**
 * An output format of `read`:
 * - `json`: the map as indented JSON;
 * - `env`: `KEY=value` lines, values raw (for consumers that do not unquote, such as an env file);
 * - `dotenv`: `KEY="value"` lines, double-quoted and escaped;
 * - `shell`: `export KEY='value'` lines, safe to `eval` in any POSIX shell.
 */
export type SecretFormat = "json" | "env" | "dotenv" | "shell";

/** Every {@link SecretFormat}, in the order help lists them. */
export const SECRET_FORMATS: readonly SecretFormat[] = ["json", "env", "dotenv", "shell"];

/** Options that turn a secret key into an environment variable name. */
export interface EnvNameOptions {
  /** Put before every key, e.g. `APP_`; itself a valid variable name when not empty. */
  prefix?: string;
  /** Uppercase the whole name (prefix included). */
  uppercase?: boolean;
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME_RULE = "ASCII letters, digits and _, not starting with a digit";

/** True when `name` is a portable environment / shell variable name. */
function isVariableName(name: string): boolean {
  return VARIABLE_NAME.test(name);
}

/** A key (or prefix) as an error message may show it: one printable line, quoted, at most 80 characters. */
function quoted(text: string): string {
  return `"${sanitize(text, 80)}"`;
}

/** Refuses a NUL in the value of `key`, which no environment variable or shell variable can hold. */
function refuseNul(key: string, value: string, field: string): void {
  if (value.includes("\0")) {
    throw new InvalidInputError(
      `the value of key ${quoted(key)} holds a NUL character, which a variable cannot hold`,
      { field },
    );
  }
}

/**
 * The text `read --format <format>` prints for `data`: one line per key (one document for
 * `json`), keys in the map's order, newline-terminated. An empty map is `{}\n` in `json` and
 * the empty string in the other formats.
 *
 * For `env`, `dotenv` and `shell` every key must match `[A-Za-z_][A-Za-z0-9_]*`. `env` refuses a
 * value with a line break (CR or LF), which it cannot represent unquoted; `env`, `dotenv` and
 * `shell` refuse a value with a NUL. `dotenv` escapes `\`, `"`, LF, CR and `$` (as `\$`, so no
 * loader expands variables); `shell` single-quotes, writing each `'` as `'\''`.
 *
 * @param data the secret: key → value.
 * @param format the output format.
 * @returns the text to print.
 * @throws {InvalidInputError} (field `--format`) for a key that is not a valid variable name or a
 *   value the format cannot carry; the message names the key, never the value.
 */
export function formatSecret(data: Readonly<Record<string, string>>, format: SecretFormat): string {
  if (format === "json") return `${JSON.stringify(data, null, 2)}\n`;
  const line = LINE[format];
  // Callers from JavaScript may pass anything; the type alone does not stop them.
  if (!Object.hasOwn(LINE, format) || line === undefined) {
    throw new InvalidInputError(`unknown format ${quoted(String(format))}; choose from ${SECRET_FORMATS.join(", ")}`, {
      field: "--format",
    });
  }
  let out = "";
  for (const [key, value] of Object.entries(data)) {
    if (!isVariableName(key)) {
      throw new InvalidInputError(
        `key ${quoted(key)} is not a valid variable name (${NAME_RULE}); use --format json`,
        { field: "--format" },
      );
    }
    refuseNul(key, value, "--format");
    out += `${line(key, value)}\n`;
  }
  return out;
}

const DOTENV_ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\r": "\\r",
  $: "\\$",
};

/** One line (without its newline) of each line-based format, for a valid key and a NUL-free value. */
const LINE: Readonly<Record<Exclude<SecretFormat, "json">, (key: string, value: string) => string>> = {
  env(key, value) {
    if (/[\n\r]/.test(value)) {
      throw new InvalidInputError(
        `the value of key ${quoted(key)} holds a line break, which the env format cannot represent; ` +
          "use --format dotenv or --format shell",
        { field: "--format" },
      );
    }
    return `${key}=${value}`;
  },
  dotenv: (key, value) => `${key}="${value.replace(/[\\"\n\r$]/g, (c) => DOTENV_ESCAPES[c] ?? c)}"`,
  // Inside single quotes a POSIX shell expands nothing; a quote closes, is escaped, and reopens.
  shell: (key, value) => `export ${key}='${value.replaceAll("'", "'\\''")}'`,
};

/** Refuses a non-empty prefix that is not itself a valid variable name. */
function checkPrefix(prefix: string): void {
  if (prefix !== "" && !isVariableName(prefix)) {
    throw new InvalidInputError(`${quoted(prefix)} is not a valid variable name (${NAME_RULE})`, {
      field: "--prefix",
    });
  }
}

/**
 * The environment variable name `exec` gives a secret key: `prefix + key`, uppercased when
 * asked. The name is checked before uppercasing, so a key that is not a valid name is refused
 * even when its uppercase would be one (`straße` does not become `STRASSE`).
 *
 * @param key the secret key.
 * @param options prefix and case.
 * @returns a name matching `[A-Za-z_][A-Za-z0-9_]*`.
 * @throws {InvalidInputError} field `--prefix` for an invalid prefix; field `exec`, naming the
 *   key, when prefix + key is not a valid variable name.
 */
export function envName(key: string, options: EnvNameOptions = {}): string {
  const prefix = options.prefix ?? "";
  checkPrefix(prefix);
  const name = prefix + key;
  if (!isVariableName(name)) {
    const withPrefix = prefix === "" ? "" : ` with prefix ${quoted(prefix)}`;
    throw new InvalidInputError(
      `key ${quoted(key)}${withPrefix} does not make a valid variable name (${NAME_RULE}); try --prefix`,
      { field: "exec" },
    );
  }
  // The name is ASCII here, so this is ASCII uppercasing whatever the locale.
  return options.uppercase ? name.toUpperCase() : name;
}

/**
 * The environment `exec` adds for `secrets`: variable name ({@link envName}) → value. Secrets
 * are merged in order and a later one wins; so does a later key of the same secret when two
 * keys make the same name (`db` and `DB` with `uppercase`).
 *
 * @param secrets the secrets, in order of increasing precedence.
 * @param options prefix and case, as for {@link envName}.
 * @returns a new plain object (a key `__proto__` is an ordinary own property of it).
 * @throws {InvalidInputError} as {@link envName} does, or (field `exec`) for a value holding a
 *   NUL, naming the key.
 */
export function secretEnv(
  secrets: readonly Readonly<Record<string, string>>[],
  options: EnvNameOptions = {},
): Record<string, string> {
  checkPrefix(options.prefix ?? "");
  const env: Record<string, string> = {};
  for (const data of secrets) {
    for (const [key, value] of Object.entries(data)) {
      const name = envName(key, options);
      refuseNul(key, value, "exec");
      // Plain assignment of `__proto__` would replace the prototype instead of adding a variable.
      Object.defineProperty(env, name, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return env;
}
