/**
 * `exec`'s process side: the environment it builds, and the command it runs — exit codes,
 * signals passed on, start failures, values passed byte for byte. The command is
 * `_exec-child.mjs` on the runtime running the test; signals are sent to `_exec-wrapper.ts`, a
 * process that stands in for the CLI. Runs under `node --import tsx --test`, `bun test` and
 * `deno test -A`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { basename, dirname } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { execCommand, execEnvironment, FORWARDED_SIGNALS } from "../../src/cli/exec.ts";
import { InvalidInputError } from "../../src/errors.ts";
import { baseEnv, ROOT } from "./_cli.ts";

const CHILD = fileURLToPath(new URL("./_exec-child.mjs", import.meta.url));
const WRAPPER = fileURLToPath(new URL("./_exec-wrapper.ts", import.meta.url));

const g = globalThis as { Deno?: unknown; Bun?: unknown };

/** The command line that runs `script` on the runtime running this test. */
function onThisRuntime(script: string): string[] {
  if (g.Deno !== undefined) return [process.execPath, "run", "-A", script];
  if (g.Bun !== undefined) return [process.execPath, script];
  return script.endsWith(".ts") ? [process.execPath, "--import", "tsx", script] : [process.execPath, script];
}

const child = (...args: string[]) => [...onThisRuntime(CHILD), ...args];

const SECRET = "s3cret-value-do-not-print";
const OTHER_SECRET = "another-value-never-shown";

/** What a wrapper run left. */
interface WrapperOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** What {@link runWrapper} tells `_exec-wrapper.ts`. */
interface WrapperConfig {
  add: Record<string, string>;
  override?: boolean;
  baseEnv?: Record<string, string>;
}

/**
 * Runs `_exec-wrapper.ts` with `command` and resolves once it has exited. `signals` are sent to
 * the wrapper one by one: the first once the command printed "ready", each next once the command
 * acknowledged the previous one ("got SIGNAL").
 */
function runWrapper(
  config: WrapperConfig,
  command: readonly string[],
  options: { env?: Record<string, string>; signals?: readonly NodeJS.Signals[] } = {},
): Promise<WrapperOutcome> {
  const [program = "", ...args] = onThisRuntime(WRAPPER);
  return new Promise((resolve, reject) => {
    const wrapper = spawn(program, [...args, JSON.stringify(config), ...command], {
      cwd: ROOT,
      env: options.env ?? baseEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const pending = [...(options.signals ?? [])];
    let awaited = "ready\n";
    wrapper.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (pending.length > 0 && stdout.includes(awaited)) {
        const signal = pending.shift()!;
        awaited = `got ${signal}\n`;
        // Not wrapper.kill: Deno would then report the wrapper as ended by the signal, whatever its exit.
        process.kill(wrapper.pid!, signal);
      }
    });
    wrapper.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
    const timer = setTimeout(() => wrapper.kill("SIGKILL"), 60_000);
    wrapper.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    wrapper.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const listenerCounts = () => FORWARDED_SIGNALS.map((signal) => process.listenerCount(signal));

/** Asserts `promise` rejects with an `exec` InvalidInputError whose message matches and shows no value. */
async function rejectsWithoutValues(promise: Promise<number>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "exec");
    assert.equal(error.code, "INVALID_INPUT");
    assert.match(error.message, message);
    assert.doesNotMatch(error.message, /\n/);
    for (const text of [error.message, String(error.stack), inspect(error)]) {
      assert.ok(!text.includes(SECRET) && !text.includes(OTHER_SECRET), `a value leaked: ${text}`);
    }
    return true;
  });
}

describe("execEnvironment", () => {
  it("adds the variables to the base environment and drops unset ones", () => {
    const base = { PATH: "/bin", UNSET: undefined };
    const add = { DB_USER: "app", DB_PASSWORD: SECRET };
    assert.deepEqual(execEnvironment({ baseEnv: base, add, override: false }), {
      PATH: "/bin",
      DB_USER: "app",
      DB_PASSWORD: SECRET,
    });
    assert.deepEqual(base, { PATH: "/bin", UNSET: undefined });
    assert.deepEqual(add, { DB_USER: "app", DB_PASSWORD: SECRET });
  });

  it("keeps a variable that is already set (even empty) unless override", () => {
    const baseEnv = { KEPT: "from-base", EMPTY: "", UNSET: undefined };
    const add = { KEPT: "from-secret", EMPTY: "from-secret", UNSET: "from-secret" };
    assert.deepEqual(execEnvironment({ baseEnv, add, override: false }), {
      KEPT: "from-base",
      EMPTY: "",
      UNSET: "from-secret",
    });
    assert.deepEqual(execEnvironment({ baseEnv, add, override: true }), {
      KEPT: "from-secret",
      EMPTY: "from-secret",
      UNSET: "from-secret",
    });
  });

  it("returns a new object, in which __proto__ is an ordinary variable", () => {
    const baseEnv = { A: "1" };
    const env = execEnvironment({ baseEnv, add: JSON.parse('{"__proto__":"x","B":"2"}'), override: false });
    assert.notEqual(env, baseEnv);
    assert.equal(Object.getPrototypeOf(env), Object.prototype);
    assert.deepEqual(Object.keys(env), ["A", "__proto__", "B"]);
    assert.equal(Object.getOwnPropertyDescriptor(env, "__proto__")?.value, "x");
  });
});

describe("execCommand: exit codes", () => {
  for (const code of [0, 3, 42]) {
    it(`resolves with the command's exit code ${code}`, async () => {
      assert.equal(
        await execCommand({ command: child("exit", String(code)), baseEnv: baseEnv(), add: {}, override: false }),
        code,
      );
    });
  }

  for (const [signal, code] of [["SIGTERM", 143], ["SIGKILL", 137]] as const) {
    it(`resolves with ${code} when the command dies from ${signal}`, async () => {
      assert.equal(
        await execCommand({ command: child("kill", signal), baseEnv: baseEnv(), add: {}, override: false }),
        code,
      );
    });
  }

  it("looks the command up on the PATH of its environment", async () => {
    const env = { ...baseEnv(), PATH: dirname(process.execPath) };
    const [, ...args] = child("exit", "5");
    assert.equal(
      await execCommand({ command: [basename(process.execPath), ...args], baseEnv: env, add: {}, override: false }),
      5,
    );
  });

  it("listens for the forwarded signals only while the command runs", async () => {
    const before = listenerCounts();
    const running = execCommand({ command: child("exit", "0"), baseEnv: baseEnv(), add: {}, override: false });
    assert.deepEqual(listenerCounts(), before.map((n) => n + 1));
    assert.equal(await running, 0);
    assert.deepEqual(listenerCounts(), before);
  });
});

/** Runs `start` once, when a test first asks for its result. */
function once<T>(start: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= start());
}

/** The command's output in `env` mode. */
interface Report {
  env: Record<string, string | null>;
  argv: string[];
}

async function report(outcome: Promise<WrapperOutcome>): Promise<Report> {
  const { code, stdout, stderr } = await outcome;
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout);
}

describe("execCommand: the environment and arguments the command gets", () => {
  const HOSTILE: Record<string, string> = {
    SPACES: "  two  spaces\tand a tab  ",
    QUOTES: `'single' "double" \`back\` \\"escaped\\"`,
    SUBSTITUTION: "$(echo pwned) ${HOME} $HOME `id` $((1+1))",
    NEWLINES: "line 1\nline 2\r\n\nlast",
    SHELL: "* ? [a-z] ~ ; | & > /dev/null < x && true || false # comment",
    UNICODE: "žluťoučký kůň 🐴 \u2028 \u00a0",
    DASHES: "--help",
    EMPTY: "",
  };

  // One wrapper run each, shared by the tests below: starting a runtime is the slow part.
  const keeping = once(() =>
    report(runWrapper(
      { add: { NEW: "new-value", KEEP: "from-secret" }, baseEnv: { ...baseEnv(), KEEP: "from-base" } },
      child("env", "NEW", "KEEP", "WRAPPER_ONLY"),
      { env: { ...baseEnv(), WRAPPER_ONLY: "only-in-the-wrapper" } },
    ))
  );
  const overriding = once(() =>
    report(runWrapper(
      { add: { ...HOSTILE, KEEP: "from-secret" }, override: true },
      child("env", "KEEP", "FROM_CLI", ...Object.keys(HOSTILE), "--", ...Object.values(HOSTILE)),
      { env: { ...baseEnv(), KEEP: "from-base", FROM_CLI: "cli" } },
    ))
  );

  it("adds the variables; one already set keeps its value", async () => {
    const { env } = await keeping();
    assert.equal(env.NEW, "new-value");
    assert.equal(env.KEEP, "from-base");
  });

  it("gives the command its base environment, not the CLI's", async () => {
    assert.equal((await keeping()).env.WRAPPER_ONLY, null);
  });

  it("replaces a variable already set with override", async () => {
    assert.equal((await overriding()).env.KEEP, "from-secret");
  });

  it("keeps the rest of the base environment (here, the CLI's own)", async () => {
    assert.equal((await overriding()).env.FROM_CLI, "cli");
  });

  it("passes values byte for byte, never through a shell", async () => {
    const { env } = await overriding();
    for (const [name, value] of Object.entries(HOSTILE)) assert.equal(env[name], value, name);
  });

  it("passes arguments byte for byte, never through a shell", async () => {
    assert.deepEqual((await overriding()).argv, Object.values(HOSTILE));
  });
});

describe("execCommand: signals", () => {
  it("passes every forwarded signal on to the command, survives them and exits with its code", async () => {
    const outcome = await runWrapper({ add: {} }, child("wait-signal", "7", String(FORWARDED_SIGNALS.length)), {
      signals: FORWARDED_SIGNALS,
    });
    assert.deepEqual(
      { code: outcome.code, signal: outcome.signal, stdout: outcome.stdout },
      { code: 7, signal: null, stdout: `ready\n${FORWARDED_SIGNALS.map((s) => `got ${s}\n`).join("")}` },
    );
  });

  it("exits with 128 + n when a forwarded signal ends the command", async () => {
    const outcome = await runWrapper({ add: {} }, child("wait"), { signals: ["SIGTERM"] });
    assert.deepEqual({ code: outcome.code, signal: outcome.signal }, { code: 143, signal: null });
  });
});

describe("execCommand: a command that cannot run", () => {
  const env = () => ({ ...baseEnv(), ALREADY_SET: OTHER_SECRET });
  const options = (command: string[]) => ({ command, baseEnv: env(), add: { DB_PASSWORD: SECRET }, override: true });

  it("refuses an empty command", async () => {
    const before = listenerCounts();
    await rejectsWithoutValues(execCommand(options([])), /^exec: needs a command after --/);
    await rejectsWithoutValues(execCommand(options([""])), /^exec: needs a command after --/);
    assert.deepEqual(listenerCounts(), before);
  });

  it("reports a command not found, naming it, and stops listening for signals", async () => {
    const before = listenerCounts();
    await rejectsWithoutValues(
      execCommand(options(["cerberus-edge-no-such-command", "--flag"])),
      /^exec: command not found: "cerberus-edge-no-such-command"$/,
    );
    assert.deepEqual(listenerCounts(), before);
  });

  it("shows the command's name on one line, shortened", async () => {
    const name = `no-such-\u001b[31mcommand\n${"x".repeat(200)}`;
    await assert.rejects(execCommand(options([name])), (error: Error) => {
      assert.doesNotMatch(error.message, /\p{Cc}/u);
      assert.match(error.message, /^exec: command not found: "no-such- \[31mcommand x+…"$/);
      assert.ok(error.message.length < 120);
      return true;
    });
  });

  it("reports a command that is not executable", async () => {
    await rejectsWithoutValues(execCommand(options([dirname(CHILD)])), /^exec: command is not executable: "/);
    if ((statSync(CHILD).mode & 0o111) === 0) {
      await rejectsWithoutValues(execCommand(options([CHILD])), /^exec: command is not executable: "/);
    }
  });

  it("refuses a variable the environment cannot hold, naming it but not its value", async () => {
    const run = (add: Record<string, string>) =>
      execCommand({ command: child("exit", "0"), baseEnv: env(), add, override: false });
    await rejectsWithoutValues(run({ DB_PASSWORD: `${SECRET}\0${OTHER_SECRET}` }), /"DB_PASSWORD" holds a NUL/);
    await rejectsWithoutValues(run({ "A=B": SECRET }), /"A=B" is not a valid variable name/);
    await rejectsWithoutValues(run({ "": SECRET }), /"" is not a valid variable name/);
  });

  it("refuses an argument holding a NUL", async () => {
    await rejectsWithoutValues(
      execCommand(options(child("env", "--", "a\0b"))),
      /argument \d+ of the command holds a NUL/,
    );
  });
});
