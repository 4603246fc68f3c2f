/**
 * How `read --format` prints a secret and how `exec` names its variables: exact output of every
 * format, hostile values (the `shell` output is evaluated by real shells and the `dotenv` output
 * parsed back by a strict reference reader), invalid keys and values refused with errors that
 * name the key but never the value. Runs under `node --import tsx --test`, `bun test` and
 * `deno test -A`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { envName, formatSecret, SECRET_FORMATS, secretEnv, type SecretFormat } from "../../src/cli/format.ts";
import { InvalidInputError } from "../../src/errors.ts";
import { hasControl } from "../../src/internal/text.ts";
import { thrown } from "../internal/_helpers.ts";

const LINE_FORMATS = ["env", "dotenv", "shell"] as const;
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// /bin/sh is dash on some systems and bash on others: try each distinct one present.
const SHELLS = [
  ...new Set(
    ["/bin/sh", "/bin/dash", "/bin/bash"].filter((shell) => existsSync(shell)).map((shell) => realpathSync(shell)),
  ),
];

const ORDINARY = { DB_HOST: "db.example.com", DB_PORT: "5432", api_key: "abc-123", _x: "" };

// Meant to show up in the output of a broken quoting, never to do harm: each writes to stderr.
const HOSTILE_VALUES = [
  "",
  "plain",
  "it's",
  "'",
  "''",
  "'\\''",
  "'; printf pwned >&2; '",
  '"double"',
  '"',
  "$(printf pwned >&2)",
  "`printf pwned >&2`",
  "$HOME",
  "${HOME}",
  "$1 $@ $* $$ $? $# $0",
  "!!",
  "!$ !-1",
  "\\",
  "\\\\",
  "\\n",
  "a\\'b",
  "line1\nline2",
  "trailing newlines\n\n",
  "\r\n",
  "\r",
  "; exit 7",
  "&& false || true | cat",
  "# not a comment",
  "  leading and trailing  ",
  "\t tab",
  "~ * ? [a-z] {a,b}",
  "%s %n %%",
  "\u001b[31mred\u001b[0m",
  "\u0001\u007f\u0085",
  "héllo wörld",
  "日本語のテキスト",
  "emoji 🚀 and 👨‍👩‍👧",
  "\u2028\u2029\u00a0\ufeff",
  "-n",
  "--",
  "EOF\nEOF",
  '"\'"\'"',
  "x".repeat(5000),
];

/** Asserts that `fn` throws an InvalidInputError for `field` whose message names `key` and holds none of `values`. */
function assertRefused(fn: () => unknown, field: string, key: string, values: readonly string[] = []): string {
  const error = thrown(fn);
  assert.ok(error instanceof InvalidInputError, `expected an InvalidInputError, got ${String(error)}`);
  assert.equal(error.field, field);
  assert.ok(error.message.startsWith(`${field}: `), error.message);
  assert.ok(error.message.includes(`"${key}"`), `${error.message} should name ${key}`);
  for (const value of values) assert.ok(!error.message.includes(value), `${error.message} holds the value`);
  return error.message;
}

/** The values of the variables `names` after `script` ran in `shell`, as bytes. */
function runShell(shell: string, script: string, names: readonly string[]): Uint8Array[] {
  const reads = names.map((name) => `"$${name}"`).join(" ");
  const out = spawnSync(shell, ["-c", `${script}printf '%s\\0' ${reads}`]);
  assert.equal(out.error, undefined);
  assert.equal(out.stderr.toString(), "", `${shell} wrote to stderr`);
  assert.equal(out.status, 0);
  const values: Uint8Array[] = [];
  let start = 0;
  for (let end = out.stdout.indexOf(0); end !== -1; end = out.stdout.indexOf(0, start)) {
    values.push(out.stdout.subarray(start, end));
    start = end + 1;
  }
  assert.equal(start, out.stdout.length, "output after the last value");
  return values;
}

/** Evaluates `formatSecret(values, "shell")` in `shell` and asserts that every variable holds its value exactly. */
function assertShellRoundTrip(shell: string, values: readonly string[]): void {
  const names = values.map((_, i) => `K${i}`);
  const data = Object.fromEntries(values.map((value, i) => [names[i], value]));
  const got = runShell(shell, formatSecret(data, "shell"), names);
  assert.equal(got.length, values.length);
  values.forEach((value, i) => {
    assert.deepEqual(Buffer.from(got[i] ?? []), Buffer.from(value, "utf8"), `K${i} = ${JSON.stringify(value)}`);
  });
}

// A strict reader of the dotenv output: every line `KEY="..."` with only the five escapes inside
// and no bare `"`, `\`, `$`, CR or LF, so a match also proves nothing is left for a loader to expand.
const DOTENV_LINE = /^([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\$\n\r]|\\[\\"nr$])*)"$/;
const DOTENV_UNESCAPE: Record<string, string> = { "\\": "\\", '"': '"', n: "\n", r: "\r", $: "$" };

function parseDotenv(text: string): [string, string][] {
  assert.ok(text === "" || text.endsWith("\n"), "newline-terminated");
  const lines = text === "" ? [] : text.slice(0, -1).split("\n");
  return lines.map((line) => {
    const match = DOTENV_LINE.exec(line);
    assert.ok(match, `not a strict dotenv line: ${JSON.stringify(line)}`);
    const [, key = "", body = ""] = match;
    return [key, body.replace(/\\(.)/g, (_, c: string) => DOTENV_UNESCAPE[c] ?? assert.fail(`escape \\${c}`))];
  });
}

const withoutNul = (s: string) => s.replaceAll("\0", "");
const shellMeta = fc.constantFrom(
  ..."'\"\\$`!\n\r(){}[];&|<>*?~#% \t-=".split(""),
  "$(",
  "${",
  "'\\''",
  "\u2028",
  "é",
  "🚀",
);
/** Arbitrary strings without NUL, biased toward what a shell or a dotenv loader treats specially. */
const value = fc.oneof(
  fc.string({ unit: "binary" }).map(withoutNul),
  fc.string({ unit: "binary-ascii" }).map(withoutNul),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: shellMeta }),
);
const variableName = fc.stringMatching(VALID_NAME).filter((name) => name.length <= 40);

describe("SECRET_FORMATS", () => {
  it("lists the four formats", () => {
    assert.deepEqual(SECRET_FORMATS, ["json", "env", "dotenv", "shell"]);
  });
});

describe("formatSecret: ordinary data", () => {
  it("json is the map indented by two spaces, newline-terminated", () => {
    assert.equal(
      formatSecret(ORDINARY, "json"),
      '{\n  "DB_HOST": "db.example.com",\n  "DB_PORT": "5432",\n  "api_key": "abc-123",\n  "_x": ""\n}\n',
    );
  });

  it("env is KEY=value lines in the map's order", () => {
    assert.equal(formatSecret(ORDINARY, "env"), "DB_HOST=db.example.com\nDB_PORT=5432\napi_key=abc-123\n_x=\n");
  });

  it('dotenv is KEY="value" lines in the map\'s order', () => {
    assert.equal(
      formatSecret(ORDINARY, "dotenv"),
      'DB_HOST="db.example.com"\nDB_PORT="5432"\napi_key="abc-123"\n_x=""\n',
    );
  });

  it("shell is export KEY='value' lines in the map's order", () => {
    assert.equal(
      formatSecret(ORDINARY, "shell"),
      "export DB_HOST='db.example.com'\nexport DB_PORT='5432'\nexport api_key='abc-123'\nexport _x=''\n",
    );
  });

  it("an empty map is {} in json and the empty string in the other formats", () => {
    assert.equal(formatSecret({}, "json"), "{}\n");
    for (const format of LINE_FORMATS) assert.equal(formatSecret({}, format), "");
  });

  it("json keeps every key, valid variable name or not, and escapes control characters", () => {
    const data = JSON.parse('{"__proto__":"p","a-b":"1","1x":"2","":"3","nul":"a\\u0000b"}');
    const text = formatSecret(data, "json");
    assert.equal(
      text,
      '{\n  "__proto__": "p",\n  "a-b": "1",\n  "1x": "2",\n  "": "3",\n  "nul": "a\\u0000b"\n}\n',
    );
    assert.deepEqual(Object.entries(JSON.parse(text)), Object.entries(data));
  });

  it("keys such as __proto__ and constructor are ordinary keys in every format", () => {
    const data = JSON.parse('{"__proto__":"p","constructor":"c"}');
    assert.equal(formatSecret(data, "env"), "__proto__=p\nconstructor=c\n");
    assert.equal(formatSecret(data, "shell"), "export __proto__='p'\nexport constructor='c'\n");
  });

  it("an unknown format is refused", () => {
    for (const format of ["yaml", "toString", "__proto__", ""]) {
      const error = thrown(() => formatSecret({ A: "1" }, format as SecretFormat));
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.field, "--format");
    }
  });
});

describe("formatSecret: hostile values", () => {
  it("env prints values raw", () => {
    assert.equal(
      formatSecret({ A: `it's "raw" $HOME \\ $(x) \`y\` #z`, B: " \t日本 " }, "env"),
      `A=it's "raw" $HOME \\ $(x) \`y\` #z\nB= \t日本 \n`,
    );
  });

  it("dotenv escapes backslash, double quote, LF, CR and $ exactly", () => {
    assert.equal(formatSecret({ A: 'a\\b"c\nd\re$f' }, "dotenv"), 'A="a\\\\b\\"c\\nd\\re\\$f"\n');
    assert.equal(formatSecret({ A: "$HOME ${HOME} $(id)" }, "dotenv"), 'A="\\$HOME \\${HOME} \\$(id)"\n');
    assert.equal(formatSecret({ A: "\\n" }, "dotenv"), 'A="\\\\n"\n');
    assert.equal(formatSecret({ A: "\r\n" }, "dotenv"), 'A="\\r\\n"\n');
  });

  it("dotenv leaves single quotes, backticks, tabs and unicode as they are", () => {
    assert.equal(formatSecret({ A: "it's `id`\t日本 🚀 #x" }, "dotenv"), 'A="it\'s `id`\t日本 🚀 #x"\n');
  });

  it("shell writes each single quote as '\\''", () => {
    assert.equal(formatSecret({ A: "it's" }, "shell"), "export A='it'\\''s'\n");
    assert.equal(formatSecret({ A: "'" }, "shell"), "export A=''\\'''\n");
    assert.equal(formatSecret({ A: "$(rm -rf /)" }, "shell"), "export A='$(rm -rf /)'\n");
    assert.equal(formatSecret({ A: "a\nb\\" }, "shell"), "export A='a\nb\\'\n");
  });

  for (const shell of SHELLS) {
    it(`shell output evaluated by ${shell} gives back every hostile value byte for byte`, () => {
      assertShellRoundTrip(shell, HOSTILE_VALUES);
    });
  }

  it("shell output exports the variables to child processes", { skip: SHELLS.length === 0 }, () => {
    const shell = SHELLS[0] ?? "/bin/sh";
    const script = `${formatSecret({ CE_TEST: "it's $HOME\n" }, "shell")}"$0" -c 'printf %s "$CE_TEST"'`;
    const out = spawnSync(shell, ["-c", script, shell]);
    assert.equal(out.status, 0);
    assert.equal(out.stdout.toString(), "it's $HOME\n");
  });

  for (const shell of SHELLS) {
    it(`property: any NUL-free values survive evaluation by ${shell}`, () => {
      fc.assert(
        fc.property(fc.array(value, { minLength: 1, maxLength: 12 }), (values) => {
          assertShellRoundTrip(shell, values);
        }),
        { numRuns: 100 },
      );
    });
  }

  it("property: dotenv output is strict dotenv that reads back to the same map", () => {
    fc.assert(
      fc.property(fc.dictionary(variableName, value, { maxKeys: 8 }), (data) => {
        assert.deepEqual(parseDotenv(formatSecret(data, "dotenv")), Object.entries(data));
      }),
      { numRuns: 500 },
    );
  });

  it("property: env output is one KEY=value line per key when no value has a line break", () => {
    const oneLine = value.map((s) => s.replace(/[\r\n]/g, ""));
    fc.assert(
      fc.property(fc.dictionary(variableName, oneLine, { maxKeys: 8 }), (data) => {
        const expected = Object.entries(data).map(([k, v]) => `${k}=${v}\n`).join("");
        assert.equal(formatSecret(data, "env"), expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe("formatSecret: refusals", () => {
  const SECRET = "s3cr3t-VALUE-never-shown";
  const INVALID_KEYS = ["1abc", "a-b", "a b", "a.b", "é", "$A", "A=B", "a'b", "ключ"];

  for (const format of LINE_FORMATS) {
    it(`${format}: a key that is not a variable name is refused, naming the key, not the value`, () => {
      for (const key of INVALID_KEYS) {
        const message = assertRefused(() => formatSecret({ OK: "fine", [key]: SECRET }, format), "--format", key, [
          SECRET,
        ]);
        assert.match(message, /not a valid variable name/);
        assert.match(message, /--format json/);
      }
      assertRefused(() => formatSecret({ "": SECRET }, format), "--format", "", [SECRET]);
    });

    it(`${format}: a key with control characters is shown sanitised and cut to 80 characters`, () => {
      const error = thrown(() => formatSecret({ "bad\nkey\u001b[2J": SECRET }, format));
      assert.ok(error instanceof InvalidInputError);
      assert.ok(!hasControl(error.message), JSON.stringify(error.message));
      assert.match(error.message, /"bad key \[2J"/);

      const long = `-${"k".repeat(300)}`;
      const cut = thrown(() => formatSecret({ [long]: SECRET }, format));
      assert.ok(cut instanceof InvalidInputError);
      const shown = /"([^"]*)"/.exec(cut.message)?.[1] ?? "";
      assert.ok(shown.length <= 80 && shown.length > 40, shown);
      assert.ok(long.startsWith(shown.slice(0, -1)));
    });

    it(`${format}: a NUL in a value is refused, naming the key, not the value`, () => {
      const message = assertRefused(
        () => formatSecret({ A: "ok", NUL_KEY: `${SECRET}\0x` }, format),
        "--format",
        "NUL_KEY",
        [
          SECRET,
        ],
      );
      assert.match(message, /NUL/);
    });
  }

  it("env: a value with LF or CR is refused, naming the key and the formats that can carry it", () => {
    for (const bad of [`${SECRET}\nmore`, `${SECRET}\r`, "\r\n"]) {
      const message = assertRefused(() => formatSecret({ A: "ok", MULTI_LINE: bad }, "env"), "--format", "MULTI_LINE", [
        SECRET,
      ]);
      assert.match(message, /--format dotenv/);
      assert.match(message, /shell/);
    }
  });

  it("keys are checked in the map's order: the first bad key is the one named", () => {
    assertRefused(() => formatSecret({ "first-bad": "1", "second-bad": "2" }, "shell"), "--format", "first-bad");
    assertRefused(() => formatSecret({ A: "x\ny", "b-c": "1" }, "env"), "--format", "A");
  });

  it("property: whatever the data, a refusal never holds a value", () => {
    const marked = fc.oneof(value, fc.string({ unit: "binary-ascii" })).map((s) => `☠${s}`);
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(variableName, fc.string({ unit: "binary" })), marked, { maxKeys: 6 }),
        fc.constantFrom(...SECRET_FORMATS),
        (data, format) => {
          fc.pre(Object.keys(data).every((key) => !key.includes("☠")));
          const error = thrown(() => formatSecret(data, format));
          if (error === undefined) return;
          assert.ok(error instanceof InvalidInputError);
          assert.equal(error.field, "--format");
          assert.ok(!error.message.includes("☠"), error.message);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("envName", () => {
  it("is the key itself by default", () => {
    assert.equal(envName("db_url"), "db_url");
    assert.equal(envName("db_url", {}), "db_url");
    assert.equal(envName("db_url", { prefix: "" }), "db_url");
    assert.equal(envName("__proto__"), "__proto__");
  });

  it("puts the prefix first and uppercases the whole name when asked", () => {
    assert.equal(envName("db_url", { prefix: "APP_" }), "APP_db_url");
    assert.equal(envName("db_url", { uppercase: true }), "DB_URL");
    assert.equal(envName("db_url", { prefix: "app_", uppercase: true }), "APP_DB_URL");
    assert.equal(envName("Db_Url", { prefix: "x", uppercase: false }), "xDb_Url");
  });

  it("a prefix makes a key that starts with a digit a valid name", () => {
    assert.equal(envName("1password", { prefix: "K_" }), "K_1password");
    assertRefused(() => envName("1password"), "exec", "1password");
  });

  it("a key that does not make a valid name is refused with field exec, naming it", () => {
    for (const key of ["db-url", "a b", "a.b", "", "ключ"]) {
      assertRefused(() => envName(key), "exec", key);
      if (key !== "") assertRefused(() => envName(key, { prefix: "APP_", uppercase: true }), "exec", key);
    }
    // prefix + key is what must be a name: with a prefix, even the empty key makes one.
    assert.equal(envName("", { prefix: "APP_" }), "APP_");
  });

  it("a key is checked before uppercasing: straße does not become STRASSE", () => {
    assertRefused(() => envName("straße", { uppercase: true }), "exec", "straße");
    assertRefused(() => envName("ſ", { uppercase: true }), "exec", "ſ");
  });

  it("an invalid prefix is refused with field --prefix", () => {
    for (const prefix of ["1X", "A-", "A B", "é_", "$X"]) {
      assertRefused(() => envName("key", { prefix }), "--prefix", prefix);
    }
  });

  it("property: the result is a valid name, or the refusal is an InvalidInputError", () => {
    fc.assert(
      fc.property(
        fc.oneof(variableName, fc.string(), fc.string({ unit: "binary" })),
        fc.oneof(fc.constant(undefined), variableName, fc.string()),
        fc.boolean(),
        (key, prefix, uppercase) => {
          const options = { prefix, uppercase };
          const error = thrown(() => envName(key, options));
          if (error !== undefined) {
            assert.ok(error instanceof InvalidInputError);
            assert.ok(error.field === "--prefix" || error.field === "exec");
            return;
          }
          const name = envName(key, options);
          assert.match(name, VALID_NAME);
          const plain = (prefix ?? "") + key;
          assert.equal(name, uppercase ? plain.toUpperCase() : plain);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("secretEnv", () => {
  it("merges secrets in order: a later one wins", () => {
    assert.deepEqual(secretEnv([{ A: "1", B: "2" }, { B: "3", C: "4" }, {}]), { A: "1", B: "3", C: "4" });
    assert.deepEqual(secretEnv([]), {});
  });

  it("names variables as envName does", () => {
    assert.deepEqual(secretEnv([{ db_url: "u" }, { "1st": "f" }], { prefix: "app_", uppercase: true }), {
      APP_DB_URL: "u",
      APP_1ST: "f",
    });
  });

  it("when two keys make the same name, the later one wins", () => {
    assert.deepEqual(secretEnv([{ db: "lower", DB: "upper" }], { uppercase: true }), { DB: "upper" });
    assert.deepEqual(secretEnv([{ DB: "upper" }, { db: "lower" }], { uppercase: true }), { DB: "lower" });
  });

  it("keeps values exactly, newlines and all", () => {
    const values = HOSTILE_VALUES.map((v, i) => [`K${i}`, v] as const);
    assert.deepEqual(Object.entries(secretEnv([Object.fromEntries(values)])), values.map(([k, v]) => [k, v]));
  });

  it("a key __proto__ is an own variable, not a new prototype", () => {
    const env = secretEnv([JSON.parse('{"__proto__":"p","constructor":"c"}')]);
    assert.equal(Object.getPrototypeOf(env), Object.prototype);
    assert.deepEqual(Object.entries(env), [["__proto__", "p"], ["constructor", "c"]]);
  });

  it("a key that does not make a valid name is refused, naming the key, not the value", () => {
    const SECRET = "s3cr3t-VALUE-never-shown";
    assertRefused(() => secretEnv([{ A: "1" }, { "bad-key": SECRET }]), "exec", "bad-key", [SECRET]);
  });

  it("a NUL in a value is refused, naming the key, not the value", () => {
    const SECRET = "s3cr3t-VALUE-never-shown";
    const message = assertRefused(() => secretEnv([{ A: "1" }, { NUL_KEY: `${SECRET}\0` }]), "exec", "NUL_KEY", [
      SECRET,
    ]);
    assert.match(message, /NUL/);
  });

  it("an invalid prefix is refused even with nothing to name", () => {
    assertRefused(() => secretEnv([], { prefix: "9" }), "--prefix", "9");
    assertRefused(() => secretEnv([{ A: "1" }], { prefix: "a-" }), "--prefix", "a-");
  });

  it("does not change its arguments", () => {
    const first = { A: "1" };
    const second = { A: "2" };
    secretEnv([first, second], { prefix: "P_" });
    assert.deepEqual(first, { A: "1" });
    assert.deepEqual(second, { A: "2" });
  });
});
