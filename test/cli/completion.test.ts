/**
 * Shell completion (`src/cli/completion.ts`), tested by running it: the bash script from
 * `completionScript("bash")` is sourced by a real `bash` and `_cerberus_edge` is called with
 * `COMP_WORDS`/`COMP_CWORD` set as bash sets them, then `COMPREPLY` is read back. Covered:
 * commands, sub-commands, options, option values with fixed choices, local files, how positionals
 * are counted past option values, the `cerberus-edge __complete <kind> <word>` calls for secret
 * paths, file paths and SDBs (against a fake `cerberus-edge` that logs its arguments, then against
 * the real CLI and the local stack), and the zsh and fish scripts checked as text (neither shell is
 * installed here). Runs under `node --import tsx --test`, `bun test` and `deno test -A`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import { UsageError } from "../../src/cli/args.ts";
import { COMMANDS, GLOBAL_OPTIONS } from "../../src/cli/commands.ts";
import { completionScript } from "../../src/cli/completion.ts";
import { type LocalStack, startLocalStack } from "../../src/testing/mod.ts";
import { baseEnv, cliCommand, ROOT, spawnChild } from "./_cli.ts";

/**
 * Sources the script (`$1`), sets `COMP_WORDS` to the remaining arguments with the cursor on the
 * last one (and `COMP_LINE` to them, or to `$LINE`), runs `_cerberus_edge` and prints `COMPREPLY`,
 * one candidate a line (nothing when empty).
 */
const DRIVER = [
  `source "$1" || exit 97`,
  `shift`,
  `COMP_WORDS=("$@")`,
  `COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))`,
  // The line as typed: LINE when a test gives it (words bash split at "=" or ":"), else the words.
  `COMP_LINE="\${LINE:-\${COMP_WORDS[*]}}"`,
  `COMP_POINT=\${#COMP_LINE}`,
  `_cerberus_edge`,
  `((\${#COMPREPLY[@]})) && printf '%s\\n' "\${COMPREPLY[@]}"`,
  `exit 0`,
].join("\n");

/** What one completion left. */
interface Completion {
  /** `COMPREPLY`, in order. */
  candidates: string[];
  /** What bash (or the script) wrote on stderr. */
  stderr: string;
  /** bash's exit status. */
  status: number | null;
}

/** bash's arguments to complete `words` (the words after `cerberus-edge`, the last one under the cursor). */
const bashArgs = (script: string, words: readonly string[]) => [
  "--norc",
  "--noprofile",
  "-c",
  DRIVER,
  "bash",
  script,
  "cerberus-edge",
  ...words,
];

const completionOf = (stdout: string, stderr: string, status: number | null): Completion => ({
  candidates: stdout === "" ? [] : stdout.replace(/\n$/, "").split("\n"),
  stderr,
  status,
});

/** Completes `words` in a bash child, synchronously (nothing in this process must answer it). */
function completeSync(
  script: string,
  words: readonly string[],
  env: Record<string, string>,
  cwd?: string,
): Completion {
  const out = spawnSync("bash", bashArgs(script, words), { env, cwd, encoding: "utf8", timeout: 60_000 });
  if (out.error) throw out.error;
  return completionOf(out.stdout, out.stderr, out.status);
}

/** Completes `words` in a bash child without blocking this process (the local stack runs here). */
async function completeAsync(
  script: string,
  words: readonly string[],
  env: Record<string, string>,
): Promise<Completion> {
  const out = await spawnChild("bash", bashArgs(script, words), env);
  return completionOf(out.stdout, out.stderr, out.code);
}

/** Single-quoted for sh. */
const shQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Writes an executable sh script `name` into `dir`. */
function writeExecutable(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}`);
  chmodSync(path, 0o755);
  return path;
}

/** The words of every long and short option name, as `--name` and `-x`. */
const flagNames = (options: readonly { name: string; short?: string }[]) =>
  options.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);

/**
 * A stand-in `cerberus-edge`: each call's arguments go to `$FAKE_LOG` as one line
 * (`[arg][arg]...`); `__complete` prints fixed candidates per kind, or fails loudly (stderr,
 * exit 1) when `FAKE_FAIL` is set.
 */
const FAKE_CLI = `{ for a in "$@"; do printf '[%s]' "$a"; done; printf '\\n'; } >> "$FAKE_LOG"
if [ -n "$FAKE_FAIL" ]; then echo "cerberus-edge: no Cerberus here" >&2; exit 1; fi
case "$2" in
  secret-path) printf '%s\\n' app/demo/config app/demo/folder/ 'app/demo/with space' ;;
  file-path) printf '%s\\n' app/demo/cert.pem ;;
  sdb) printf '%s\\n' app/demo/ app/other/ ;;
esac
`;

/** A temp dir with the bash script and a fake `cerberus-edge` first on PATH. */
interface FakeSetup {
  dir: string;
  script: string;
  log: string;
  env: Record<string, string>;
}

function fakeSetup(): FakeSetup {
  const dir = mkdtempSync(join(tmpdir(), "cerberus-edge-completion-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeExecutable(bin, "cerberus-edge", FAKE_CLI);
  const script = join(dir, "cerberus-edge.bash");
  writeFileSync(script, completionScript("bash"));
  const log = join(dir, "calls.log");
  writeFileSync(log, "");
  const env = { ...baseEnv(), PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`, FAKE_LOG: log, LC_ALL: "C" };
  return { dir, script, log, env };
}

/** The `__complete` calls logged since the last one, then the log emptied. */
function takeCalls(setup: FakeSetup): string[] {
  const lines = readFileSync(setup.log, "utf8").split("\n").filter(Boolean);
  writeFileSync(setup.log, "");
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The bash script: commands, options, values, files, positionals
// ---------------------------------------------------------------------------------------------

describe("bash completion: commands, options and values", () => {
  let setup: FakeSetup;
  /** Completes and checks that the script ran cleanly (exit 0, nothing on stderr). */
  const complete = (words: readonly string[], cwd?: string): string[] => {
    const out = completeSync(setup.script, words, setup.env, cwd);
    assert.equal(out.status, 0, `bash failed for ${JSON.stringify(words)}: ${out.stderr}`);
    assert.equal(out.stderr, "", `stderr for ${JSON.stringify(words)}`);
    return out.candidates;
  };

  before(() => {
    setup = fakeSetup();
  });

  after(() => {
    rmSync(setup.dir, { recursive: true, force: true });
  });

  test("sourcing the script registers _cerberus_edge for cerberus-edge", () => {
    const out = spawnSync("bash", [
      "--norc",
      "--noprofile",
      "-c",
      `source "$1" && complete -p cerberus-edge`,
      "bash",
      setup.script,
    ], {
      env: setup.env,
      encoding: "utf8",
    });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trim(), "complete -F _cerberus_edge cerberus-edge");
  });

  test("the first word completes to commands", () => {
    assert.deepEqual(complete(["re"]), ["read"]);
    assert.deepEqual(complete(["ver"]), ["versions"]);
    const all = complete([""]);
    for (const name of ["read", "list", "write", "file", "sdb", "exec", "completion"]) {
      assert.ok(all.includes(name), `${name} offered first: ${all.join(" ")}`);
    }
    // Every top-level word of the table once, never a two-word name or the hidden __complete.
    const top = [...new Set(COMMANDS.map((c) => c.name.split(" ")[0]!))];
    assert.deepEqual(all.filter((w) => !w.startsWith("-")), top);
    assert.ok(!all.includes("__complete"));
    // Global options are offered before the command too.
    assert.deepEqual(complete(["--ve"]), ["--verbose", "--version"]);
    assert.deepEqual(takeCalls(setup), [], "no call to cerberus-edge for commands");
  });

  test("a group completes to its sub-commands", () => {
    assert.deepEqual(complete(["file", ""]), ["ls", "get", "put", "rm", "edit"]);
    assert.deepEqual(complete(["file", "r"]), ["rm"]);
    assert.deepEqual(complete(["sdb", ""]), ["ls", "get", "create", "update", "rm"]);
    assert.deepEqual(complete(["sdb", "c"]), ["create"]);
    assert.deepEqual(complete(["sdb", "x"]), []);
    // A global option and its value before the group do not hide it.
    assert.deepEqual(complete(["--auth", "kms", "file", "g"]), ["get"]);
  });

  test("options of a command, with the global ones", () => {
    assert.deepEqual(complete(["read", "--f"]), ["--format"]);
    assert.deepEqual(complete(["read", "app/demo/config", "--k"]), ["--key"]);
    const list = complete(["list", "-"]);
    for (const flag of ["-r", "--recursive", "--url", "--auth", "--timeout", "--help"]) {
      assert.ok(list.includes(flag), `${flag} in ${list.join(" ")}`);
    }
    assert.ok(!list.includes("--format"), "not another command's option");
    assert.deepEqual(complete(["file", "get", "--o"]), ["--output"]);
    assert.deepEqual(complete(["sdb", "create", "--o"]), ["--owner"]);
    assert.deepEqual(complete(["exec", "--up"]), ["--uppercase"]);
    // Every command offers exactly its own options plus the global ones (write's --json, a value,
    // and the global --json, a flag, share a name: offered twice, which readline shows once).
    for (const command of COMMANDS) {
      const offered = complete([...command.name.split(" "), "-"]);
      assert.deepEqual(
        [...new Set(offered)].sort(),
        [...new Set([...flagNames(command.options), ...flagNames(GLOBAL_OPTIONS)])].sort(),
        `options of ${command.name}`,
      );
    }
  });

  test("an option's value completes from its fixed choices", () => {
    assert.deepEqual(complete(["read", "app/demo/config", "--format", "d"]), ["dotenv"]);
    assert.deepEqual(complete(["read", "--format", ""]), ["json", "env", "dotenv", "shell"]);
    assert.deepEqual(complete(["--auth", "k"]), ["kms", "kms-v1"]);
    assert.deepEqual(complete(["whoami", "--auth", ""]), ["auto", "token", "sts", "kms", "kms-v1", "user"]);
    // A free value (no choices) completes to nothing, and never asks Cerberus.
    assert.deepEqual(complete(["read", "--key", ""]), []);
    assert.deepEqual(complete(["--url", ""]), []);
    assert.deepEqual(complete(["exec", "--path", "app/"]), []);
    assert.deepEqual(takeCalls(setup), []);
  });

  test("local files: file put's second argument, --output and write --json", () => {
    const here = join(setup.dir, "cwd");
    mkdirSync(join(here, "sub"), { recursive: true });
    writeFileSync(join(here, "cert.pem"), "pem");
    writeFileSync(join(here, "config.yaml"), "a: b");
    assert.deepEqual(complete(["file", "put", "app/demo/x", "./"], here).sort(), [
      "./cert.pem",
      "./config.yaml",
      "./sub",
    ]);
    assert.deepEqual(complete(["file", "put", "app/demo/x", "c"], here).sort(), ["cert.pem", "config.yaml"]);
    assert.deepEqual(complete(["file", "get", "app/demo/cert.pem", "-o", "ce"], here), ["cert.pem"]);
    assert.deepEqual(complete(["file", "get", "--output", "./co"], here), ["./config.yaml"]);
    assert.deepEqual(complete(["write", "app/demo/x", "--json", "s"], here), ["sub"]);
    assert.deepEqual(takeCalls(setup), [], "a local file is not asked of Cerberus");
  });

  test("option values are skipped when counting positionals", () => {
    // The first positional of read is a secret path, whatever options come before it.
    for (
      const words of [
        ["read", ""],
        ["--url", "http://x", "read", ""],
        ["--auth", "kms", "--region", "us-west-2", "read", ""],
        ["read", "--key", "greeting", ""],
        ["read", "--format", "json", "--version-id", "v1", ""],
        ["--json", "read", ""],
        ["--verbose", "read", "--timeout", "5s", ""],
      ]
    ) {
      assert.deepEqual(
        complete(words),
        ["app/demo/config", "app/demo/folder/", "app/demo/with space"],
        `${JSON.stringify(words)} completes a secret path`,
      );
      assert.deepEqual(takeCalls(setup), ["[__complete][secret-path][]"], JSON.stringify(words));
    }
    // A flag takes no value: the word after it is the positional.
    complete(["list", "-r", "ap"]);
    assert.deepEqual(takeCalls(setup), ["[__complete][secret-path][ap]"]);
    // A --name=value option is one word.
    complete(["--url=http://x", "read", "app/"]);
    assert.deepEqual(takeCalls(setup), ["[__complete][secret-path][app/]"]);
    // file get's -o takes a value; the path after it is still the first positional.
    complete(["file", "get", "-o", "out.pem", "app/demo/c"]);
    assert.deepEqual(takeCalls(setup), ["[__complete][file-path][app/demo/c]"]);
    // After write's path come key=value words: nothing to complete, nothing asked.
    assert.deepEqual(complete(["write", "app/demo/x", "user=app", ""]), []);
    assert.deepEqual(complete(["write", "--merge", "app/demo/x", ""]), []);
    assert.deepEqual(takeCalls(setup), []);
  });

  test("words bash splits at = and : are joined back as typed", () => {
    /** Completes the typed `line`, given as bash splits it into `words`. */
    const typed = (line: string, words: readonly string[], cwd?: string) => {
      const out = completeSync(setup.script, words, { ...setup.env, LINE: `cerberus-edge ${line}` }, cwd);
      assert.deepEqual([out.status, out.stderr], [0, ""], line);
      return out.candidates;
    };
    // --format=d: bash's word is "d", and the value's choices are offered for it.
    assert.deepEqual(typed("read app/demo/config --format=d", ["read", "app/demo/config", "--format", "=", "d"]), [
      "dotenv",
    ]);
    // Where "=" breaks no word, the whole --format=d is bash's word: the candidates keep the prefix.
    assert.deepEqual(typed("read --format=d", ["read", "--format=d"]), ["--format=dotenv"]);
    assert.deepEqual(takeCalls(setup), []);
    // A URL's ":" and an --auth=kms before the command do not become the command.
    typed("--url http://x read app/", ["--url", "http", ":", "//x", "read", "app/"]);
    assert.deepEqual(takeCalls(setup), ["[__complete][secret-path][app/]"]);
    typed("--auth=kms read app/", ["--auth", "=", "kms", "read", "app/"]);
    assert.deepEqual(takeCalls(setup), ["[__complete][secret-path][app/]"]);
  });

  test("an unknown command completes to nothing, quietly; local files with spaces stay whole", () => {
    assert.deepEqual(complete(["frobnicate", ""]), []);
    const here = join(setup.dir, "spaces");
    mkdirSync(here, { recursive: true });
    writeFileSync(join(here, "my file.txt"), "x");
    assert.deepEqual(complete(["file", "put", "app/demo/x", "my"], here), ["my file.txt"]);
    assert.deepEqual(complete(["write", "app/demo/x", "--json", "my"], here), ["my file.txt"]);
    assert.deepEqual(takeCalls(setup), []);
  });

  test("commands whose arguments are plain words complete to nothing", () => {
    for (
      const words of [
        ["sdb", "create", ""],
        ["sdb", "ls", ""],
        ["completion", ""],
        ["help", ""],
        ["exec", "--", ""],
        ["whoami", ""],
      ]
    ) {
      assert.deepEqual(complete(words), [], JSON.stringify(words));
    }
    assert.deepEqual(takeCalls(setup), []);
  });
});

// ---------------------------------------------------------------------------------------------
// The bash script's calls to `cerberus-edge __complete`, against a fake
// ---------------------------------------------------------------------------------------------

describe("bash completion: __complete calls (a fake cerberus-edge on PATH)", () => {
  let setup: FakeSetup;

  before(() => {
    setup = fakeSetup();
  });

  after(() => {
    rmSync(setup.dir, { recursive: true, force: true });
  });

  const complete = (words: readonly string[], env: Record<string, string> = setup.env) => {
    const out = completeSync(setup.script, words, env);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stderr, "");
    return out.candidates;
  };

  test("read asks for secret paths and offers what was printed, one candidate a line", () => {
    assert.deepEqual(complete(["read", "app/demo/c"]), ["app/demo/config", "app/demo/folder/", "app/demo/with space"]);
    assert.deepEqual(takeCalls(setup), ["[__complete][secret-path][app/demo/c]"]);
  });

  test("every secret-path command asks for secret paths", () => {
    for (const name of ["read", "list", "write", "delete", "versions", "edit", "file ls"]) {
      complete([...name.split(" "), "app/"]);
      assert.deepEqual(takeCalls(setup), ["[__complete][secret-path][app/]"], name);
    }
  });

  test("file get, put, rm and edit ask for file paths", () => {
    assert.deepEqual(complete(["file", "get", "app/demo/ce"]), ["app/demo/cert.pem"]);
    assert.deepEqual(takeCalls(setup), ["[__complete][file-path][app/demo/ce]"]);
    for (const sub of ["put", "rm", "edit"]) {
      assert.deepEqual(complete(["file", sub, "app/"]), ["app/demo/cert.pem"], sub);
      assert.deepEqual(takeCalls(setup), ["[__complete][file-path][app/]"], sub);
    }
  });

  test("sdb get, update and rm ask for SDBs", () => {
    assert.deepEqual(complete(["sdb", "get", "ap"]), ["app/demo/", "app/other/"]);
    assert.deepEqual(takeCalls(setup), ["[__complete][sdb][ap]"]);
    for (const sub of ["update", "rm"]) {
      complete(["sdb", sub, ""]);
      assert.deepEqual(takeCalls(setup), ["[__complete][sdb][]"], sub);
    }
  });

  test("the word is passed as one argument, spaces and quotes included", () => {
    complete(["read", "app/it's a *"]);
    assert.deepEqual(takeCalls(setup), ["[__complete][secret-path][app/it's a *]"]);
  });

  test("a failing cerberus-edge leaves no candidate and nothing on the terminal", () => {
    assert.deepEqual(complete(["read", "app/"], { ...setup.env, FAKE_FAIL: "1" }), []);
    assert.deepEqual(takeCalls(setup), ["[__complete][secret-path][app/]"]);
  });
});

// ---------------------------------------------------------------------------------------------
// The real CLI behind the completion, against the local stack
// ---------------------------------------------------------------------------------------------

describe("bash completion: the real cerberus-edge against the local stack", () => {
  let stack: LocalStack;
  let dir: string;
  let script: string;
  let env: Record<string, string>;

  before(async () => {
    stack = await startLocalStack();
    stack.seed.secret("app/demo/folder/nested", { a: "b" });
    stack.seed.file("app/demo/cert.pem", "-----BEGIN CERTIFICATE-----\n");
    dir = mkdtempSync(join(tmpdir(), "cerberus-edge-completion-e2e-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    // The CLI on the runtime running this test, from the repository's root (tsx resolves there).
    const { command, args } = cliCommand();
    writeExecutable(
      bin,
      "cerberus-edge",
      `cd ${shQuote(ROOT)} && exec ${[command, ...args].map(shQuote).join(" ")} "$@"\n`,
    );
    script = join(dir, "cerberus-edge.bash");
    writeFileSync(script, completionScript("bash"));
    env = {
      ...baseEnv(),
      ...stack.env,
      CERBERUS_AUTH: "kms",
      PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`,
    };
  });

  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await stack?.close();
  });

  const complete = async (words: readonly string[], extra: Record<string, string> = {}) => {
    const out = await completeAsync(script, words, { ...env, ...extra });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stderr, "");
    return out.candidates;
  };

  test("read app/demo/c offers app/demo/config", async () => {
    assert.deepEqual(await complete(["read", "app/demo/c"]), ["app/demo/config"]);
  });

  test("read ap offers the SDB app/demo/", async () => {
    assert.deepEqual(await complete(["read", "ap"]), ["app/demo/"]);
  });

  test("read app/demo/ offers the keys and folders under it", async () => {
    assert.deepEqual((await complete(["read", "app/demo/"])).sort(), ["app/demo/config", "app/demo/folder/"]);
    assert.deepEqual(await complete(["read", "app/demo/folder/"]), ["app/demo/folder/nested"]);
  });

  test("file get offers files, sdb get offers SDBs", async () => {
    assert.deepEqual(await complete(["file", "get", "app/demo/"]), ["app/demo/cert.pem"]);
    assert.deepEqual(await complete(["sdb", "get", "a"]), ["app/demo/"]);
  });

  test("without credentials it quietly offers nothing", async () => {
    assert.deepEqual(await complete(["read", "app/demo/c"], { CERBERUS_AUTH: "token" }), []);
  });
});

// ---------------------------------------------------------------------------------------------
// The scripts as text: zsh and fish (not installed here), bash's syntax, other shells
// ---------------------------------------------------------------------------------------------

describe("completion scripts as text", () => {
  const everyName = () => {
    const words = new Set<string>();
    for (const command of COMMANDS) for (const word of command.name.split(" ")) words.add(word);
    return words;
  };
  const everyOption = () => [...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => c.options)];

  test("bash -n accepts the bash script (and the zsh one, which is bash after its header)", () => {
    for (const shell of ["bash", "zsh"]) {
      const out = spawnSync("bash", ["--norc", "--noprofile", "-n"], {
        input: completionScript(shell),
        encoding: "utf8",
      });
      assert.equal(out.status, 0, `${shell}: ${out.stderr}`);
      assert.equal(out.stderr, "");
    }
  });

  test("the bash script names every command, sub-command and option of the table", () => {
    const text = completionScript("bash");
    assert.match(text, /^_cerberus_edge\(\) \{$/m);
    assert.match(text, /^complete -F _cerberus_edge cerberus-edge$/m);
    for (const command of COMMANDS) assert.ok(text.includes(`'${command.name}')`), command.name);
    for (const name of everyName()) assert.match(text, new RegExp(`[ ']${name}[ ']`), name);
    for (const option of everyOption()) {
      assert.ok(text.includes(`--${option.name}`), option.name);
      if (option.short) assert.ok(text.includes(`-${option.short}`), option.short);
      for (const choice of option.choices ?? []) assert.ok(text.includes(choice), choice);
    }
    for (const kind of ["secret-path", "file-path", "sdb"]) assert.ok(text.includes(kind));
    assert.ok(text.includes(`cerberus-edge __complete "$kind" "$cur"`));
  });

  test("zsh: #compdef, bashcompinit, then the bash function", () => {
    const text = completionScript("zsh");
    assert.match(text, /^#compdef cerberus-edge\n/);
    assert.match(text, /^autoload -U \+X bashcompinit && bashcompinit$/m);
    assert.ok(text.indexOf("bashcompinit") < text.indexOf("complete -F"), "bashcompinit before complete");
    assert.ok(text.endsWith(completionScript("bash")), "the bash script follows");
    for (const name of everyName()) assert.ok(text.includes(name), name);
    for (const option of everyOption()) assert.ok(text.includes(`--${option.name}`), option.name);
  });

  test("fish: complete -c cerberus-edge lines for every command and option, paths from __complete", () => {
    const text = completionScript("fish");
    const body = text.slice(text.indexOf("\nend\n") + 5);
    assert.match(text, /^function __cerberus_edge_is$/m, "one function finds the command typed so far");
    const lines = body.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    for (const line of lines) assert.match(line, /^complete -c cerberus-edge( |$)/, line);
    const top = [...new Set(COMMANDS.map((c) => c.name.split(" ")[0]!))];
    for (const word of top) {
      assert.ok(lines.some((l) => l.includes(" -n __cerberus_edge_is -a ") && l.includes(` -a ${word} `)), word);
    }
    for (const command of COMMANDS.filter((c) => c.name.includes(" "))) {
      const [group, sub] = command.name.split(" ");
      assert.ok(lines.some((l) => l.includes(`-n '__cerberus_edge_is ${group}' -a ${sub} `)), command.name);
    }
    for (const option of everyOption()) {
      assert.ok(lines.some((l) => l.includes(` -l ${option.name} `)), option.name);
      if (option.short) assert.ok(lines.some((l) => l.includes(` -s ${option.short} -l ${option.name}`)), option.short);
      if (option.choices) {
        assert.ok(
          lines.some((l) => l.includes(` -l ${option.name} -x -a '${option.choices!.join(" ")}'`)),
          option.name,
        );
      }
    }
    // Global options before any command, and with every command.
    for (const option of GLOBAL_OPTIONS) {
      assert.ok(lines.some((l) => l.includes(" -n __cerberus_edge_is ") && l.includes(` -l ${option.name} `)));
      assert.ok(lines.some((l) => l.includes("-n '__cerberus_edge_is read'") && l.includes(` -l ${option.name} `)));
    }
    for (const kind of ["secret-path", "file-path", "sdb"]) {
      assert.ok(text.includes(`(cerberus-edge __complete ${kind} (commandline -ct) 2>/dev/null)`), kind);
    }
    // A one-word command's condition is the whole command: `file edit` is not `edit`.
    assert.ok(lines.some((l) => l.includes("-n '__cerberus_edge_is edit'") && l.includes("__complete secret-path")));
    assert.ok(lines.some((l) => l.includes("-n '__cerberus_edge_is file edit'") && l.includes("__complete file-path")));
    assert.ok(lines.some((l) => l.includes("-n '__cerberus_edge_is sdb get'") && l.includes("__complete sdb")));
    assert.ok(lines.some((l) => l === "complete -c cerberus-edge -n '__cerberus_edge_is file put' -F"), "local files");
  });

  test("another shell is a UsageError", () => {
    assert.throws(() => completionScript("tcsh"), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match((error as Error).message, /bash, zsh, fish/);
      assert.match((error as Error).message, /tcsh/);
      return true;
    });
    assert.throws(() => completionScript(""), UsageError);
    assert.throws(() => completionScript("BASH"), UsageError);
  });
});
