/**
 * `src/cli/edit.ts`: the editor's command line from the environment, and editing a value in a
 * private temporary file with fake editors (`sh` one-liners) that change it, leave it, fail, and
 * report the modes and path they saw; then signals sent to a process running an edit
 * (`_edit-wrapper.ts`). Every edit runs with `TMPDIR` pointing at an empty directory of its own,
 * which must be empty again afterwards. Runs under `node --import tsx --test`, `bun test` and
 * `deno test -A`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { editInEditor, editorCommand, EditorInterruptedError, type EditResult } from "../../src/cli/edit.ts";
import { AbortedError, InvalidInputError } from "../../src/errors.ts";
import { baseEnv, ROOT } from "./_cli.ts";

const WRAPPER = fileURLToPath(new URL("./_edit-wrapper.ts", import.meta.url));
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const bytes = (text: string) => new TextEncoder().encode(text);
const lookup = (vars: Record<string, string | undefined>) => (name: string) => vars[name];

let scratch = "";
let counter = 0;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "cerberus-edge-edit-test-"));
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A new empty directory in the scratch directory. */
async function freshDir(): Promise<string> {
  const dir = join(scratch, `dir-${counter++}`);
  await mkdir(dir);
  return dir;
}

/**
 * Runs `body` with `TMPDIR` set to a new empty directory, restores it, and checks that nothing
 * was left in that directory.
 */
async function inPrivateTmp<T>(body: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = await freshDir();
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    assert.equal(tmpdir(), tmp);
    return await body(tmp);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    assert.deepEqual(await readdir(tmp), [], "the temporary directory is left behind");
  }
}

/**
 * A fake editor command line: `sh` with `$1` a side file, whose first line it sets to the path it
 * was given, and `$2` that path (the argument editInEditor appends); then it runs `script`,
 * which must not contain a single quote.
 */
function fakeEditor(side: string, script = ":"): string {
  return `sh -c 'printf "%s\\n" "$2" > "$1"; ${script}' editor "${side}"`;
}

/** The lines of a side file written by {@link fakeEditor}: the edited path first. */
async function sideLines(side: string): Promise<string[]> {
  return (await readFile(side, "utf8")).split("\n");
}

/** Asserts that the file a fake editor was given and its directory no longer exist. */
async function assertGone(side: string, tmp: string): Promise<string> {
  const [path] = await sideLines(side);
  assert.ok(path, "the editor recorded no path");
  assert.equal(dirname(dirname(path)), tmp, "the private directory is directly under os.tmpdir()");
  assert.equal(existsSync(path), false, "the file is left behind");
  assert.equal(existsSync(dirname(path)), false, "its directory is left behind");
  return path;
}

/** Runs one edit with `CERBERUS_EDITOR` set to `editor`, checking the signal listeners are restored. */
async function edit(editor: string, content: Uint8Array, suffix = ".json"): Promise<EditResult> {
  const listeners = SIGNALS.map((signal) => process.listenerCount(signal));
  try {
    return await editInEditor({ content, env: lookup({ CERBERUS_EDITOR: editor }), suffix });
  } finally {
    assert.deepEqual(SIGNALS.map((signal) => process.listenerCount(signal)), listeners, "signal listeners left");
  }
}

describe("editorCommand", () => {
  it("takes CERBERUS_EDITOR, then EDITOR, then VISUAL, then vi, skipping unset, empty and blank values", () => {
    const all = { CERBERUS_EDITOR: "cerb", EDITOR: "ed", VISUAL: "vis" };
    assert.deepEqual(editorCommand(lookup(all)), ["cerb"]);
    assert.deepEqual(editorCommand(lookup({ ...all, CERBERUS_EDITOR: undefined })), ["ed"]);
    assert.deepEqual(editorCommand(lookup({ ...all, CERBERUS_EDITOR: "", EDITOR: " \t " })), ["vis"]);
    assert.deepEqual(editorCommand(lookup({ EDITOR: "ed", VISUAL: "vis" })), ["ed"]);
    assert.deepEqual(editorCommand(lookup({ CERBERUS_EDITOR: "  ", EDITOR: "\n", VISUAL: "" })), ["vi"]);
    assert.deepEqual(editorCommand(lookup({})), ["vi"]);
  });

  it("splits on blanks and honours single quotes, double quotes and backslashes as a shell does", () => {
    const cases: [string, string[]][] = [
      ["code --wait", ["code", "--wait"]],
      ["  nano  ", ["nano"]],
      ["vim\t-p\r\n", ["vim", "-p"]],
      ['"/opt/My Editor/bin/ed" -w', ["/opt/My Editor/bin/ed", "-w"]],
      ["'/opt/My Editor/ed' --arg='a b'", ["/opt/My Editor/ed", "--arg=a b"]],
      [`a"b c"'d e'f`, ["ab cd ef"]],
      [`ed "a\\"b" "\\\\ \\$ \\\` \\x" 'c\\d' e\\ f`, ["ed", 'a"b', "\\ $ ` \\x", "c\\d", "e f"]],
      [`ed 'it'\\''s'`, ["ed", "it's"]],
      ['emacs "" x', ["emacs", "", "x"]],
      ["sh -c 'echo $HOME ~ *' x", ["sh", "-c", "echo $HOME ~ *", "x"]],
      ["ed trailing\\", ["ed", "trailing\\"]],
    ];
    for (const [value, words] of cases) assert.deepEqual(editorCommand(lookup({ EDITOR: value })), words, value);
  });

  it("rejects an unterminated quote or an empty program, naming the variable", () => {
    const rejects = (vars: Record<string, string>, field: string, problem: RegExp) =>
      assert.throws(() => editorCommand(lookup(vars)), (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.equal(error.field, field);
        assert.match(error.message, problem);
        return true;
      });
    rejects({ CERBERUS_EDITOR: '"/opt/My Editor/ed -w' }, "CERBERUS_EDITOR", /^CERBERUS_EDITOR: .*unterminated double/);
    rejects({ EDITOR: "vi 'x" }, "EDITOR", /^EDITOR: .*unterminated single quote/);
    rejects({ VISUAL: 'vi "a\\"' }, "VISUAL", /unterminated double quote/);
    rejects({ EDITOR: '"" -w', VISUAL: "vi" }, "EDITOR", /^EDITOR: names an empty program/);
  });
});

describe("editInEditor", () => {
  it("returns changed: true and the new bytes when the editor changes the file", async () => {
    const side = join(await freshDir(), "side");
    await inPrivateTmp(async (tmp) => {
      const result = await edit(fakeEditor(side, 'printf new > "$2"'), bytes("old\n"));
      assert.equal(result.changed, true);
      assert.ok(result.content instanceof Uint8Array);
      assert.deepEqual(new Uint8Array(result.content), bytes("new"));
      await assertGone(side, tmp);
    });
  });

  it("hands the editor the exact bytes, and returns changed: false when it leaves them", async () => {
    const dir = await freshDir();
    const side = join(dir, "side");
    const content = new Uint8Array([0, 1, 2, 255, 254, 13, 10, 0xe2, 0x82]);
    await inPrivateTmp(async (tmp) => {
      const result = await edit(fakeEditor(side, 'cp "$2" "$1.copy"'), content);
      assert.equal(result.changed, false);
      assert.deepEqual(new Uint8Array(result.content), content);
      assert.deepEqual(new Uint8Array(await readFile(`${side}.copy`)), content);
      await assertGone(side, tmp);
    });
  });

  it("compares bytes, not files: a new file with the same bytes is unchanged, and an empty value works", async () => {
    const side = join(await freshDir(), "side");
    await inPrivateTmp(async (tmp) => {
      const rewrite = 'cat "$2" > "$2.new" && mv "$2.new" "$2"';
      const same = await edit(fakeEditor(side, rewrite), bytes("same"));
      assert.deepEqual({ ...same, content: new Uint8Array(same.content) }, { changed: false, content: bytes("same") });
      await assertGone(side, tmp);

      const empty = await edit(fakeEditor(side), new Uint8Array(0));
      assert.deepEqual({ ...empty, content: new Uint8Array(empty.content) }, {
        changed: false,
        content: new Uint8Array(0),
      });
      const filled = await edit(fakeEditor(side, 'printf x > "$2"'), new Uint8Array(0));
      assert.equal(filled.changed, true);
      const emptied = await edit(fakeEditor(side, ': > "$2"'), bytes("x"));
      assert.deepEqual({ ...emptied, content: new Uint8Array(emptied.content) }, {
        changed: true,
        content: new Uint8Array(0),
      });
      await assertGone(side, tmp);
    });
  });

  it("creates the file with mode 0600 in a directory of mode 0700", async () => {
    const side = join(await freshDir(), "side");
    await inPrivateTmp(async (tmp) => {
      // `ls -ld` is the one way to read modes that GNU and BSD agree on.
      await edit(fakeEditor(side, 'ls -ld "${2%/*}" >> "$1"; ls -ld "$2" >> "$1"'), bytes("secret"));
      const [path, dirLine, fileLine] = await sideLines(side);
      assert.match(dirLine ?? "", /^drwx------[.+@]? /, "directory mode");
      assert.match(fileLine ?? "", /^-rw-------[.+@]? /, "file mode");
      assert.ok(basename(dirname(path!)).startsWith("cerberus-edge-"));
      await assertGone(side, tmp);
    });
  });

  it("names the file after the suffix, keeping [A-Za-z0-9._-] and at most its last 32 characters", async () => {
    const side = join(await freshDir(), "side");
    const cases: [string, string][] = [
      [".json", "cerberus-edge.json"],
      ["", "cerberus-edge"],
      ["pem", "cerberus-edgepem"],
      ["../../etc/pass wd;$(x)`y`.JSON", "cerberus-edge....etcpasswdxy.JSON"],
      [".tar.gz", "cerberus-edge.tar.gz"],
      [`.${"a".repeat(40)}.json`, `cerberus-edge${"a".repeat(27)}.json`],
      ["/\\\n\u00e9.yml", "cerberus-edge.yml"],
    ];
    await inPrivateTmp(async (tmp) => {
      for (const [suffix, name] of cases) {
        await edit(fakeEditor(side), bytes("v"), suffix);
        const path = await assertGone(side, tmp);
        assert.equal(basename(path), name, suffix);
      }
    });
  });

  it("rejects when the editor exits non-zero, discarding what it wrote and never quoting the value", async () => {
    const side = join(await freshDir(), "side");
    const marker = "s3cr3t-value-never-in-an-error";
    await inPrivateTmp(async (tmp) => {
      await assert.rejects(edit(fakeEditor(side, 'printf "$2" > "$2"; exit 3'), bytes(marker)), (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.equal(error.field, "editor");
        assert.equal(error.message, 'editor: "sh" exited with code 3; the edit was discarded');
        assert.ok(!String(error.stack).includes(marker));
        return true;
      });
      await assertGone(side, tmp);
    });
  });

  it("rejects when the editor is killed by a signal", async () => {
    const side = join(await freshDir(), "side");
    await inPrivateTmp(async (tmp) => {
      await assert.rejects(
        edit(fakeEditor(side, 'printf new > "$2"; kill -KILL $$'), bytes("old")),
        (error: unknown) =>
          error instanceof InvalidInputError && error.field === "editor" &&
          error.message === 'editor: "sh" was killed by SIGKILL; the edit was discarded',
      );
      await assertGone(side, tmp);
    });
  });

  it("rejects when the file is gone when the editor exits", async () => {
    const side = join(await freshDir(), "side");
    await inPrivateTmp(async (tmp) => {
      await assert.rejects(
        edit(fakeEditor(side, 'rm "$2"'), bytes("old")),
        (error: unknown) =>
          error instanceof InvalidInputError &&
          error.message === "editor: cannot read the edited file back (ENOENT); the edit was discarded",
      );
      await assertGone(side, tmp);
    });
  });

  it("names the program and the variables to set when the editor is not found, and leaves nothing behind", async () => {
    await inPrivateTmp(async () => {
      const program = join(scratch, "no such dir", "no-such-editor");
      await assert.rejects(edit(`"${program}" --wait`, bytes("old")), (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.equal(error.field, "editor");
        assert.ok(error.message.startsWith(`editor: cannot run "${program}" (not found); `), error.message);
        assert.match(error.message, /set CERBERUS_EDITOR or EDITOR/);
        return true;
      });
    });
  });

  it("reports an editor that is not executable by its error code", async () => {
    const program = join(await freshDir(), "not-executable");
    await writeFile(program, "#!/bin/sh\n");
    await chmod(program, 0o600);
    await inPrivateTmp(async () => {
      await assert.rejects(
        edit(program, bytes("old")),
        (error: unknown) =>
          error instanceof InvalidInputError && error.message.startsWith(`editor: cannot run "${program}" (EACCES); `),
      );
    });
  });

  it("creates nothing when the editor variable is malformed", async () => {
    await inPrivateTmp(async () => {
      await assert.rejects(
        edit("'unterminated", bytes("old")),
        (error: unknown) => error instanceof InvalidInputError && error.field === "CERBERUS_EDITOR",
      );
    });
  });
});

/** The command running the wrapper on the runtime running this test file. */
function wrapperCommand(): string[] {
  const g = globalThis as { Deno?: { version?: { deno?: unknown } }; Bun?: unknown };
  if (typeof g.Deno?.version?.deno === "string") return [process.execPath, "run", "-A", WRAPPER];
  if (typeof g.Bun !== "undefined") return [process.execPath, WRAPPER];
  return [process.execPath, "--import", "tsx", WRAPPER];
}

/** What editInEditor left in `tmp` (the runtimes keep caches of their own there, e.g. tsx's). */
async function leftovers(tmp: string): Promise<string[]> {
  return (await readdir(tmp)).filter((name) => name.startsWith("cerberus-edge"));
}

interface Wrapper {
  child: ChildProcess;
  /** Resolves with the first match of `pattern` in the output; rejects if the process ends first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves when the process has ended. */
  ended: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts the wrapper with `editor` as `CERBERUS_EDITOR` and `tmp` as `TMPDIR`; killed after 60 s. */
function startWrapper(editor: string, tmp: string, options: { ownGroup?: boolean } = {}): Wrapper {
  const [command, ...args] = wrapperCommand();
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: { ...baseEnv(), TMPDIR: tmp, CERBERUS_EDITOR: editor },
    stdio: ["pipe", "pipe", "pipe"],
    detached: options.ownGroup ?? false,
  });
  let stdout = "";
  let stderr = "";
  let done = false;
  const waiting = new Set<() => void>();
  const wake = () => {
    for (const check of [...waiting]) check();
  };
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    wake();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
  // A watchdog, not a wait: a wrapper stuck by a bug is killed so the test fails instead of hanging.
  const watchdog = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const ended = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on("close", (code) => {
      clearTimeout(watchdog);
      done = true;
      wake();
      resolve({ code, stdout, stderr });
    });
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = stdout.match(pattern);
        if (match || done) waiting.delete(check);
        if (match) resolve(match);
        else if (done) reject(new Error(`the wrapper ended without ${pattern}:\n${stdout}\n${stderr}`));
      };
      waiting.add(check);
      check();
    });
  return { child, waitFor, ended };
}

/** Kills a wrapper still running after a failed test, so that the run does not hang. */
function stop(wrapper: Wrapper): void {
  if (wrapper.child.exitCode === null && wrapper.child.signalCode === null) wrapper.child.kill("SIGKILL");
}

describe("EditorInterruptedError", () => {
  it("names the signal and carries the exit status a shell expects for it", () => {
    const statuses = SIGNALS.map((signal) => {
      const error = new EditorInterruptedError(signal);
      assert.ok(error instanceof AbortedError);
      assert.equal(error.code, "ABORTED");
      assert.equal(error.message, `editor: interrupted by ${signal}; the edit was discarded`);
      return [error.signal, error.exitCode];
    });
    assert.deepEqual(statuses, [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]]);
  });
});

// Signals go through process.kill, not ChildProcess.kill: Deno's ChildProcess then reports the
// signal as the cause of any later exit, hiding the exit code.
describe("editInEditor interrupted by a signal", () => {
  // The editor prints the path it was given, then waits for a line on its standard input (the
  // wrapper's, a pipe from this test).
  const waitingEditor = (prelude = ":") =>
    `sh -c '${prelude}; printf "ready %s\\n" "$1"; read line; printf new > "$1"' editor`;

  it("SIGTERM to the process: passed on to the editor, which exits; the directory is removed; exit 143", async () => {
    const tmp = await freshDir();
    const wrapper = startWrapper(waitingEditor(), tmp);
    try {
      const [, path] = await wrapper.waitFor(/^ready (.+)\n/m);
      assert.ok(existsSync(path!));
      process.kill(wrapper.child.pid!, "SIGTERM");
      const { code, stdout } = await wrapper.ended;
      assert.match(stdout, /^got SIGTERM$/m);
      assert.match(stdout, /^interrupted SIGTERM$/m);
      assert.equal(code, 143);
      assert.equal(existsSync(dirname(path!)), false);
      assert.deepEqual(await leftovers(tmp), []);
    } finally {
      stop(wrapper);
    }
  });

  it("SIGINT to the whole process group, as from a terminal: the directory is removed; exit 130", async () => {
    const tmp = await freshDir();
    const wrapper = startWrapper(waitingEditor(), tmp, { ownGroup: true });
    try {
      const [, path] = await wrapper.waitFor(/^ready (.+)\n/m);
      process.kill(-wrapper.child.pid!, "SIGINT");
      const { code, stdout } = await wrapper.ended;
      assert.match(stdout, /^interrupted SIGINT$/m);
      assert.equal(code, 130);
      assert.equal(existsSync(dirname(path!)), false);
      assert.deepEqual(await leftovers(tmp), []);
    } finally {
      stop(wrapper);
    }
  });

  it("SIGHUP ignored by the editor: waits for it to exit, then discards even a saved edit; exit 129", async () => {
    const tmp = await freshDir();
    const wrapper = startWrapper(waitingEditor('trap "" HUP'), tmp);
    try {
      const [, path] = await wrapper.waitFor(/^ready (.+)\n/m);
      process.kill(wrapper.child.pid!, "SIGHUP");
      await wrapper.waitFor(/^got SIGHUP$/m);
      assert.ok(existsSync(path!), "the file was removed while the editor still ran");
      wrapper.child.stdin!.end("\n");
      const { code, stdout } = await wrapper.ended;
      assert.match(stdout, /^interrupted SIGHUP$/m);
      assert.doesNotMatch(stdout, /^result/m);
      assert.equal(code, 129);
      assert.equal(existsSync(dirname(path!)), false);
      assert.deepEqual(await leftovers(tmp), []);
    } finally {
      stop(wrapper);
    }
  });

  it("without a signal the wrapper reports the edit (the control case)", async () => {
    const tmp = await freshDir();
    const wrapper = startWrapper(waitingEditor(), tmp);
    try {
      await wrapper.waitFor(/^ready /m);
      wrapper.child.stdin!.end("\n");
      const { code, stdout } = await wrapper.ended;
      assert.match(stdout, /^result changed=true$/m);
      assert.equal(code, 0);
      assert.deepEqual(await leftovers(tmp), []);
    } finally {
      stop(wrapper);
    }
  });
});
