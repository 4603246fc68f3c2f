/**
 * The command line's {@link CliSystem} on the Node APIs that Node, Bun and Deno all provide:
 * local files, child processes, the editor and terminal prompts. Each part loads its modules
 * when first used, so a `read` loads none of them.
 *
 * @module
 */
import process from "node:process";
import { AbortedError, InvalidInputError } from "../errors.ts";
import { sanitize } from "../internal/text.ts";
import type { CliSystem } from "./actions.ts";

/** A system for this process; `env` is how the editor and the command's environment are found. */
export function nodeSystem(env: (name: string) => string | undefined): CliSystem {
  return {
    terminal: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    async readFile(path) {
      if (path === "-") return readStdin();
      const { readFile } = await import("node:fs/promises");
      try {
        return new Uint8Array(await readFile(path));
      } catch (error) {
        throw fileError(error, path, "read");
      }
    },
    async writeFile(path, data) {
      const { writeFile } = await import("node:fs/promises");
      try {
        await writeFile(path, data, { mode: 0o600 });
      } catch (error) {
        throw fileError(error, path, "write");
      }
    },
    async exec(command, add, override) {
      const { execCommand } = await import("./exec.ts");
      return execCommand({ command, baseEnv: process.env, add, override });
    },
    async edit(content, suffix) {
      const { editInEditor } = await import("./edit.ts");
      return editInEditor({ content, suffix, env });
    },
    prompt,
  };
}

function fileError(error: unknown, path: string, verb: string): InvalidInputError {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = code === "ENOENT"
    ? "no such file"
    : code === "EACCES"
    ? "permission denied"
    : String(code ?? "failed");
  return new InvalidInputError(`cannot ${verb} ${sanitize(path, 200)}: ${reason}`, { field: "file" });
}

async function readStdin(): Promise<Uint8Array> {
  const { buffer } = await import("node:stream/consumers");
  return new Uint8Array(await buffer(process.stdin));
}

/**
 * Asks on the terminal (question on stderr, answer from stdin in raw mode): typed characters are
 * echoed unless `hidden`; Backspace erases, Enter ends, Ctrl-C or Ctrl-D stops the command.
 */
function prompt(question: string, hidden: boolean): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the question shows: what is typed after it appears is never echoed.
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let answer = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    function onData(chunk: string) {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") {
          finish();
          return resolve(answer);
        }
        if (char === "\u0003" || char === "\u0004") {
          finish();
          return reject(new AbortedError("stopped at the prompt", { step: "config" }));
        }
        if (char === "\u007f" || char === "\b") {
          if (answer.length > 0 && !hidden) process.stderr.write("\b \b");
          answer = answer.slice(0, -1);
        } else if (char >= " ") {
          answer += char;
          if (!hidden) process.stderr.write(char);
        }
      }
    }
    stdin.on("data", onData);
  });
}
