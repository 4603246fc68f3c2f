/**
 * Parses the command line against the table in `commands.ts`: the command (one word, or two for
 * `file …` and `sdb …`), its positional arguments and its options. Global options may come
 * anywhere; a command's own options after the command's name. `--` ends the options.
 *
 * @module
 */
import { InvalidInputError } from "../errors.ts";
import { sanitize } from "../internal/text.ts";
import { COMMANDS, GLOBAL_OPTIONS, GROUPS, SHELLS, subcommandsOf } from "./commands.ts";
import type { CommandSpec, OptionSpec } from "./spec.ts";

/** A mistake in the command line's arguments; exit code 2. */
export class UsageError extends InvalidInputError {
  /** @param message what is wrong, one line. */
  constructor(message: string) {
    super(message, { field: "arguments" });
    this.message = message;
  }
}

/** Option values by long name: a string, a list of strings, or `true` for a flag. */
export type OptionValues = Readonly<Record<string, string | readonly string[] | true | undefined>>;

/** The parsed command line. */
export interface Parsed {
  /** The command; `undefined` with `help` or `version` and no command. */
  readonly command: CommandSpec | undefined;
  /** Its positional arguments (for `exec`, the command to run). */
  readonly args: readonly string[];
  /** Every option given, global or the command's own. */
  readonly options: OptionValues;
  /** `-h`, `--help` or the `help` command: print help (of `command` when set) and nothing else. */
  readonly help: boolean;
  /** `--version`. */
  readonly version: boolean;
}

/** A user-supplied argument, one line and at most 120 characters, for an error message. */
export function shown(text: string): string {
  const flat = sanitize(text, 2000);
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

const JSON_ERRORS: OptionSpec = { name: "json-errors", kind: "flag", help: "the same as the global --json" };

const byName = new Map(COMMANDS.map((c) => [c.name, c]));

/** The command named by `words` (`["file", "get"]`), if any. */
function commandNamed(words: readonly string[]): CommandSpec | undefined {
  return byName.get(GROUPS.has(words[0] ?? "") ? words.slice(0, 2).join(" ") : words[0] ?? "");
}

/**
 * Parses the arguments after the program name. Help wins over everything (even a mistake),
 * then `--version`; otherwise the first mistake is thrown.
 *
 * @throws {UsageError} for an unknown command or option, a bad option value, a missing or extra argument.
 */
export function parseArgs(argv: readonly string[]): Parsed {
  const words: string[] = [];
  const options: Record<string, string | string[] | true> = {};
  let command: CommandSpec | undefined;
  let afterDashes: string[] | undefined;
  let problem: UsageError | undefined;
  const fail = (message: string) => void (problem ??= new UsageError(message));

  const find = (name: string, short: boolean): OptionSpec | undefined => {
    const match = (o: OptionSpec) => (short ? o.short === name : o.name === name);
    // The global --json under a name no command uses otherwise (write's --json reads a file).
    if (!short && name === "json-errors") return JSON_ERRORS;
    return command?.options.find(match) ?? GLOBAL_OPTIONS.find(match);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      afterDashes = argv.slice(i + 1);
      break;
    }
    const long = arg.startsWith("--");
    if (!(long || (arg.startsWith("-") && arg.length > 1))) {
      words.push(arg);
      if (!command) {
        const group = GROUPS.has(words[0]!);
        if (!group || words.length === 2) {
          command = commandNamed(words);
          if (!command) {
            fail(
              group
                ? `unknown command "${shown(words.join(" "))}": ${words[0]} takes ${subcommands(words[0]!)}`
                : `unknown command "${shown(arg)}" (try --help)`,
            );
            break;
          }
          words.length = 0;
        }
      }
      continue;
    }
    const equals = long ? arg.indexOf("=") : -1;
    const name = long ? arg.slice(2, equals < 0 ? undefined : equals) : arg.slice(1);
    const spec = find(name, !long);
    if (!spec) {
      fail(
        command && GLOBAL_OPTIONS.every((o) => o.name !== name) &&
          COMMANDS.some((c) => c.options.some((o) => o.name === name))
          ? `${arg.split("=")[0]} is not an option of ${command.name} (try cerberus-edge ${command.name} --help)`
          : `unknown option "${shown(arg.split("=")[0]!)}" (try --help)`,
      );
      continue;
    }
    if (spec.kind === "flag") {
      if (equals >= 0) fail(`--${spec.name} takes no value`);
      options[spec.name] = true;
      continue;
    }
    let value: string;
    if (equals >= 0) {
      value = arg.slice(equals + 1);
    } else if (i + 1 < argv.length) {
      value = argv[++i]!;
    } else {
      fail(`--${spec.name} needs a value: --${spec.name} ${spec.placeholder ?? "<value>"}`);
      continue;
    }
    if (value === "") fail(`--${spec.name} needs a non-empty value`);
    if (spec.choices && !spec.choices.includes(value)) {
      fail(`--${spec.name} must be one of ${spec.choices.join(", ")}, not "${shown(value)}"`);
    }
    if (spec.kind === "list") {
      options[spec.name] = [...((options[spec.name] as string[] | undefined) ?? []), value];
    } else {
      if (options[spec.name] !== undefined) fail(`--${spec.name} given more than once`);
      options[spec.name] = value;
    }
  }

  if (command?.name === "help" || options.help === true) {
    const topic = command?.name === "help" ? commandNamed([...words, ...(afterDashes ?? [])]) : command;
    return { command: topic, args: [], options, help: true, version: false };
  }
  if (options.version === true) return { command, args: [], options, help: false, version: true };
  if (problem) throw problem;
  if (!command) {
    if (words.length > 0) throw new UsageError(`${words[0]} needs a sub-command: ${subcommands(words[0]!)}`);
    throw new UsageError("missing command (try --help)");
  }
  let args = [...words, ...(afterDashes ?? [])];
  if (command.name === "exec") {
    if (words.length > 0) throw new UsageError("exec: put the command to run after --, e.g. exec --path P -- env");
    args = afterDashes ?? [];
    if (args.length === 0) throw new UsageError("exec needs a command after --: exec --path <path> -- <command>");
    if (!options.path) throw new UsageError("exec needs at least one --path <category>/<sdb>/<path>");
  }
  if (command.name === "write") {
    const pairs = args.slice(1);
    if (pairs.length === 0 && options.json === undefined) {
      throw new UsageError("write needs key=value pairs or --json <file|->");
    }
    const bad = pairs.find((pair) => pair.indexOf("=") <= 0);
    if (bad !== undefined) throw new UsageError(`"${shown(bad.slice(0, 40))}" is not key=value`);
  }
  if (command.name === "completion" && args[0] !== undefined && !SHELLS.includes(args[0])) {
    throw new UsageError(`completion supports ${SHELLS.join(", ")}, not "${shown(args[0])}"`);
  }
  const [min, max] = command.args;
  if (args.length < min) {
    throw new UsageError(`${command.name} needs ${command.usage}: cerberus-edge ${command.name} ${command.usage}`);
  }
  if (args.length > max) {
    throw new UsageError(
      max === 0
        ? `${command.name} takes no arguments, got ${args.length}`
        : `${command.name} takes ${command.usage}, got ${args.length} arguments`,
    );
  }
  return { command, args, options, help: false, version: false };
}

function subcommands(group: string): string {
  return subcommandsOf(group).join(", ");
}
