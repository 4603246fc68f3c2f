/**
 * How a command of the command line is described: its name, arguments, options, summary and
 * example. One table of these drives parsing, `--help` and shell completion.
 *
 * @module
 */

/** One option of a command (or of every command). */
export interface OptionSpec {
  /** The long name without dashes, e.g. `key` for `--key`. */
  readonly name: string;
  /** A one-letter alias without the dash, e.g. `r` for `-r`. */
  readonly short?: string;
  /** `flag` takes no value; `value` takes one (`--key K` or `--key=K`); `list` takes one each time and may repeat. */
  readonly kind: "flag" | "value" | "list";
  /** The value's placeholder in help, e.g. `<key>`. */
  readonly placeholder?: string;
  /** The values it accepts, when they are a fixed set (checked when parsing, offered by completion). */
  readonly choices?: readonly string[];
  /** What completion offers for the value: a local file, or nothing in particular. */
  readonly complete?: "file";
  /** One line of help. */
  readonly help: string;
}

/** What a positional argument names, for completion. */
export type ArgumentKind = "secret-path" | "file-path" | "sdb" | "local-file" | "word";

/** One command, e.g. `read` or `file get`. */
export interface CommandSpec {
  /** The words that select it: `read`, or `file get`. */
  readonly name: string;
  /** The positional arguments in usage form, e.g. `<path> [k=v ...]`. */
  readonly usage: string;
  /** Fewest and most positional arguments (`Infinity` for no limit). */
  readonly args: readonly [min: number, max: number];
  /** What the positional arguments name, in order; the last one repeats. */
  readonly argKinds?: readonly ArgumentKind[];
  /** One line: what it does. */
  readonly summary: string;
  /** More lines of help after the summary (optional). */
  readonly details?: string;
  /** One example command line, starting with `cerberus-edge`. */
  readonly example: string;
  /** Its own options. */
  readonly options: readonly OptionSpec[];
}
