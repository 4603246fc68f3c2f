/**
 * What each command that talks to Cerberus does: the data API called with the parsed
 * arguments, the result written to stdout. Everything a runtime provides (files, child
 * processes, the terminal) comes through the {@link CliSystem} the caller passes in.
 *
 * @module
 */
import { deleteFile, listFiles, readFile, writeFile } from "../api/files.ts";
import {
  createSdb,
  deleteSdb,
  getSdb,
  getSdbByPath,
  listCategories,
  listRoles,
  listSdbs,
  roleId,
  type Sdb,
  type SdbChanges,
  updateSdb,
} from "../api/sdb.ts";
import {
  deleteSecret,
  listKeys,
  mergeSecret,
  readKey,
  readSecret,
  type SecretData,
  walk,
  writeSecret,
} from "../api/secrets.ts";
import { listVersions } from "../api/versions.ts";
import type { CerberusClient } from "../client/client.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { isRecord, kindOf, parseJson } from "../internal/decode.ts";
import { type OptionValues, shown, UsageError } from "./args.ts";
import { formatSecret, secretEnv, type SecretFormat } from "./format.ts";
import type { CommandSpec } from "./spec.ts";

/** What the commands need from the runtime beyond Cerberus; `main.ts` gives the Node-API one. */
export interface CliSystem {
  /** Reads a local file (`-` is stdin). */
  readFile(path: string): Promise<Uint8Array>;
  /** Writes a local file, readable by its owner only (mode 0600). */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Runs a command with variables added to the environment; resolves with the exit code to exit with. */
  exec(command: readonly string[], add: Readonly<Record<string, string>>, override: boolean): Promise<number>;
  /** Opens `content` in the user's editor; `changed` tells whether it was saved with other bytes. */
  edit(content: Uint8Array, suffix: string): Promise<{ changed: boolean; content: Uint8Array }>;
  /** Asks a question on the terminal; `hidden` for a password. */
  prompt(question: string, hidden: boolean): Promise<string>;
  /** Whether standard input and error are a terminal. */
  readonly terminal: boolean;
}

/** What one command runs with. */
export interface ActionContext {
  /** The command. */
  readonly command: CommandSpec;
  /** Its positional arguments. */
  readonly args: readonly string[];
  /** Its options. */
  readonly options: OptionValues;
  /** The client. */
  readonly client: CerberusClient;
  /** Stops the command when its time budget is spent. */
  readonly signal: AbortSignal;
  /** Writes the result. */
  stdout(data: string | Uint8Array): void;
  /** Writes progress (already filtered: only on a terminal or with --verbose). */
  progress(text: string): void;
  /** The runtime's files, processes and terminal. */
  readonly system: CliSystem;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Runs a command; resolves with the exit code (0 but for `exec`, which passes its command's on). */
export async function act(ctx: ActionContext): Promise<number> {
  const { client, args, options, signal } = ctx;
  const path = args[0]!;
  switch (ctx.command.name) {
    case "read": {
      const versionId = options["version-id"] as string | undefined;
      const key = options.key as string | undefined;
      if (key !== undefined && options.format !== undefined) {
        throw new UsageError("--key and --format exclude each other");
      }
      if (key !== undefined) {
        ctx.stdout(`${await readKey(client, path, key, { signal, ...(versionId ? { versionId } : {}) })}\n`);
        return 0;
      }
      const data = await readSecret(client, path, { signal, ...(versionId ? { versionId } : {}) });
      ctx.stdout(formatSecret(data, (options.format as SecretFormat | undefined) ?? "json"));
      return 0;
    }
    case "list": {
      if (options.recursive) {
        for await (const found of walk(client, path, { signal })) ctx.stdout(`${found}\n`);
      } else {
        ctx.stdout((await listKeys(client, path, { signal })).map((key) => `${key}\n`).join(""));
      }
      return 0;
    }
    case "write": {
      const data = await secretFrom(ctx);
      if (options.merge) await mergeSecret(client, path, data, { signal });
      else await writeSecret(client, path, data, { signal });
      ctx.progress(`wrote ${Object.keys(data).length} key(s) to ${shown(path)}`);
      return 0;
    }
    case "delete":
      await deleteSecret(client, path, { signal });
      return 0;
    case "versions":
      for await (const version of listVersions(client, path, { signal })) ctx.stdout(`${JSON.stringify(version)}\n`);
      return 0;
    case "file ls":
      for await (const file of listFiles(client, path, { signal })) ctx.stdout(`${file.path}\n`);
      return 0;
    case "file get": {
      const versionId = options["version-id"] as string | undefined;
      const file = await readFile(client, path, { signal, ...(versionId ? { versionId } : {}) });
      const output = options.output as string | undefined;
      if (output !== undefined && output !== "-") await ctx.system.writeFile(output, file.bytes);
      else ctx.stdout(file.bytes);
      return 0;
    }
    case "file put":
      await writeFile(client, path, await ctx.system.readFile(args[1]!), { signal });
      return 0;
    case "file rm":
      await deleteFile(client, path, { signal });
      return 0;
    case "file edit": {
      needTerminal(ctx);
      const file = await readFile(client, path, { signal });
      const edited = await ctx.system.edit(file.bytes, suffixOf(file.name));
      if (!edited.changed) {
        ctx.progress("no change; nothing uploaded");
        return 0;
      }
      await writeFile(client, path, edited.content, { signal, contentType: file.contentType });
      return 0;
    }
    case "edit": {
      needTerminal(ctx);
      const data = await readSecret(client, path, { signal });
      const edited = await ctx.system.edit(new TextEncoder().encode(json(data)), ".json");
      if (!edited.changed) {
        ctx.progress("no change; nothing written");
        return 0;
      }
      await writeSecret(client, path, secretOf(decodeText(edited.content, "the edited secret"), "the edited secret"), {
        signal,
      });
      return 0;
    }
    case "exec": {
      const secrets: SecretData[] = [];
      for (const secretPath of options.path as readonly string[]) {
        secrets.push(await readSecret(client, secretPath, { signal }));
      }
      const add = secretEnv(secrets, {
        ...(options.prefix ? { prefix: options.prefix as string } : {}),
        uppercase: options.uppercase === true,
      });
      return await ctx.system.exec(args, add, options.override === true);
    }
    case "sdb ls":
      ctx.stdout(json(await listSdbs(client, { signal })));
      return 0;
    case "sdb get":
      ctx.stdout(json(await sdbNamed(ctx, path)));
      return 0;
    case "sdb create": {
      const category = await categoryNamed(ctx, required(options.category, "--category"));
      const created = await createSdb(client, {
        name: path,
        categoryId: category,
        owner: required(options.owner, "--owner"),
        ...(await permissionChanges(ctx)),
        ...(options.description ? { description: options.description as string } : {}),
      }, { signal });
      ctx.stdout(json(created));
      return 0;
    }
    case "sdb update": {
      const sdb = await sdbNamed(ctx, path);
      const changes: SdbChanges = {
        ...(await permissionChanges(ctx)),
        ...(options.owner ? { owner: options.owner as string } : {}),
        ...(options.description ? { description: options.description as string } : {}),
      };
      ctx.stdout(json(await updateSdb(client, sdb.id, changes, { signal })));
      return 0;
    }
    case "sdb rm":
      await deleteSdb(client, (await sdbNamed(ctx, path)).id, { signal });
      return 0;
    case "categories":
      ctx.stdout(json(await listCategories(client, { signal })));
      return 0;
    case "roles":
      ctx.stdout(json(await listRoles(client, { signal })));
      return 0;
    case "__complete":
      for (const candidate of await candidates(ctx, args[0]!, args[1] ?? "")) ctx.stdout(`${candidate}\n`);
      return 0;
    default:
      throw new UsageError(`${ctx.command.name} is not a command that talks to Cerberus`);
  }
}

function needTerminal(ctx: ActionContext): void {
  if (!ctx.system.terminal) throw new UsageError(`${ctx.command.name} needs a terminal (it opens an editor)`);
}

function required(value: OptionValues[string], flag: string): string {
  if (typeof value !== "string") throw new UsageError(`${flag} is required`);
  return value;
}

/** The data of `write`: `--json` first, then `key=value` pairs (a `key=@file` value read from the file). */
async function secretFrom(ctx: ActionContext): Promise<SecretData> {
  const data: SecretData = {};
  const source = ctx.options.json as string | undefined;
  if (source !== undefined) {
    const where = source === "-" ? "standard input" : shown(source);
    Object.assign(data, secretOf(decodeText(await ctx.system.readFile(source), where), where));
  }
  // parseArgs checked that each pair has a key and an "=".
  for (const pair of ctx.args.slice(1)) {
    const equals = pair.indexOf("=");
    const key = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    Object.defineProperty(data, key, {
      value: value.startsWith("@")
        ? decodeText(await ctx.system.readFile(value.slice(1)), shown(value.slice(1)))
        : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return data;
}

function decodeText(bytes: Uint8Array, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new InvalidInputError(`${where} is not UTF-8 text`, { field: "input" });
  }
}

/** A JSON object of string values, as a secret; anything else names what is wrong (never a value). */
function secretOf(text: string, where: string): SecretData {
  const parsed = parseJson(text);
  if (!parsed || !isRecord(parsed.value)) {
    throw new InvalidInputError(`${where} must hold a JSON object of strings`, { field: "input" });
  }
  for (const [key, value] of Object.entries(parsed.value)) {
    if (typeof value !== "string") {
      throw new InvalidInputError(`${where}: the value of "${shown(key)}" is ${kindOf(value)}, not a string`, {
        field: "input",
      });
    }
  }
  return parsed.value as SecretData;
}

function suffixOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).replace(/[^A-Za-z0-9._-]/g, "").slice(0, 32) : "";
}

/** An SDB by id, or by `category/sdb` path. */
function sdbNamed(ctx: ActionContext, name: string): Promise<Sdb> {
  return name.includes("/")
    ? getSdbByPath(ctx.client, name.replace(/\/?$/, "/"), { signal: ctx.signal })
    : getSdb(ctx.client, name, { signal: ctx.signal });
}

/** A category by id, path (`app`) or display name (`Applications`). */
async function categoryNamed(ctx: ActionContext, name: string): Promise<string> {
  const wanted = name.toLowerCase().replace(/^\/|\/$/g, "");
  const found = (await listCategories(ctx.client, { signal: ctx.signal })).find((c) =>
    c.id === name || c.path.toLowerCase().replace(/^\/|\/$/g, "") === wanted || c.displayName.toLowerCase() === wanted
  );
  if (!found) {
    throw new NotFoundError(`no category with id, path or name ${shown(name)}`, { step: "response", status: 404 });
  }
  return found.id;
}

/** `--iam ARN,ROLE` and `--group NAME,ROLE` as permissions, role names turned into ids. */
async function permissionChanges(ctx: ActionContext): Promise<SdbChanges> {
  const split = (entry: string, flag: string): [string, string] => {
    const comma = entry.lastIndexOf(",");
    if (comma <= 0 || comma === entry.length - 1) {
      throw new UsageError(`${flag} takes <name>,<role>, e.g. ${flag} Lst-team,read; got "${shown(entry)}"`);
    }
    return [entry.slice(0, comma), entry.slice(comma + 1)];
  };
  const roles = new Map<string, string>();
  const role = async (name: string) => {
    if (!roles.has(name)) roles.set(name, await roleId(ctx.client, name, { signal: ctx.signal }));
    return roles.get(name)!;
  };
  const pairs = async (flag: "iam" | "group"): Promise<[string, string][] | undefined> => {
    const given = ctx.options[flag] as readonly string[] | undefined;
    if (!given) return undefined;
    const out: [string, string][] = [];
    for (const entry of given) {
      const [name, roleName] = split(entry, `--${flag}`);
      out.push([name, await role(roleName)]);
    }
    return out;
  };
  const changes: { -readonly [K in keyof SdbChanges]: SdbChanges[K] } = {};
  const iam = await pairs("iam");
  if (iam) changes.iamPrincipalPermissions = iam.map(([iamPrincipalArn, roleId]) => ({ iamPrincipalArn, roleId }));
  const groups = await pairs("group");
  if (groups) changes.userGroupPermissions = groups.map(([name, roleId]) => ({ name, roleId }));
  return changes;
}

/**
 * Completion candidates for `word`: SDB paths (`app/demo/`) until the word names an SDB, then
 * the keys (secret paths) or files under it that start with the word.
 */
async function candidates(ctx: ActionContext, kind: string, word: string): Promise<string[]> {
  const { client, signal } = ctx;
  const segments = word.split("/");
  let found: string[];
  if (kind === "sdb" || segments.length < 3) {
    found = (await listSdbs(client, { signal })).map((sdb) => sdb.path.replace(/\/?$/, "/"));
  } else if (kind === "file-path") {
    found = [];
    for await (const file of listFiles(client, `${segments.slice(0, 2).join("/")}/`, { signal })) found.push(file.path);
  } else {
    const folder = word.slice(0, word.lastIndexOf("/") + 1);
    found = (await listKeys(client, folder, { signal })).map((key) => folder + key);
  }
  return found.filter((candidate) => candidate.startsWith(word));
}
