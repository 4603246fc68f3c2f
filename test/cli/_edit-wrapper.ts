/**
 * A process for the signal tests of `edit.test.ts`: runs `editInEditor` on "old" with the editor
 * in `CERBERUS_EDITOR` (under `TMPDIR`), and reports on stdout, one line each: `got <SIGNAL>` for
 * every signal received, then `result changed=<boolean>`, `interrupted <SIGNAL>` (exiting with
 * the error's exit code) or `error <message>` (exiting 1).
 */
import process from "node:process";
import { editInEditor, EditorInterruptedError } from "../../src/cli/edit.ts";

const say = (text: string) => new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));

// Registered before editInEditor's listeners, which run in the same dispatch right after these:
// once the test reads `got <SIGNAL>`, editInEditor has seen the signal too.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => void process.stdout.write(`got ${signal}\n`));
}

try {
  const result = await editInEditor({
    content: new TextEncoder().encode("old"),
    env: (name) => process.env[name],
    suffix: ".txt",
  });
  await say(`result changed=${result.changed}\n`);
  process.exit(0);
} catch (error) {
  if (error instanceof EditorInterruptedError) {
    await say(`interrupted ${error.signal}\n`);
    process.exit(error.exitCode);
  }
  await say(`error ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
