/**
 * The command line's logic, free of any runtime: arguments, environment lookup and output
 * are passed in, the exit code comes back. `main.ts` wires it to the process.
 *
 * @module
 */
import { createCerberusClient, listKeys, readKey, readSecret } from "../../mod.ts";
import { authFor, defaultAuth } from "../auth/default-auth.ts";
import type { CerberusClient, CerberusClientOptions } from "../client/client.ts";
import {
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
import { type EnvLookup, readConfig } from "./config.ts";

/** Where the command line writes. `stdout` receives only the result; `stderr` errors and progress. */
export interface CliIo {
  /** Writes to standard output. */
  stdout(text: string): void;
  /** Writes to standard error. */
  stderr(text: string): void;
}

/** Creates the client the command line uses; tests inject a fake. */
export type ClientFactory = (options: CerberusClientOptions) => CerberusClient;

/** Options of {@link run}. */
export interface RunOptions {
  /** Client factory; default `createCerberusClient` from `mod.ts` (runtime detected). */
  createClient?: ClientFactory;
}

/** The exit codes of the command line. */
export const ExitCode = {
  /** The command succeeded. */
  OK: 0,
  /** Anything not covered below: network failure or timeout (also while authenticating), Cerberus 5xx, access denied to a secret, bad response. */
  FAILURE: 1,
  /** Usage or configuration error: unknown command or option, missing or extra argument, bad path, bad `CERBERUS_*` variable. */
  USAGE: 2,
  /** Authentication failed: every principal was refused (or none found), or Cerberus answered 401 (or 403 while authenticating). */
  AUTH_FAILED: 3,
  /** The secret, or the key asked for with `--key`, does not exist. */
  NOT_FOUND: 4,
} as const;

/** The name the command line reports under. */
export const PROGRAM = "cerberus-edge";

/** The text printed by `--help`, `-h` and `help`. */
export const USAGE = `Usage: cerberus-edge <command> [options]

Reads secrets from Cerberus, authenticating with a pasted token, STS auth or KMS auth.

Commands:
  read <path>              Print the secret at <category>/<sdb>/<name> as JSON
  read <path> --key <key>  Print one value of it (a string raw, other values as JSON)
  list <path>              Print the keys under <category>/<sdb>[/<folder>], one per line
                           (a key ending in "/" is a folder)
  whoami                   Print who this process authenticates as: principal, method,
                           region, policies, metadata, expiresAt (never the token)
  help                     Print this help

Options:
  --key <key>, --key=<key> With read: print only this key's value
  --verbose                Print progress (metadata, auth attempts, KMS) to stderr
  -h, --help               Print this help
  --version                Print the version

Environment:
  CERBERUS_URL             Cerberus base URL (alias CERBERUS_ADDR); https:, or http: to a
                           loopback host only
  CERBERUS_AUTH            auto (default): CERBERUS_TOKEN if set, else sts when AWS
                           credentials are found (AWS_ACCESS_KEY_ID/..., web identity, the
                           container endpoint, the EC2 instance role), else kms; or one of
                           token, sts, kms, kms-v1, user
  CERBERUS_TOKEN           a Cerberus token to use as it is (no AWS call)
  CERBERUS_USERNAME, CERBERUS_PASSWORD
                           user auth (CERBERUS_AUTH=user), for an account without MFA
  CERBERUS_REGION          KMS region; default AWS_REGION, then AWS_DEFAULT_REGION, then the
                           region of the instance
  AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_V1_DISABLED, AWS_EC2_METADATA_DISABLED,
  AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL
                           As in the AWS SDKs

Exit codes:
  0 success, 1 other error (e.g. Cerberus, KMS or instance metadata unreachable), 2 usage
  or configuration error, 3 authentication refused, 4 secret or key not found
`;

/** A mistake in the command line's arguments; exit code 2. */
export class UsageError extends InvalidInputError {
  /** @param message what is wrong, one line. */
  constructor(message: string) {
    super(message, { field: "arguments" });
    this.message = message;
  }
}

/** The parsed command line. */
export type Invocation =
  | { command: "help" }
  | { command: "version" }
  | { command: "read"; path: string; key: string | undefined; verbose: boolean }
  | { command: "list"; path: string; verbose: boolean }
  | { command: "whoami"; verbose: boolean };

const COMMANDS = new Set(["read", "list", "whoami", "help"]);

/**
 * Parses the arguments (without the runtime and script, i.e. `process.argv.slice(2)`).
 * `-h`/`--help` anywhere before `--`, or the command `help`, means help (even next to a mistake);
 * then `--version`. Options may come before or after the command; `--` ends the options, and
 * `--key` takes the next argument as its value whatever it looks like.
 *
 * @throws {UsageError} for an unknown command or option, a missing or extra argument.
 */
export function parseArgs(argv: readonly string[]): Invocation {
  const positional: string[] = [];
  let key: string | undefined;
  let keyGiven = false;
  let verbose = false;
  let help = false;
  let version = false;
  let problem: UsageError | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") {
      help = true;
    } else if (arg === "--version") {
      version = true;
    } else if (arg === "--verbose") {
      verbose = true;
    } else if (arg === "--key" || arg.startsWith("--key=")) {
      if (keyGiven) problem ??= new UsageError("--key given more than once");
      keyGiven = true;
      if (arg === "--key") {
        if (i + 1 >= argv.length) problem ??= new UsageError("--key needs a value: --key <key>");
        else key = argv[++i]!;
      } else {
        key = arg.slice("--key=".length);
      }
      if (key === "") problem ??= new UsageError("--key needs a non-empty key");
    } else if (arg.length > 1 && arg.startsWith("-")) {
      problem ??= new UsageError(`unknown option "${shown(arg)}" (try --help)`);
    } else {
      positional.push(arg);
    }
  }
  if (help || positional[0] === "help") return { command: "help" };
  if (version) return { command: "version" };
  if (problem) throw problem;

  const [command, ...rest] = positional;
  if (command === undefined) throw new UsageError("missing command: read, list or whoami (try --help)");
  if (!COMMANDS.has(command)) throw new UsageError(`unknown command "${shown(command)}" (try --help)`);
  if (keyGiven && command !== "read") throw new UsageError(`--key is only valid with read, not ${command}`);
  if (command === "whoami") {
    if (rest.length > 0) throw new UsageError(`whoami takes no arguments, got ${rest.length}`);
    return { command, verbose };
  }
  const what = command === "read" ? "<category>/<sdb>/<name>" : "<category>/<sdb>[/<folder>]";
  if (rest.length === 0) throw new UsageError(`${command} needs a path: cerberus-edge ${command} ${what}`);
  if (rest.length > 1) throw new UsageError(`${command} takes one path, got ${rest.length} arguments`);
  const path = rest[0]!;
  return command === "read" ? { command, path, key, verbose } : { command: "list", path, verbose };
}

/**
 * Runs the command line: parses `argv`, reads the configuration through `env`, calls Cerberus,
 * writes the result to `io.stdout` and any error to `io.stderr` as one `cerberus-edge: <message>`
 * line (followed, for a failed authentication, by one indented line per attempt; see
 * {@link formatError}). With `--verbose`, progress events go to `io.stderr` as `[cerberus-edge] …`
 * lines. Never throws; resolves with the exit code (see {@link ExitCode} and {@link exitCodeOf}).
 *
 * @param argv the arguments after the program name.
 * @param env environment lookup for the `CERBERUS_*` variables (the library reads `AWS_*` itself).
 * @param io output streams.
 * @param options the client factory (tests).
 */
export async function run(
  argv: readonly string[],
  env: EnvLookup,
  io: CliIo,
  options: RunOptions = {},
): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = parseArgs(argv);
  } catch (error) {
    io.stderr(formatError(error));
    return exitCodeOf(error);
  }
  if (invocation.command === "help") {
    io.stdout(USAGE);
    return ExitCode.OK;
  }
  if (invocation.command === "version") {
    io.stdout(`${PROGRAM} ${VERSION}\n`);
    return ExitCode.OK;
  }
  try {
    const config = readConfig(env);
    const factory = options.createClient ?? createCerberusClient;
    const verbose = invocation.verbose;
    const client = factory({
      url: config.url,
      // CERBERUS_REGION was checked above; the library reads it (and AWS_REGION, …) itself.
      auth: config.auth === "auto" ? defaultAuth() : authFor(config.auth),
      userAgent: `${PROGRAM}-cli/${VERSION}`,
      onEvent: verbose ? (event) => io.stderr(`[${PROGRAM}] ${formatEvent(event)}\n`) : undefined,
    });
    const output = await execute(client, invocation);
    io.stdout(output);
    return ExitCode.OK;
  } catch (error) {
    io.stderr(formatError(error, "path" in invocation ? invocation.path : undefined));
    return exitCodeOf(error);
  }
}

/** Runs one command and returns what goes to stdout. */
async function execute(
  client: CerberusClient,
  invocation: Exclude<Invocation, { command: "help" | "version" }>,
): Promise<string> {
  switch (invocation.command) {
    case "read": {
      if (invocation.key === undefined) {
        const data = await readSecret(client, invocation.path);
        return `${JSON.stringify(data, null, 2)}\n`;
      }
      return `${await readKey(client, invocation.path, invocation.key)}\n`;
    }
    case "list": {
      const keys = await listKeys(client, invocation.path);
      return keys.map((key) => `${key}\n`).join("");
    }
    case "whoami": {
      const info = await client.whoami();
      const facts = {
        principal: info.principal,
        method: info.method,
        region: info.region ?? null,
        policies: info.policies,
        metadata: info.metadata,
        expiresAt: info.expiresAt.toISOString(),
      };
      return `${JSON.stringify(facts, null, 2)}\n`;
    }
  }
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
 * @returns the text, ending in a newline.
 */
export function formatError(error: unknown, path?: string): string {
  const hint = hintFor(error);
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
    default:
      return `event ${oneLine(String((event as { type?: unknown }).type))}`;
  }
}

/** Collapses control characters (newlines included) so a message stays on one line. */
function oneLine(text: string): string {
  return sanitize(text, 2000);
}

/** A user-supplied argument, shortened for an error message. */
function shown(text: string): string {
  const flat = oneLine(text);
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}
