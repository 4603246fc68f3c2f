/**
 * The command line's logic, free of any runtime: arguments, environment lookup, output and the
 * runtime's files, processes and terminal are passed in; the exit code comes back. `main.ts`
 * wires it to the process.
 *
 * @module
 */
import { authFor, defaultAuth } from "../auth/default-auth.ts";
import { userAuth } from "../auth/user-auth.ts";
import { clientCore } from "../client/client.ts";
import type { CerberusClient, CerberusClientOptions } from "../client/client.ts";
import {
  AbortedError,
  AuthenticationError,
  AwsError,
  CerberusApiError,
  CerberusEdgeError,
  InvalidInputError,
  type Step,
  TransportError,
  UnexpectedAnswerError,
} from "../errors.ts";
import type { CerberusEvent } from "../events.ts";
import { sanitize } from "../internal/text.ts";
import { VERSION } from "../version.ts";
import { act, type CliSystem } from "./actions.ts";
import { parseArgs, type Parsed, shown, UsageError } from "./args.ts";
import { type EnvLookup, readConfig } from "./config.ts";
import { COMPLETE } from "./commands.ts";
import { commandHelp, overview } from "./help.ts";

export { parseArgs, UsageError };
export type { CliSystem };

/** Where the command line writes. `stdout` receives only the result; `stderr` errors and progress. */
export interface CliIo {
  /** Writes to standard output. */
  stdout(data: string | Uint8Array): void;
  /** Writes to standard error. */
  stderr(text: string): void;
}

/** Creates the client the command line uses, reading the environment through `env` (flags applied); tests inject a fake. */
export type ClientFactory = (options: CerberusClientOptions, env: EnvLookup) => CerberusClient;

/** Options of {@link run}. */
export interface RunOptions {
  /** Client factory (`main.ts` passes `createCerberusClient` on the detected runtime); commands that call Cerberus need it. */
  createClient?: ClientFactory;
  /** Files, processes and the terminal; without it the commands that need them fail. */
  system?: CliSystem;
  /** Starts the embedded local stack and runs the demo (`cerberus-edge demo`). */
  demo?: () => Promise<void>;
  /** The shell completion script of `shell` (`cerberus-edge completion`). */
  completion?: (shell: string) => Promise<string>;
}

/** The exit codes of the command line. */
export const ExitCode = {
  /** The command succeeded. */
  OK: 0,
  /** Anything not covered below: network failure or timeout (also while authenticating), Cerberus 5xx or 429, access denied to a path, bad response. */
  FAILURE: 1,
  /** Usage or configuration error: unknown command or option, missing or extra argument, bad path, bad `CERBERUS_*` or `AWS_*` variable. */
  USAGE: 2,
  /** Authentication failed: every principal was refused (or none found), or Cerberus answered 401 (or 403 while authenticating). */
  AUTH_FAILED: 3,
  /** The secret, key, file or SDB does not exist. */
  NOT_FOUND: 4,
} as const;

/** The name the command line reports under. */
export const PROGRAM = "cerberus-edge";

/** The text printed by `--help`, `-h` and `help`. */
export const USAGE: string = overview();

/** A `--timeout` value (`30`, `30s`, `500ms`, `2m`) in milliseconds. */
function parseDuration(text: string): number {
  const match = /^(\d{1,9})(ms|s|m)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * (match[2] === "ms" ? 1 : match[2] === "m" ? 60_000 : 1000) : Number.NaN;
  if (!(ms >= 1 && ms <= 2_147_483_647)) {
    throw new UsageError(`--timeout must be a duration such as 30s, 500ms or 2m, not "${shown(text)}"`);
  }
  return ms;
}

const noSystem: CliSystem = {
  terminal: false,
  readFile: () => Promise.reject(new UsageError("reading local files is not available here")),
  writeFile: () => Promise.reject(new UsageError("writing local files is not available here")),
  exec: () => Promise.reject(new UsageError("running commands is not available here")),
  edit: () => Promise.reject(new UsageError("editing is not available here")),
  prompt: () => Promise.reject(new UsageError("prompting is not available here")),
};

/** True when the parse failed but the arguments ask for JSON errors. */
function wantsJsonErrors(argv: readonly string[]): boolean {
  const options = argv.slice(0, argv.includes("--") ? argv.indexOf("--") : undefined);
  return options.includes("--json-errors") || (options.includes("--json") && !options.includes("write"));
}

/**
 * Runs the command line: parses `argv`, reads the configuration through `env` (flags override
 * it), calls Cerberus, writes the result to `io.stdout` and any error to `io.stderr` as one
 * `cerberus-edge: <message>` line (or, with `--json`, one JSON object). Progress and hints go to
 * `io.stderr` only on a terminal or with `--verbose`; library events only with `--verbose`.
 * Never throws; resolves with the exit code (see {@link ExitCode} and {@link exitCodeOf}).
 */
export async function run(
  argv: readonly string[],
  env: EnvLookup,
  io: CliIo,
  options: RunOptions = {},
): Promise<number> {
  let parsed: Parsed;
  try {
    // Completion asks quickly and quietly: a failure prints nothing.
    parsed = argv[0] === COMPLETE.name
      ? { command: COMPLETE, args: argv.slice(1, 3), options: { timeout: "3s" }, help: false, version: false }
      : parseArgs(argv);
  } catch (error) {
    return fail(io, error, { json: wantsJsonErrors(argv), hints: true });
  }
  if (parsed.command === COMPLETE) io = { stdout: io.stdout, stderr: () => {} };
  const system = options.system ?? noSystem;
  const chatty = parsed.options.verbose === true || system.terminal;
  // An error's hint is part of the error (what to set or pass); progress needs a terminal or --verbose.
  const report = { json: parsed.options.json === true || parsed.options["json-errors"] === true, hints: true };
  if (parsed.help) {
    io.stdout(parsed.command ? commandHelp(parsed.command) : USAGE);
    return ExitCode.OK;
  }
  if (parsed.version) {
    io.stdout(`${PROGRAM} ${VERSION}\n`);
    return ExitCode.OK;
  }
  const command = parsed.command!;
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let budget: number | undefined;
  try {
    budget = parsed.options.timeout ? parseDuration(parsed.options.timeout as string) : undefined;
    if (command.name === "completion") {
      if (!options.completion) throw new UsageError("completion is not available here");
      io.stdout(await options.completion(parsed.args[0]!));
      return ExitCode.OK;
    }
    if (command.name === "demo") {
      if (!options.demo) throw new UsageError("the demo is not available here");
      await options.demo();
      return ExitCode.OK;
    }
    const overrides: Record<string, string | undefined> = {
      CERBERUS_URL: parsed.options.url as string | undefined,
      CERBERUS_AUTH: command.name === "login" ? "user" : parsed.options.auth as string | undefined,
      CERBERUS_REGION: parsed.options.region as string | undefined,
    };
    const lookup: EnvLookup = (name) => overrides[name] ?? env(name);
    const config = readConfig(lookup);
    if (budget !== undefined) {
      timer = setTimeout(() => controller.abort(new TimeBudgetSpent(budget!)), budget);
    }
    const factory = options.createClient ?? defaultFactory;
    const client = factory({
      url: config.url,
      auth: command.name === "login"
        ? loginAuth(system, lookup, parsed.options.username as string | undefined)
        : config.auth === "auto"
        ? defaultAuth()
        : authFor(config.auth),
      userAgent: `${PROGRAM}-cli/${VERSION}`,
      ...(budget !== undefined ? { budgetMs: budget, timeoutMs: Math.min(budget, 10_000) } : {}),
      onEvent: parsed.options.verbose === true
        ? (event) => io.stderr(`[${PROGRAM}] ${formatEvent(event)}\n`)
        : undefined,
    }, lookup);
    const signal = controller.signal;
    if (command.name === "whoami" || command.name === "login") {
      const info = await client.whoami({ signal });
      if (command.name === "login") {
        if (chatty) io.stderr(`${PROGRAM}: logged in as ${oneLine(info.principal)}\n`);
        if (parsed.options["print-token"] === true) io.stdout(`${await clientCore(client).token(signal)}\n`);
        return ExitCode.OK;
      }
      io.stdout(`${
        JSON.stringify(
          {
            principal: info.principal,
            method: info.method,
            region: info.region ?? null,
            policies: info.policies,
            metadata: info.metadata,
            expiresAt: info.expiresAt.toISOString(),
          },
          null,
          2,
        )
      }\n`);
      return ExitCode.OK;
    }
    return await act({
      command,
      args: parsed.args,
      options: parsed.options,
      client,
      signal,
      stdout: (data) => io.stdout(data),
      progress: (text) => chatty && io.stderr(`${PROGRAM}: ${oneLine(text)}\n`),
      system,
    });
  } catch (error) {
    const spent = controller.signal.reason instanceof TimeBudgetSpent ? controller.signal.reason : undefined;
    return fail(io, spent && error instanceof AbortedError ? spent : error, report, parsed.args[0]);
  } finally {
    clearTimeout(timer);
  }
}

/** The command's `--timeout` ran out. */
class TimeBudgetSpent extends TransportError {
  constructor(ms: number) {
    super(`the command did not finish within its --timeout of ${ms} ms`, { step: "request", timedOut: true });
  }
}

function defaultFactory(): CerberusClient {
  throw new UsageError("no client factory was given");
}

/** User auth for `login`: what the environment lacks is asked on the terminal. */
function loginAuth(system: CliSystem, env: EnvLookup, username: string | undefined) {
  if (!system.terminal) {
    throw new UsageError(
      "login needs a terminal; in a script set CERBERUS_AUTH=user with CERBERUS_USERNAME and CERBERUS_PASSWORD " +
        "(an account without MFA), or CERBERUS_TOKEN",
    );
  }
  return userAuth({
    credentials: async () => ({
      username: username ?? env("CERBERUS_USERNAME") ?? await system.prompt("Username: ", false),
      password: env("CERBERUS_PASSWORD") ?? await system.prompt("Password: ", true),
    }),
    mfa: async (challenge) => {
      const devices = challenge.devices;
      let device = devices[0];
      if (devices.length > 1) {
        const menu = devices.map((d, i) => `  ${i + 1}. ${oneLine(d.name)}`).join("\n");
        const choice = Number(await system.prompt(`MFA devices:\n${menu}\nDevice [1-${devices.length}]: `, false));
        device = devices[choice - 1];
      }
      if (!device) throw new UsageError("no such MFA device");
      if (device.requiresTrigger) await challenge.trigger(device.id);
      return { deviceId: device.id, code: (await system.prompt(`Code from ${oneLine(device.name)}: `, false)).trim() };
    },
  });
}

/** Writes an error (a line, or a JSON object) and returns its exit code. */
function fail(io: CliIo, error: unknown, report: { json: boolean; hints: boolean }, path?: string): number {
  const code = exitCodeOf(error);
  if (report.json) {
    const known = error instanceof CerberusEdgeError;
    io.stderr(`${
      JSON.stringify({
        error: {
          code: known ? error.code : "INTERNAL",
          step: known ? error.step : null,
          message: formatError(error, path).split("\n", 1)[0]!.slice(PROGRAM.length + 2),
          exitCode: code,
        },
      })
    }\n`);
  } else {
    io.stderr(formatError(error, path, report.hints));
  }
  return code;
}

/** Steps that belong to authentication, where a 401 or 403 means the principal was refused. */
const AUTH_STEPS: ReadonlySet<Step> = new Set<Step>([
  "metadata",
  "credentials",
  "cerberus-auth",
  "kms-decrypt",
  "auth-payload",
  "sts-sign",
  "token",
]);

/**
 * The exit code for an error: 2 usage or configuration ({@link UsageError}, and any
 * `InvalidInputError`: a bad path, a bad `CERBERUS_*` or `AWS_*` setting), 3 authentication (`AuthenticationError`, any Cerberus
 * 401, a 403 while authenticating), 4 not found (code `NOT_FOUND`: a 404 or a missing key),
 * 1 anything else (a 403 on a secret the principal may not read included).
 *
 * One refinement: an `AuthenticationError` where any attempt failed because a service could not
 * answer (network error, timeout, Cerberus 5xx, KMS 5xx or throttling) exits 1, not 3: that
 * principal was never refused, so the same call may succeed when retried. Exit 3 means every
 * attempt was refused (or no principal could be discovered).
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof InvalidInputError || isMisdirected(error)) return ExitCode.USAGE;
  if (error instanceof AuthenticationError) {
    if (error.attempts.some((attempt) => isMisdirected(attempt.error))) return ExitCode.USAGE;
    const unavailable = isUnavailable(error.cause) || error.attempts.some((attempt) => isUnavailable(attempt.error));
    return unavailable ? ExitCode.FAILURE : ExitCode.AUTH_FAILED;
  }
  if (
    error instanceof CerberusApiError && (error.status === 401 || (error.status === 403 && AUTH_STEPS.has(error.step)))
  ) {
    return ExitCode.AUTH_FAILED;
  }
  if (error instanceof CerberusEdgeError && error.code === "NOT_FOUND") return ExitCode.NOT_FOUND;
  return ExitCode.FAILURE;
}

/** True for failures of availability rather than refusals: network, timeout, 5xx, throttling. */
function isUnavailable(error: unknown): boolean {
  if (error instanceof TransportError || error instanceof UnexpectedAnswerError) return true;
  if (error instanceof CerberusApiError) return error.status >= 500 || error.status === 429;
  if (error instanceof AwsError) return error.retryable;
  return false;
}

/**
 * True for answers that say the configuration points at the wrong place: a redirect, or a 404
 * from an authentication endpoint (`CERBERUS_URL` with a path such as `/v1`, or a method this
 * Cerberus does not offer).
 */
function isMisdirected(error: unknown): boolean {
  const status = error instanceof CerberusApiError || error instanceof AwsError ? error.status ?? 0 : 0;
  return (status >= 300 && status < 400) ||
    (error instanceof CerberusApiError && status === 404 && AUTH_STEPS.has(error.step));
}

/** The settings that point at each AWS service. */
const ENDPOINT_SETTINGS = {
  kms: "AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL",
  sts: "AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL",
  imds: "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  container: "AWS_CONTAINER_CREDENTIALS_FULL_URI",
} as const;

/** What a CLI user can do about an error, if there is something to say. */
function hintFor(error: unknown): string | undefined {
  const cause = error instanceof AuthenticationError
    ? error.attempts.find((attempt) => isMisdirected(attempt.error))?.error
    : isMisdirected(error)
    ? error
    : undefined;
  if (cause instanceof AwsError) return `check ${ENDPOINT_SETTINGS[cause.service]} (that endpoint answered a redirect)`;
  return cause
    ? "check CERBERUS_URL (the server's base URL, with no /v1 or /v2 path) and CERBERUS_AUTH (a method this Cerberus offers)"
    : undefined;
}

/**
 * Renders an error for stderr: a first line `cerberus-edge: <message>` that stands alone, then,
 * for an `AuthenticationError`, one indented line per failed attempt (principal, region, reason).
 * Errors that do not come from cerberus-edge are named by type only: their messages may quote
 * header values (a token), so they are never printed. No stack trace, no cause.
 *
 * @param error what was thrown.
 * @param path the secret path of the command, to name it in a not-found message.
 * @param hints whether to add a hint line (on a terminal, or with --verbose).
 * @returns the text, ending in a newline.
 */
export function formatError(error: unknown, path?: string, hints = true): string {
  const hint = hints ? hintFor(error) : undefined;
  return hint === undefined ? describeFailure(error, path) : `${describeFailure(error, path)}  hint: ${hint}\n`;
}

function describeFailure(error: unknown, path?: string): string {
  if (error instanceof AuthenticationError) {
    const summary = oneLine(error.message.split("\n", 1)[0] ?? "").replace(/:$/, "");
    const attempts = error.attempts.map((a) =>
      `  - ${oneLine(a.principal)} in ${oneLine(a.region)}: ${oneLine(a.reason)}\n`
    );
    return `${PROGRAM}: ${summary}\n${attempts.join("")}`;
  }
  if (error instanceof CerberusApiError && error.status === 404 && path !== undefined) {
    return `${PROGRAM}: no secret at ${oneLine(shown(path))} (${oneLine(error.message)})\n`;
  }
  if (error instanceof CerberusEdgeError) return `${PROGRAM}: ${oneLine(error.message)}\n`;
  const name = error instanceof Error ? oneLine(error.name) : typeof error;
  return `${PROGRAM}: unexpected internal error (${name}; details withheld in case they hold a secret)\n`;
}

/**
 * One progress line for `--verbose` (without prefix or newline). Events never carry a token,
 * a secret or a decrypted payload; unknown event types print their type only.
 */
export function formatEvent(event: CerberusEvent): string {
  return oneLine(eventLine(event));
}

function eventLine(event: CerberusEvent): string {
  switch (event.type) {
    case "metadata.account":
      return `account ${event.accountId} (from ${event.source})`;
    case "metadata.roles":
      return `instance profile ${event.instanceProfileArn}, roles: ${event.roles.join(", ") || "none"}`;
    case "metadata.fallback-v1":
      return `IMDSv2 unavailable, falling back to IMDSv1 (${oneLine(event.reason)})`;
    case "auth.region":
      return `region ${event.region} (from ${event.source})`;
    case "auth.attempt":
      return `authenticating (${event.method}) as ${event.principal} in ${event.region}`;
    case "auth.payload":
      return `received auth_data for ${event.principal} (${event.bytes} bytes)`;
    case "kms.decrypt":
      return `KMS decrypted in ${event.region} with ${event.keyId}`;
    case "auth.failure":
      return `failed as ${event.principal} in ${event.region}: ${oneLine(event.reason)}`;
    case "auth.success":
      return `authenticated as ${event.principal} in ${event.region}, policies: ${
        event.policies.join(", ") || "none"
      }, expires ${event.expiresAt.toISOString()}`;
    case "token.refresh":
      return `token refresh (${event.reason})`;
    case "request.retry":
      return `retrying ${event.step} (attempt ${event.attempt}, in ${event.delayMs} ms): ${oneLine(event.reason)}`;
    case "cache.hit":
    case "cache.miss":
    case "cache.refresh":
    case "cache.stale":
    case "cache.evict":
      return `cache ${event.type.slice("cache.".length)}: ${event.key}`;
    default:
      return `event ${oneLine(String((event as { type?: unknown }).type))}`;
  }
}

/** Collapses control characters (newlines included) so a message stays on one line. */
function oneLine(text: string): string {
  return sanitize(text, 2000);
}
