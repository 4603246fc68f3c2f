/**
 * The commands that need a terminal, run for real on a pseudo-terminal (util-linux `script`)
 * against the local stack: `edit` and `file edit` with fake editors (`sh` one-liners in
 * `CERBERUS_EDITOR`) that change the value, leave it, break it or fail, checked on the server
 * afterwards (read back, versions, the stack's request log); `login` answering its prompts as a
 * user would (the hidden password must not be echoed, `--print-token` prints a token that works,
 * a wrong password exits 3), and with MFA (the device menu, an SMS device's trigger, the code
 * prompt); and, without a terminal, the exit 2 of all three. Runs under `node --import tsx
 * --test`, `bun test` and `deno test -A`.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalStack, startLocalStack } from "../../src/testing/mod.ts";
import { baseEnv, type ChildOutcome, cliCommand, ROOT, spawnCli } from "./_cli.ts";

/** How long a run on the terminal may take before it is killed (and the test fails). */
const RUN_LIMIT_MS = 60_000;

/** Quotes one word for `sh -c`. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Hides anything that could be a token (long base64url runs) before text goes into a failure message. */
function redact(text: string): string {
  return text.replace(/[A-Za-z0-9_-]{24,}/g, "<redacted>");
}

/** What a run on the terminal left: its exit code and everything the terminal showed. */
interface TerminalOutcome {
  code: number | null;
  /** stdout and stderr merged as the terminal showed them, with "\r\n" turned back into "\n". */
  output: string;
}

/**
 * The CLI running on a new pseudo-terminal (`script -qec "<command line>" /dev/null`): what the
 * terminal shows is read as it comes, and what is typed goes to the terminal's input.
 */
class TerminalRun {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #announced: boolean;
  #device: string | undefined;
  #raw = "";
  #seen = 0;
  #exited = false;
  #wake: (() => void)[] = [];
  /** Resolves with the exit code once the CLI and `script` are gone. */
  readonly done: Promise<number | null>;

  /**
   * @param argv the CLI's arguments.
   * @param env its whole environment.
   * @param options `announceTty`: first print the terminal's device (`tty`), so that the test can
   *   look at the terminal's modes (see {@link TerminalRun.untilRaw}).
   */
  constructor(argv: readonly string[], env: Record<string, string>, options: { announceTty?: boolean } = {}) {
    const { command, args } = cliCommand();
    this.#announced = options.announceTty === true;
    const cli = [command, ...args, ...argv].map(shellQuote).join(" ");
    const line = this.#announced ? `tty && exec ${cli}` : cli;
    this.#child = spawn("script", ["-qec", line, "/dev/null"], { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    // Typing into a terminal that is already gone is not an error of the test.
    this.#child.stdin.on("error", () => {});
    const take = (chunk: string) => {
      this.#raw += chunk;
      this.#notify();
    };
    this.#child.stdout.setEncoding("utf8").on("data", take);
    this.#child.stderr.setEncoding("utf8").on("data", take);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), RUN_LIMIT_MS);
    this.done = new Promise((resolve, reject) => {
      this.#child.on("error", (error) => {
        clearTimeout(timer);
        this.#exited = true;
        this.#notify();
        reject(error);
      });
      this.#child.on("close", (code) => {
        clearTimeout(timer);
        this.#exited = true;
        this.#child.stdin.destroy();
        this.#notify();
        resolve(code);
      });
    });
  }

  /** Everything the terminal showed so far, "\r\n" turned back into "\n". */
  get output(): string {
    return this.#raw.replaceAll("\r\n", "\n");
  }

  #notify(): void {
    for (const wake of this.#wake.splice(0)) wake();
  }

  /** Waits until the terminal shows `text` (after what an earlier wait found); fails if the run ends first. */
  async waitFor(text: string): Promise<void> {
    for (;;) {
      const output = this.output;
      const at = output.indexOf(text, this.#seen);
      if (at >= 0) {
        this.#seen = at + text.length;
        return;
      }
      if (this.#exited) {
        throw new assert.AssertionError({
          message: `the run ended without showing ${JSON.stringify(text)}; it showed: ${
            JSON.stringify(redact(output))
          }`,
        });
      }
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }

  /** Types `text` on the terminal. */
  type(text: string): void {
    this.#child.stdin.write(text);
  }

  /** The terminal's device, e.g. `/dev/pts/3` (needs `announceTty`). */
  async device(): Promise<string> {
    assert.ok(this.#announced, "the run was started without announceTty");
    while (this.#device === undefined) {
      const output = this.output;
      const line = output.indexOf("\n");
      if (line >= 0) {
        const device = output.slice(0, line);
        assert.match(device, /^\/dev\/\S+$/, "tty printed no device");
        this.#device = device;
      } else if (this.#exited) {
        throw new assert.AssertionError({ message: `tty printed nothing: ${JSON.stringify(redact(output))}` });
      } else {
        await new Promise<void>((resolve) => this.#wake.push(resolve));
      }
    }
    return this.#device;
  }

  /**
   * Waits until the terminal is in raw mode without echo (`stty -echo -icanon`), as the CLI puts
   * it while it reads an answer, by asking `stty` again and again (each check waits for `stty` to
   * exit; no timer). Fails when the run ends first.
   */
  async untilRaw(): Promise<void> {
    const device = await this.device();
    for (;;) {
      const modes = await stty(device);
      if (modes.includes("-echo") && modes.includes("-icanon")) return;
      if (this.#exited) {
        throw new assert.AssertionError({
          message: `the run ended before the terminal went raw; it showed: ${JSON.stringify(redact(this.output))}`,
        });
      }
    }
  }

  /** Waits for `prompt`, then for the terminal to go raw, then types `answer` and Enter. */
  async answer(prompt: string, answer: string): Promise<void> {
    await this.waitFor(prompt);
    await this.untilRaw();
    this.type(`${answer}\r`);
  }

  /** Waits for the end of the run. */
  async finish(): Promise<TerminalOutcome> {
    const code = await this.done;
    return { code, output: this.output };
  }
}

/** The modes of a terminal device, as words (`stty -a -F <device>`); empty when it is gone. */
function stty(device: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn("stty", ["-a", "-F", device], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => void (out += chunk));
    child.on("error", reject);
    child.on("close", () => resolve(out.split(/[\s;]+/)));
  });
}

describe("commands that need a terminal, on a pseudo-terminal against the local stack", () => {
  let stack: LocalStack;
  let scratch = "";
  let counter = 0;
  /** The seeded user's environment for plain (no terminal) runs that set things up and check them. */
  let userEnv: Record<string, string>;

  before(async () => {
    stack = await startLocalStack();
    scratch = await mkdtemp(join(tmpdir(), "cerberus-edge-tty-test-"));
    const { username, password } = stack.defaults!.user;
    userEnv = {
      ...baseEnv(),
      CERBERUS_URL: stack.env.CERBERUS_URL,
      CERBERUS_AUTH: "user",
      CERBERUS_USERNAME: username,
      CERBERUS_PASSWORD: password,
    };
  });

  after(async () => {
    await stack?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** A new name in the scratch directory. */
  function scratchPath(name: string): string {
    return join(scratch, `${counter++}-${name}`);
  }

  /** Runs the CLI without a terminal as the seeded user; asserts it succeeded. */
  async function cli(argv: string[]): Promise<ChildOutcome> {
    const out = await spawnCli(argv, userEnv);
    assert.equal(out.code, 0, `${argv.join(" ")}: ${redact(out.stderr)}`);
    return out;
  }

  /** Requests that changed secrets or files since the log held `since` entries. */
  function writesSince(since: number): string[] {
    return stack.requests.entries("cerberus").slice(since)
      .filter((e) => e.method !== "GET" && /^\/v1\/(secret|secure-file)\//.test(e.path))
      .map((e) => `${e.method} ${e.path}`);
  }

  /** How many versions `versions <path>` lists. */
  async function versionCount(path: string): Promise<number> {
    return (await cli(["versions", path])).stdout.split("\n").filter(Boolean).length;
  }

  /**
   * A fake editor for `CERBERUS_EDITOR`: `sh` that records the path it was given in
   * `<side>.path` and a copy of what the file held in `<side>.orig`, then runs `script` with
   * `$2` the file (which must not contain a single quote).
   */
  function fakeEditor(side: string, script: string): string {
    return `sh -c 'printf "%s" "$2" > "$1.path"; cp "$2" "$1.orig"; ${script}' editor ${shellQuote(side)}`;
  }

  /** Runs `argv` as the seeded user on a terminal with `editor` as CERBERUS_EDITOR. */
  function editOnTerminal(argv: string[], editor: string): Promise<TerminalOutcome> {
    return new TerminalRun(argv, { ...userEnv, CERBERUS_EDITOR: editor }).finish();
  }

  /** Checks that the editor's temporary file (and its private directory) is gone; returns its path. */
  async function assertTempGone(side: string): Promise<string> {
    const path = await readFile(`${side}.path`, "utf8");
    assert.ok(path.length > 0, "the editor was given no path");
    assert.equal(existsSync(path), false, "the temporary file is left behind");
    assert.equal(existsSync(dirname(path)), false, "its private directory is left behind");
    return path;
  }

  describe("edit", () => {
    const secret = { greeting: "before", other: "unchanged" };

    function seeded(name: string): string {
      const path = `app/demo/tty-edit-${name}`;
      stack.seed.secret(path, secret);
      return path;
    }

    async function readBack(path: string): Promise<unknown> {
      return JSON.parse((await cli(["read", path])).stdout);
    }

    test("an editor that changes a value: the secret on the server changes", async () => {
      const path = seeded("changed");
      const versions = await versionCount(path);
      const side = scratchPath("editor");
      const since = stack.requests.entries("cerberus").length;
      const out = await editOnTerminal(
        ["edit", path],
        fakeEditor(side, `sed -e "s/before/after/" "$2" > "$1.new" && cat "$1.new" > "$2"`),
      );
      assert.equal(out.code, 0, out.output);
      assert.equal(await readFile(`${side}.orig`, "utf8"), `${JSON.stringify(secret, null, 2)}\n`, "pretty JSON");
      assert.match(await assertTempGone(side), /\.json$/);
      assert.deepEqual(writesSince(since), [`POST /v1/secret/${path}`]);
      assert.deepEqual(await readBack(path), { greeting: "after", other: "unchanged" });
      assert.ok(await versionCount(path) > versions, "a write adds a version (what the other tests count)");
    });

    test("an editor that saves the same bytes: nothing is written", async () => {
      const path = seeded("same");
      const versions = await versionCount(path);
      const side = scratchPath("editor");
      const since = stack.requests.entries("cerberus").length;
      const out = await editOnTerminal(["edit", path], fakeEditor(side, `cat "$1.orig" > "$2"`));
      assert.equal(out.code, 0, out.output);
      assert.match(out.output, /no change; nothing written/);
      await assertTempGone(side);
      assert.deepEqual(writesSince(since), []);
      assert.equal(await versionCount(path), versions, "no new version");
      assert.deepEqual(await readBack(path), secret);
    });

    const refused: [string, string, RegExp][] = [
      ["invalid JSON", `printf "{not json" > "$2"`, /the edited secret must hold a JSON object of strings/],
      [
        "a number as a value",
        `sed -e "s/\\"before\\"/1/" "$1.orig" > "$2"`,
        /the edited secret: the value of "greeting" is (a )?number, not a string/,
      ],
      ["a JSON array", `printf "[]" > "$2"`, /the edited secret must hold a JSON object of strings/],
    ];
    for (const [what, script, message] of refused) {
      test(`an editor that leaves ${what}: exit 2, nothing written`, async () => {
        const path = seeded(what.replace(/\W+/g, "-"));
        const versions = await versionCount(path);
        const side = scratchPath("editor");
        const since = stack.requests.entries("cerberus").length;
        const out = await editOnTerminal(["edit", path], fakeEditor(side, script));
        assert.equal(out.code, 2, out.output);
        assert.match(out.output, message);
        assert.doesNotMatch(out.output, /before|unchanged/, "no value in the error");
        await assertTempGone(side);
        assert.deepEqual(writesSince(since), []);
        assert.equal(await versionCount(path), versions, "no new version");
        assert.deepEqual(await readBack(path), secret);
      });
    }

    test("an editor that changes the file and exits 1: non-zero exit, nothing written", async () => {
      const path = seeded("fails");
      const side = scratchPath("editor");
      const since = stack.requests.entries("cerberus").length;
      const out = await editOnTerminal(
        ["edit", path],
        fakeEditor(side, `sed -e "s/before/after/" "$1.orig" > "$2"; exit 1`),
      );
      assert.notEqual(out.code, 0, out.output);
      assert.match(out.output, /exited with code 1; the edit was discarded/);
      await assertTempGone(side);
      assert.deepEqual(writesSince(since), []);
      assert.deepEqual(await readBack(path), secret);
    });
  });

  describe("file edit", () => {
    const original = "line one\nline two\n";

    function seeded(name: string): string {
      const path = `app/demo/tty-${name}.txt`;
      stack.seed.file(path, original);
      return path;
    }

    async function readBack(path: string): Promise<string> {
      return (await cli(["file", "get", path])).stdout;
    }

    test("an editor that changes the bytes: they are uploaded", async () => {
      const path = seeded("changed");
      const side = scratchPath("editor");
      const since = stack.requests.entries("cerberus").length;
      const out = await editOnTerminal(["file", "edit", path], fakeEditor(side, `printf "line three\\n" >> "$2"`));
      assert.equal(out.code, 0, out.output);
      assert.equal(await readFile(`${side}.orig`, "utf8"), original, "the editor got the file's bytes");
      assert.match(await assertTempGone(side), /\.txt$/, "the temporary file keeps the extension");
      assert.deepEqual(writesSince(since), [`POST /v1/secure-file/${path}`]);
      assert.equal(await readBack(path), `${original}line three\n`);
    });

    test("an editor that saves the same bytes: nothing is uploaded", async () => {
      const path = seeded("same");
      const side = scratchPath("editor");
      const since = stack.requests.entries("cerberus").length;
      const out = await editOnTerminal(["file", "edit", path], fakeEditor(side, `cat "$1.orig" > "$2"`));
      assert.equal(out.code, 0, out.output);
      assert.match(out.output, /no change; nothing uploaded/);
      await assertTempGone(side);
      assert.deepEqual(writesSince(since), []);
      assert.equal(await readBack(path), original);
    });

    test("an editor that exits 1: non-zero exit, nothing uploaded", async () => {
      const path = seeded("fails");
      const side = scratchPath("editor");
      const since = stack.requests.entries("cerberus").length;
      const out = await editOnTerminal(["file", "edit", path], fakeEditor(side, `printf "x" >> "$2"; exit 1`));
      assert.notEqual(out.code, 0, out.output);
      assert.match(out.output, /exited with code 1; the edit was discarded/);
      await assertTempGone(side);
      assert.deepEqual(writesSince(since), []);
      assert.equal(await readBack(path), original);
    });
  });

  describe("login", () => {
    /** The environment of a login: where Cerberus is, and nothing about the user. */
    function loginEnv(): Record<string, string> {
      return { ...baseEnv(), CERBERUS_URL: stack.env.CERBERUS_URL };
    }

    /** Starts `login` with `args` on a terminal whose device the test can look at. */
    function login(args: string[]): TerminalRun {
      return new TerminalRun(["login", ...args], loginEnv(), { announceTty: true });
    }

    /**
     * The lines of a run's output that are none of: the terminal's device, prompts (and answers
     * echoed after them), the device menu, messages of the command line and the attempts they list.
     */
    function resultLines(output: string): string[] {
      return output.split("\n").slice(1).map((line) => line.trim()).filter((line) =>
        line !== "" &&
        !/^(Username|Password|Device \[\d+-\d+\]|Code from [^:]*):/.test(line) &&
        !/^(cerberus-edge: |MFA devices:$|\d+\. |- )/.test(line)
      );
    }

    /** Asserts that Cerberus takes `token` (a read of the seeded secret with it), without ever printing it. */
    async function assertWorkingToken(token: string): Promise<void> {
      const out = await spawnCli(["read", stack.defaults!.secretPath], {
        ...loginEnv(),
        CERBERUS_AUTH: "token",
        CERBERUS_TOKEN: token,
      });
      assert.equal(out.code, 0, "a read with the printed token failed");
      assert.deepEqual(JSON.parse(out.stdout), stack.defaults!.secret);
    }

    /** How many user logins Cerberus answered since the log held `since` entries. */
    function loginsSince(since: number): number {
      return stack.requests.entries("cerberus").slice(since).filter((e) => e.path === "/v2/auth/user").length;
    }

    test("--username, the password typed at the hidden prompt (one typo erased): not echoed, exit 0", async () => {
      const { username, password } = stack.defaults!.user;
      const run = login(["--username", username]);
      await run.answer("Password: ", `${password}x\u007f`);
      const out = await run.finish();
      assert.equal(out.code, 0, redact(out.output));
      assert.doesNotMatch(out.output, /Username: /, "--username is not asked again");
      assert.ok(!out.output.includes(password), "the password was echoed");
      assert.ok(!out.output.includes("*".repeat(4)), "the password was masked, not hidden");
      assert.doesNotMatch(out.output, /Password: [^\n]/, "nothing shown after the prompt (no echo, no \\b)");
      assert.match(out.output, /Password: \n/, "the prompt's line ends when Enter is typed");
      assert.match(out.output, new RegExp(`cerberus-edge: logged in as ${username.replace(/\./g, "\\.")}\n`));
      assert.deepEqual(resultLines(out.output), [], "nothing printed on stdout without --print-token");
    });

    test("the username typed at its prompt is echoed, the password is not; --print-token prints a token that works", async () => {
      const { username, password } = stack.defaults!.user;
      const run = login(["--print-token"]);
      await run.answer("Username: ", username);
      await run.waitFor(`${username}\n`);
      await run.answer("Password: ", password);
      const out = await run.finish();
      assert.equal(out.code, 0, redact(out.output));
      assert.match(out.output, new RegExp(`Username: ${username.replace(/\./g, "\\.")}\nPassword: \n`));
      assert.ok(!out.output.includes(password), "the password was echoed");
      const lines = resultLines(out.output);
      assert.equal(lines.length, 1, `expected one token line, got ${JSON.stringify(lines.map(redact))}`);
      assert.match(lines[0]!, /^\S+$/, "the token line is one word");
      await assertWorkingToken(lines[0]!);
    });

    test("a wrong password: exit 3, not echoed, no token", async () => {
      const { username } = stack.defaults!.user;
      const wrong = "not-the-Password-42";
      const run = login(["--username", username, "--print-token"]);
      await run.answer("Password: ", wrong);
      const out = await run.finish();
      assert.equal(out.code, 3, redact(out.output));
      assert.ok(!out.output.includes(wrong), "the password was echoed or printed");
      assert.match(out.output, /\ncerberus-edge: \S/);
      assert.deepEqual(resultLines(out.output), [], "no token");
    });

    test("Ctrl-C at the password prompt stops the command before anything is sent", async () => {
      const since = stack.requests.entries("cerberus").length;
      const run = login(["--username", stack.defaults!.user.username]);
      await run.waitFor("Password: ");
      await run.untilRaw();
      run.type("secr\u0003");
      const out = await run.finish();
      assert.notEqual(out.code, 0, out.output);
      assert.match(out.output, /stopped at the prompt/);
      assert.ok(!out.output.includes("secr"), "the password was echoed");
      assert.equal(loginsSince(since), 0, "no login was attempted");
    });

    test(
      "the password typed as soon as its prompt shows is not echoed either",
      async () => {
        const { username, password } = stack.defaults!.user;
        const run = login(["--username", username]);
        await run.waitFor("Password: ");
        run.type(`${password}\r`);
        const out = await run.finish();
        assert.equal(out.code, 0, redact(out.output));
        assert.ok(!out.output.includes(password), "the password was echoed");
      },
    );

    describe("with MFA", () => {
      const password = "mfa-local-password";
      const totpCode = "246810";
      const smsCode = "135791";
      const twoDevices = "mfa-two@local.test";
      const oneDevice = "mfa-one@local.test";

      before(() => {
        // The stack's devices take one fixed code each (no clock-based TOTP).
        stack.seed.user({
          username: twoDevices,
          password,
          groups: ["demo-owners"],
          mfa: [{ kind: "totp", otp: totpCode }, { kind: "sms", otp: smsCode }],
        });
        stack.seed.user({
          username: oneDevice,
          password,
          groups: ["demo-owners"],
          mfa: [{ kind: "totp", otp: totpCode }],
        });
      });

      /** Logs in as `username` up to the MFA step: returns the run. */
      async function upToMfa(username: string, extra: string[] = []): Promise<TerminalRun> {
        const run = login(["--username", username, ...extra]);
        await run.answer("Password: ", password);
        return run;
      }

      /** MFA checks Cerberus answered since the log held `since` entries: their statuses. */
      function mfaChecksSince(since: number): number[] {
        return stack.requests.entries("cerberus").slice(since).filter((e) => e.path === "/v2/auth/mfa_check")
          .map((e) => e.status);
      }

      test("two devices: the menu, the SMS device triggered, its code echoed; a token that works", async () => {
        const since = stack.requests.entries("cerberus").length;
        const run = await upToMfa(twoDevices, ["--print-token"]);
        await run.answer("MFA devices:\n  1. Google Authenticator\n  2. Okta Text Message Code\nDevice [1-2]: ", "2");
        await run.answer("Code from Okta Text Message Code: ", smsCode);
        const out = await run.finish();
        assert.equal(out.code, 0, redact(out.output));
        assert.ok(!out.output.includes(password), "the password was echoed");
        assert.match(out.output, /Device \[1-2\]: 2\n/, "the choice is echoed");
        assert.match(out.output, new RegExp(`Code from Okta Text Message Code: ${smsCode}\n`), "the code is echoed");
        assert.deepEqual(mfaChecksSince(since), [200, 200], "the trigger, then the code");
        const lines = resultLines(out.output);
        assert.equal(lines.length, 1, `expected one token line, got ${JSON.stringify(lines.map(redact))}`);
        await assertWorkingToken(lines[0]!);
      });

      test("one device: no menu, straight to its code", async () => {
        const since = stack.requests.entries("cerberus").length;
        const run = await upToMfa(oneDevice);
        await run.answer("Code from Google Authenticator: ", totpCode);
        const out = await run.finish();
        assert.equal(out.code, 0, redact(out.output));
        assert.doesNotMatch(out.output, /MFA devices:|Device \[/);
        assert.match(out.output, new RegExp(`logged in as ${oneDevice.replace(/\./g, "\\.")}`));
        assert.deepEqual(mfaChecksSince(since), [200], "no trigger, one check");
      });

      test("a wrong code: exit 3", async () => {
        const run = await upToMfa(oneDevice);
        await run.answer("Code from Google Authenticator: ", "000000");
        const out = await run.finish();
        assert.equal(out.code, 3, redact(out.output));
        assert.doesNotMatch(out.output, /logged in as/);
      });

      test("a device number not in the menu: exit 2", async () => {
        const since = stack.requests.entries("cerberus").length;
        const run = await upToMfa(twoDevices);
        await run.answer("Device [1-2]: ", "7");
        const out = await run.finish();
        assert.equal(out.code, 2, redact(out.output));
        assert.match(out.output, /no such MFA device/);
        assert.deepEqual(mfaChecksSince(since), [], "no MFA check");
      });
    });
  });

  test("without a terminal, edit, file edit and login exit 2 and say they need one", async () => {
    const env = { ...baseEnv(), CERBERUS_URL: stack.env.CERBERUS_URL };
    const since = stack.requests.entries("cerberus").length;
    for (const argv of [["edit", "app/demo/config"], ["file", "edit", "app/demo/x.txt"], ["login"]]) {
      const out = await spawnCli(argv, env, { input: "" });
      assert.equal(out.code, 2, `${argv.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr, /needs a terminal/, `${argv.join(" ")}: ${out.stderr}`);
      assert.equal(out.stdout, "");
    }
    const sent = stack.requests.entries("cerberus").slice(since).map((e) => `${e.method} ${e.path}`);
    assert.deepEqual(sent, [], "no request reached Cerberus");
  });
});
