/**
 * The terminal side of `cerberus-edge edit <path>` and `cerberus-edge file edit <path>`: the value
 * is written to a private temporary file, the user's editor is run on it, and the bytes it holds
 * when the editor exits come back with whether they changed. The temporary directory is removed
 * afterwards in every case, including when this process is interrupted while the editor runs.
 * Nothing here ever puts the value in an error message.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { AbortedError, InvalidInputError } from "../errors.ts";
import type { EnvLookup } from "./config.ts";

/** What {@link editInEditor} takes. */
export interface EditOptions {
  /** What the file starts with. */
  content: Uint8Array;
  /** Environment lookup for `CERBERUS_EDITOR`, `EDITOR` and `VISUAL` (see {@link editorCommand}). */
  env: EnvLookup;
  /**
   * The end of the temporary file's name, so the editor picks a mode: `.json`, or a secure
   * file's own extension. Characters outside `[A-Za-z0-9._-]` are dropped and only its last 32
   * characters are kept; no dot is added.
   */
  suffix: string;
}

/** What the editor left. */
export interface EditResult {
  /** True only when the bytes differ from the ones the file started with. */
  changed: boolean;
  /** The file's bytes when the editor exited. */
  content: Uint8Array;
}

/** The signals {@link editInEditor} intercepts while the editor runs. */
export type EditorSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

const SIGNALS: readonly EditorSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Conventional exit status of a process stopped by each signal (128 + its number). */
const SIGNAL_EXIT: Record<EditorSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * This process received SIGINT, SIGTERM or SIGHUP while {@link editInEditor} ran: the editor
 * has exited, the temporary directory is removed and the edit is discarded, whatever the editor
 * left. A command line should stop with {@link EditorInterruptedError.exitCode}.
 */
export class EditorInterruptedError extends AbortedError {
  /** The first of those signals received. */
  readonly signal: EditorSignal;
  /** The exit status a shell expects of a process stopped by that signal: 129, 130 or 143. */
  readonly exitCode: number;

  /** @param signal the first signal received; @param cause a failure of the edit meanwhile, if any. */
  constructor(signal: EditorSignal, cause?: unknown) {
    super(`editor: interrupted by ${signal}; the edit was discarded`, { step: "config", cause });
    this.signal = signal;
    this.exitCode = SIGNAL_EXIT[signal];
  }
}

const EDITOR_VARIABLES = ["CERBERUS_EDITOR", "EDITOR", "VISUAL"] as const;

/**
 * The editor's command line: the first of `CERBERUS_EDITOR`, `EDITOR` and `VISUAL` that is set
 * and not blank, else `vi`, split into words as a POSIX shell would split a simple command:
 * words are separated by blanks; `'…'` quotes literally; `"…"` quotes with `\` escaping only
 * `"`, `\`, `$` and `` ` ``; outside quotes `\` escapes the next character. Nothing is expanded
 * (no variables, globs or `~`) and no shell runs the result; for anything more, use
 * `sh -c '…' sh`. Examples: `code --wait`, `"/opt/My Editor/bin/ed" -w`.
 *
 * @param env environment lookup.
 * @returns the program and its arguments, the program first.
 * @throws {InvalidInputError} when the chosen variable has an unterminated quote or names an
 *   empty program; `field` is the variable.
 */
export function editorCommand(env: EnvLookup): string[] {
  for (const name of EDITOR_VARIABLES) {
    const value = env(name);
    if (value === undefined || value.trim() === "") continue;
    const words = splitWords(value, name);
    if (words[0] === "") throw new InvalidInputError("names an empty program", { field: name });
    return words;
  }
  return ["vi"];
}

const BLANK = new Set([" ", "\t", "\n", "\r"]);
const ESCAPABLE_IN_DOUBLE_QUOTES = new Set(['"', "\\", "$", "`"]);

/** Splits a non-blank command line into words (see {@link editorCommand}). */
function splitWords(line: string, variable: string): string[] {
  const words: string[] = [];
  let word = "";
  // A word may be empty yet present (`""`), so whether one is open is tracked apart from its text.
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (BLANK.has(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new InvalidInputError("has an unterminated single quote", { field: variable });
      word += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new InvalidInputError("has an unterminated double quote", { field: variable });
        const d = line[i]!;
        if (d === '"') break;
        const next = line[i + 1];
        if (d === "\\" && next !== undefined && ESCAPABLE_IN_DOUBLE_QUOTES.has(next)) {
          word += next;
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[i + 1];
      i += 2;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The temporary file's name: a fixed stem and the sanitised suffix. */
function fileName(suffix: string): string {
  return `cerberus-edge${suffix.replace(/[^A-Za-z0-9._-]/g, "").slice(-32)}`;
}

/**
 * Opens `options.content` in the user's editor and returns what the file holds when it exits.
 *
 * 1. Creates a private directory under `os.tmpdir()` with `mkdtemp` (mode 0700) and in it a new
 *    file of mode 0600 named `cerberus-edge` + the sanitised suffix, holding the content.
 * 2. Runs {@link editorCommand} with the file's path as its last argument, on this terminal
 *    (`stdio: "inherit"`), without a shell.
 * 3. When the editor exits with code 0, reads the file back; `changed` compares the bytes.
 * 4. Removes the directory with everything in it (including what the editor put next to the
 *    file, such as a swap or backup file), whatever happened.
 *
 * Signals: from the start until the directory is removed, SIGINT, SIGTERM and SIGHUP do not
 * terminate this process. Each one received is passed on to the editor while it runs (from a
 * terminal it usually got the signal already, the whole foreground process group does). Then this
 * function waits for the editor to exit however it chooses, removes the directory and rejects with
 * {@link EditorInterruptedError}, even if the editor saved and exited 0. A signal before the editor
 * starts means it is not started. The listeners are removed before the promise settles, so a later
 * signal acts as it did before the call. An editor that ignores the signal keeps this process
 * waiting until the user leaves it; SIGKILL ends the wait but leaves the directory behind.
 *
 * @param options the content, the environment lookup and the file name suffix.
 * @returns whether the editor changed the bytes, and the bytes.
 * @throws {InvalidInputError} (`field` `editor`) when the editor cannot be started (not found,
 *   not executable), exits non-zero or is killed by a signal, when the file is gone when it exits,
 *   when the temporary file cannot be created, or when the temporary directory cannot be removed
 *   (the message names it: it still holds a copy of the value); also from {@link editorCommand}.
 * @throws {EditorInterruptedError} when this process received SIGINT, SIGTERM or SIGHUP meanwhile.
 */
export async function editInEditor(options: EditOptions): Promise<EditResult> {
  const [program, ...args] = editorCommand(options.env);
  let received: EditorSignal | undefined;
  let child: ChildProcess | undefined;
  let exited = false;
  // Installed for the three SIGNALS only.
  const onSignal = (signal: NodeJS.Signals) => {
    received ??= signal as EditorSignal;
    if (child !== undefined && !exited) {
      try {
        child.kill(signal);
      } catch {
        // it exited in the meantime
      }
    }
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);

  let dir: string | undefined;
  let outcome: { result: EditResult } | { error: unknown };
  try {
    let file: string;
    try {
      dir = await mkdtemp(join(tmpdir(), "cerberus-edge-"));
      file = join(dir, fileName(options.suffix));
      const handle = await open(file, "wx", 0o600);
      try {
        await handle.writeFile(options.content);
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw new InvalidInputError(`cannot create a temporary file under ${tmpdir()} (${codeOf(error)})`, {
        field: "editor",
      });
    }
    if (received !== undefined) throw new EditorInterruptedError(received);
    const exit = await runEditor(program!, [...args, file], (started) => {
      child = started;
      started.once("exit", () => (exited = true));
    });
    if (exit.code !== 0) {
      const how = exit.signal === null ? `exited with code ${exit.code}` : `was killed by ${exit.signal}`;
      throw new InvalidInputError(`"${program}" ${how}; the edit was discarded`, { field: "editor" });
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (error) {
      throw new InvalidInputError(`cannot read the edited file back (${codeOf(error)}); the edit was discarded`, {
        field: "editor",
      });
    }
    outcome = { result: { changed: !sameBytes(bytes, options.content), content: bytes } };
  } catch (error) {
    outcome = { error };
  }

  try {
    if (dir !== undefined) {
      try {
        await rm(dir, { recursive: true, force: true });
      } catch (error) {
        throw new InvalidInputError(
          `cannot remove the temporary directory ${dir} (${codeOf(error)}); it holds a copy of the value: delete it`,
          { field: "editor" },
        );
      }
    }
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
  if (received !== undefined) {
    const cause = "error" in outcome ? outcome.error : undefined;
    throw cause instanceof EditorInterruptedError ? cause : new EditorInterruptedError(received, cause);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.result;
}

/** How the editor exited. */
interface EditorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the editor on this terminal and resolves when it exits; rejects when it cannot start. */
function runEditor(program: string, args: string[], started: (child: ChildProcess) => void): Promise<EditorExit> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(program, args, { stdio: "inherit" });
    } catch (error) {
      reject(cannotStart(program, error));
      return;
    }
    started(child);
    child.on("error", (error) => {
      // After a successful start an error can only be a failed kill: keep waiting for the exit.
      if (child.pid === undefined) reject(cannotStart(program, error));
    });
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
}

function cannotStart(program: string, error: unknown): InvalidInputError {
  const code = codeOf(error);
  const why = code === "ENOENT" ? "not found" : code;
  return new InvalidInputError(
    `cannot run "${program}" (${why}); set CERBERUS_EDITOR or EDITOR to your editor's command, e.g. "code --wait"`,
    { field: "editor" },
  );
}

/** The `code` of a Node system error, e.g. `ENOENT`; never its message. */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "unknown error";
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
