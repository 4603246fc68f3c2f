/**
 * The process side of `cerberus-edge exec`: runs a command with variables added to its
 * environment, passes signals on to it and ends with its exit code. The variables are handed
 * to the child process only: nothing is written to disk, and no value appears in any output or
 * error message. Runs on Node, Bun and Deno (Deno needs `--allow-run`).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import process from "node:process";
import { InvalidInputError } from "../errors.ts";
import { sanitize } from "../internal/text.ts";

/** What {@link execCommand} runs, and with which environment. */
export interface ExecOptions {
  /** The command and its arguments (argv[0] is looked up on PATH like a shell would). */
  command: readonly string[];
  /** The environment the command starts from (the CLI's own environment). */
  baseEnv: Readonly<Record<string, string | undefined>>;
  /** Variables to add (name → value). */
  add: Readonly<Record<string, string>>;
  /** Replace variables already set in baseEnv; otherwise those keep their value. */
  override: boolean;
}

/** The signals passed on to the command while it runs. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];

const FIELD = "exec";

/**
 * The environment the command gets: `baseEnv` without its `undefined` entries, plus `add`. A
 * variable set in `baseEnv` (even to the empty string) keeps its value unless `override`.
 *
 * @param options the base environment, the variables to add and whether they replace.
 * @returns a new plain object (a variable named `__proto__` is an ordinary own property of it).
 */
export function execEnvironment(
  options: Pick<ExecOptions, "baseEnv" | "add" | "override">,
): Record<string, string> {
  const env = new Map<string, string>();
  for (const [name, value] of Object.entries(options.baseEnv)) {
    if (value !== undefined) env.set(name, value);
  }
  for (const [name, value] of Object.entries(options.add)) {
    if (options.override || !env.has(name)) env.set(name, value);
  }
  // fromEntries defines properties, so `__proto__` cannot replace the prototype.
  return Object.fromEntries(env);
}

const shown = (text: string) => `"${sanitize(text, 80)}"`;

/**
 * Refuses what the runtime's spawn would refuse with an error quoting the offending string:
 * that string may be a secret value.
 */
function checkStartable(command: readonly string[], add: Readonly<Record<string, string>>): void {
  const program = command[0];
  if (program === undefined || program === "") {
    throw new InvalidInputError("needs a command after --: exec --path <path> -- <command>", { field: FIELD });
  }
  command.forEach((arg, index) => {
    if (arg.includes("\0")) {
      throw new InvalidInputError(`argument ${index} of the command holds a NUL character`, { field: FIELD });
    }
  });
  for (const [name, value] of Object.entries(add)) {
    if (name === "" || name.includes("=") || name.includes("\0")) {
      throw new InvalidInputError(`${shown(name)} is not a valid variable name`, { field: FIELD });
    }
    if (value.includes("\0")) {
      throw new InvalidInputError(
        `the value of ${shown(name)} holds a NUL character, which a variable cannot hold`,
        { field: FIELD },
      );
    }
  }
}

/** The error for a command that could not be started; never the runtime's own message. */
function startError(program: string, error: unknown): InvalidInputError {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return new InvalidInputError(`command not found: ${shown(program)}`, { field: FIELD });
  if (code === "EACCES") {
    return new InvalidInputError(`command is not executable: ${shown(program)} (permission denied)`, {
      field: FIELD,
    });
  }
  const reason = typeof code === "string" ? ` (${sanitize(code, 40)})` : "";
  return new InvalidInputError(`could not start ${shown(program)}${reason}`, { field: FIELD });
}

/** The exit code a shell reports for a child: its own code, or 128 + n when signal n ended it. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : (constants.signals as Record<string, number | undefined>)[signal];
  return number === undefined ? 1 : 128 + number;
}

/**
 * Runs `options.command` with {@link execEnvironment} as its whole environment, its standard
 * streams inherited and no shell in between (arguments and values are passed as they are,
 * never interpreted). While it runs, the signals in {@link FORWARDED_SIGNALS} that this process
 * receives are passed on to it instead of ending this process.
 *
 * @param options the command, the base environment, the variables to add and whether they replace.
 * @returns the code to exit with: the command's exit code, or 128 + the signal's number when a
 *   signal ended it.
 * @throws {InvalidInputError} field `exec`: the command is empty, was not found, is not
 *   executable or could not be started, or a name, value or argument cannot be passed to a
 *   process. The message names the command or variable, never a value.
 */
export function execCommand(options: ExecOptions): Promise<number> {
  try {
    checkStartable(options.command, options.add);
  } catch (error) {
    return Promise.reject(error);
  }
  const [program = "", ...args] = options.command;
  const env = execEnvironment(options);

  return new Promise<number>((resolve, reject) => {
    let child: ReturnType<typeof spawn> | undefined;
    // One listener per signal: not every runtime passes the signal's name to its listener.
    const listeners = new Map<NodeJS.Signals, () => void>();
    const cleanUp = () => {
      for (const [signal, listener] of listeners) process.off(signal, listener);
    };
    // Installed before the spawn, so no signal finds this process without them.
    for (const signal of FORWARDED_SIGNALS) {
      const listener = () => {
        // process.kill, not child.kill: after child.kill, Deno reports the child as ended by that
        // signal even when it handled it and exited with a code of its own.
        if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
        try {
          process.kill(child.pid, signal);
        } catch {
          // The command has just ended: its exit is on its way.
        }
      };
      try {
        process.on(signal, listener);
        listeners.set(signal, listener);
      } catch {
        // A platform without this signal (Windows has no SIGUSR1, for instance).
      }
    }

    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      cleanUp();
      outcome();
    };

    try {
      child = spawn(program, args, { env, stdio: "inherit" });
    } catch (error) {
      finish(() => reject(startError(program, error)));
      return;
    }
    const started = child;
    started.on("error", (error) => {
      // After a successful start, an error is a failed kill; the exit still follows.
      if (started.pid === undefined) finish(() => reject(startError(program, error)));
    });
    started.on("exit", (code, signal) => finish(() => resolve(exitCodeOf(code, signal))));
  });
}
