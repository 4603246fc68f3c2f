#!/usr/bin/env node
/**
 * The `cerberus-edge` command: wires {@link run} to the process it runs in. Runs on Node
 * (`node dist/cli.js`, `node --import tsx src/cli/main.ts`), Bun (`bun src/cli/main.ts`) and
 * Deno (`deno run --allow-net --allow-env src/cli/main.ts`); `process` is the one global used,
 * which all three provide. The environment is read through the detected runtime adapter.
 *
 * @module
 */
import { createCerberusClient } from "../../mod.ts";
import { detectRuntime } from "../runtime/detect.ts";
import { ExitCode, PROGRAM, run } from "./run.ts";
import { nodeSystem } from "./system.ts";

/** The first error writing an output stream, other than a closed pipe (EPIPE). */
let writeFailure: { stream: string; code: string } | undefined;

/** Writes `text` to a stream and resolves once it is handed to the OS (so exiting loses nothing). */
function write(stream: NodeJS.WriteStream, name: string, text: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const failed = (error: unknown) => {
      const code = (error as { code?: unknown } | null)?.code;
      // A reader that went away (`| head -1`) is not a failure; a full disk is.
      if (code !== "EPIPE") writeFailure ??= { stream: name, code: typeof code === "string" ? code : "write error" };
      resolve();
    };
    try {
      stream.write(text, (error) => (error ? failed(error) : resolve()));
    } catch (error) {
      failed(error);
    }
  });
}

/** Runs the command line and exits with its code. */
async function main(): Promise<never> {
  // A closed pipe (`cerberus-edge list ... | head -1`) must not crash with a stack trace.
  // Errors are also handed to each write's callback, where they are recorded.
  process.stdout.on("error", () => {});
  process.stderr.on("error", () => {});
  const pending: Promise<void>[] = [];
  let code: number;
  try {
    const runtime = detectRuntime();
    const env = (name: string) => runtime.env(name);
    code = await run(
      process.argv.slice(2),
      env,
      {
        stdout: (text) => void pending.push(write(process.stdout, "stdout", text)),
        stderr: (text) => void pending.push(write(process.stderr, "stderr", text)),
      },
      {
        createClient: (options, lookup) => createCerberusClient({ ...options, runtime: { ...runtime, env: lookup } }),
        system: nodeSystem(env),
        demo: async () => (await import("../testing/demo-run.ts")).runDemo(),
        completion: async (shell) => (await import("./completion.ts")).completionScript(shell),
      },
    );
  } catch (error) {
    // run() never throws; this guards the wiring itself (e.g. no usable runtime).
    const name = error instanceof Error ? error.name : typeof error;
    pending.push(write(process.stderr, "stderr", `${PROGRAM}: unexpected internal error (${name})\n`));
    code = ExitCode.FAILURE;
  }
  await Promise.all(pending);
  if (writeFailure && code === ExitCode.OK) {
    // The result did not reach its destination: a script must not take that for success.
    if (writeFailure.stream === "stdout") {
      await write(
        process.stderr,
        "stderr",
        `${PROGRAM}: could not write the result to stdout (${writeFailure.code})\n`,
      );
    }
    code = ExitCode.FAILURE;
  }
  process.exit(code);
}

await main();
