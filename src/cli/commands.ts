/**
 * The table of the command line: every command with its arguments, options, summary and
 * example, and the options every command takes. Parsing, help and completion read it.
 *
 * @module
 */
import type { CommandSpec, OptionSpec } from "./spec.ts";
import { SECRET_FORMATS } from "./format.ts";

/** Options every command takes; those that configure the client override the environment. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: "url", kind: "value", placeholder: "<url>", help: "Cerberus base URL (overrides CERBERUS_URL)" },
  {
    name: "auth",
    kind: "value",
    placeholder: "<method>",
    choices: ["auto", "token", "sts", "kms", "kms-v1", "user"],
    help: "how to authenticate (overrides CERBERUS_AUTH)",
  },
  { name: "region", kind: "value", placeholder: "<region>", help: "AWS region for auth (overrides CERBERUS_REGION)" },
  {
    name: "timeout",
    kind: "value",
    placeholder: "<duration>",
    help: "time budget of the whole command: 30s, 500ms, 2m (default 30s a call)",
  },
  { name: "json", kind: "flag", help: "on failure, print one JSON object on stderr instead of a line" },
  { name: "verbose", kind: "flag", help: "print progress on stderr (shown anyway on a terminal)" },
  { name: "help", short: "h", kind: "flag", help: "print help (of a command: cerberus-edge <command> --help)" },
  { name: "version", kind: "flag", help: "print the version" },
];

/** What `sdb create` and `sdb update` set. */
const SDB_OPTIONS: readonly OptionSpec[] = [
  { name: "owner", kind: "value", placeholder: "<group>", help: "the owning group" },
  { name: "description", kind: "value", placeholder: "<text>", help: "a description" },
  { name: "iam", kind: "list", placeholder: "<arn>,<role>", help: "an IAM principal and its role (repeatable)" },
  { name: "group", kind: "list", placeholder: "<name>,<role>", help: "a user group and its role (repeatable)" },
];

const PATH_SECRET = "<category>/<sdb>/<path>";

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "read",
    usage: "<path>",
    args: [1, 1],
    argKinds: ["secret-path"],
    summary: `Print the secret at ${PATH_SECRET} (JSON by default)`,
    example: "cerberus-edge read app/payments/db --format shell",
    options: [
      { name: "key", kind: "value", placeholder: "<key>", help: "print only this key's value, raw" },
      {
        name: "format",
        kind: "value",
        placeholder: "<format>",
        choices: SECRET_FORMATS,
        help: "json (default), env (KEY=value), dotenv (KEY=\"...\") or shell (export KEY='...')",
      },
      { name: "version-id", kind: "value", placeholder: "<id>", help: "read this version (see: versions)" },
    ],
  },
  {
    name: "list",
    usage: "<path>",
    args: [1, 1],
    argKinds: ["secret-path"],
    summary: "Print the keys under <category>/<sdb>[/<folder>] (a folder ends in /)",
    example: "cerberus-edge list -r app/payments",
    options: [{ name: "recursive", short: "r", kind: "flag", help: "walk the whole tree, printing full paths" }],
  },
  {
    name: "write",
    usage: "<path> [key=value ...]",
    args: [1, Number.POSITIVE_INFINITY],
    argKinds: ["secret-path", "word"],
    summary: "Write a secret from key=value pairs (key=@file: the value is in a file)",
    details: "Without --merge the secret becomes exactly the given keys; with --merge other keys are kept\n" +
      "(read, merge, write: a concurrent writer's change can be lost).",
    example: "cerberus-edge write app/payments/db user=app password=@./password.txt --merge",
    options: [
      { name: "merge", kind: "flag", help: "keep the keys not given" },
      {
        name: "json",
        kind: "value",
        placeholder: "<file|->",
        complete: "file",
        help: "read the keys from a JSON object in a file (- for stdin)",
      },
    ],
  },
  {
    name: "delete",
    usage: "<path>",
    args: [1, 1],
    argKinds: ["secret-path"],
    summary: "Delete the secret at a path",
    example: "cerberus-edge delete app/payments/old",
    options: [],
  },
  {
    name: "versions",
    usage: "<path>",
    args: [1, 1],
    argKinds: ["secret-path"],
    summary: "Print the history of a secret or file, newest first, as JSON lines",
    example: "cerberus-edge versions app/payments/db",
    options: [],
  },
  {
    name: "file ls",
    usage: "<category>/<sdb>",
    args: [1, 1],
    argKinds: ["secret-path"],
    summary: "List the files of an SDB, one path per line",
    example: "cerberus-edge file ls app/payments",
    options: [],
  },
  {
    name: "file get",
    usage: "<path>",
    args: [1, 1],
    argKinds: ["file-path"],
    summary: "Write a file's bytes to stdout (or to -o FILE)",
    example: "cerberus-edge file get app/payments/cert.pem -o cert.pem",
    options: [
      { name: "output", short: "o", kind: "value", placeholder: "<file>", complete: "file", help: "write here" },
      { name: "version-id", kind: "value", placeholder: "<id>", help: "read this version" },
    ],
  },
  {
    name: "file put",
    usage: "<path> <local-file>",
    args: [2, 2],
    argKinds: ["file-path", "local-file"],
    summary: "Upload a local file to a path (- for stdin)",
    example: "cerberus-edge file put app/payments/cert.pem ./cert.pem",
    options: [],
  },
  {
    name: "file rm",
    usage: "<path>",
    args: [1, 1],
    argKinds: ["file-path"],
    summary: "Delete a file",
    example: "cerberus-edge file rm app/payments/cert.pem",
    options: [],
  },
  {
    name: "file edit",
    usage: "<path>",
    args: [1, 1],
    argKinds: ["file-path"],
    summary: "Edit a file in $CERBERUS_EDITOR or $EDITOR; uploaded if changed",
    example: "cerberus-edge file edit app/payments/config.yaml",
    options: [],
  },
  {
    name: "edit",
    usage: "<path>",
    args: [1, 1],
    argKinds: ["secret-path"],
    summary: "Edit a secret as JSON in $CERBERUS_EDITOR or $EDITOR; saved if changed",
    example: "cerberus-edge edit app/payments/db",
    options: [],
  },
  {
    name: "exec",
    usage: "-- <command> [args ...]",
    args: [1, Number.POSITIVE_INFINITY],
    argKinds: ["word"],
    summary: "Run a command with secrets in its environment; exits with its code",
    details: "Nothing is written to disk and no value is printed. A variable already set keeps its value\n" +
      "unless --override. Signals are passed on to the command.",
    example: "cerberus-edge exec --path app/payments/db --uppercase -- ./server --port 8080",
    options: [
      { name: "path", kind: "list", placeholder: "<path>", help: "a secret to add (repeatable; later ones win)" },
      { name: "prefix", kind: "value", placeholder: "<prefix>", help: "put this before every variable name" },
      { name: "uppercase", kind: "flag", help: "upper-case the variable names" },
      { name: "override", kind: "flag", help: "replace variables that are already set" },
    ],
  },
  {
    name: "sdb ls",
    usage: "",
    args: [0, 0],
    summary: "List the SDBs this token can see, as JSON",
    example: "cerberus-edge sdb ls",
    options: [],
  },
  {
    name: "sdb get",
    usage: "<id|category/sdb>",
    args: [1, 1],
    argKinds: ["sdb"],
    summary: "Print one SDB (owner, permissions) as JSON",
    example: "cerberus-edge sdb get app/payments",
    options: [],
  },
  {
    name: "sdb create",
    usage: "<name>",
    args: [1, 1],
    argKinds: ["word"],
    summary: "Create an SDB; prints it as JSON",
    example: "cerberus-edge sdb create payments --category app --owner Lst-payments --group Lst-ops,read",
    options: [
      { name: "category", kind: "value", placeholder: "<name|id>", help: "its category (see: categories)" },
      ...SDB_OPTIONS,
    ],
  },
  {
    name: "sdb update",
    usage: "<id|category/sdb>",
    args: [1, 1],
    argKinds: ["sdb"],
    summary: "Change an SDB; options not given keep their value; prints it as JSON",
    details: "--iam and --group, when given, replace that whole list of permissions.",
    example: "cerberus-edge sdb update app/payments --group Lst-auditors,read",
    options: SDB_OPTIONS,
  },
  {
    name: "sdb rm",
    usage: "<id|category/sdb>",
    args: [1, 1],
    argKinds: ["sdb"],
    summary: "Delete an SDB and everything in it",
    example: "cerberus-edge sdb rm app/old-service",
    options: [],
  },
  {
    name: "categories",
    usage: "",
    args: [0, 0],
    summary: "List the SDB categories as JSON",
    example: "cerberus-edge categories",
    options: [],
  },
  {
    name: "roles",
    usage: "",
    args: [0, 0],
    summary: "List the roles a permission can grant as JSON",
    example: "cerberus-edge roles",
    options: [],
  },
  {
    name: "login",
    usage: "",
    args: [0, 0],
    summary: "Log in as a user (password and MFA prompted on a terminal)",
    details: "Prints nothing but progress unless --print-token: then the token goes to stdout, for\n" +
      "  export CERBERUS_TOKEN=$(cerberus-edge login --print-token)",
    example: "cerberus-edge login --username alice@example.com --print-token",
    options: [
      { name: "username", kind: "value", placeholder: "<name>", help: "the user (default CERBERUS_USERNAME)" },
      { name: "print-token", kind: "flag", help: "print the token on stdout" },
    ],
  },
  {
    name: "whoami",
    usage: "",
    args: [0, 0],
    summary: "Print method, principal, policies and expiry as JSON (never the token)",
    example: "cerberus-edge whoami",
    options: [],
  },
  {
    name: "demo",
    usage: "",
    args: [0, 0],
    summary: "Run KMS auth and a read against the embedded local stack on 127.0.0.1",
    example: "cerberus-edge demo",
    options: [],
  },
  {
    name: "completion",
    usage: "<bash|zsh|fish>",
    args: [1, 1],
    argKinds: ["word"],
    summary: "Print a shell completion script",
    details: "bash: source <(cerberus-edge completion bash)\n" +
      "zsh:  source <(cerberus-edge completion zsh)\n" +
      "fish: cerberus-edge completion fish | source",
    example: "cerberus-edge completion bash > /etc/bash_completion.d/cerberus-edge",
    options: [],
  },
  {
    name: "help",
    usage: "[command]",
    args: [0, 2],
    argKinds: ["word"],
    summary: "Print help, of everything or of one command",
    example: "cerberus-edge help exec",
    options: [],
  },
];

/** The shells `completion` writes a script for. */
export const SHELLS: readonly string[] = ["bash", "zsh", "fish"];

/** The first words of commands that have sub-commands (`file`, `sdb`). */
export const GROUPS: ReadonlySet<string> = new Set(
  COMMANDS.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[0]!),
);

/** The subcommands of a group (`file` → `ls`, `get`, …), in the table's order. */
export function subcommandsOf(group: string): string[] {
  return COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.slice(group.length + 1));
}

/** The hidden command the completion scripts call: `__complete <kind> <word>` prints candidates, one per line. */
export const COMPLETE: CommandSpec = {
  name: "__complete",
  usage: "<kind> <word>",
  args: [2, 2],
  summary: "Print completion candidates (used by the completion scripts)",
  example: "cerberus-edge __complete secret-path app/",
  options: [],
};
