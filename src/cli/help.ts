/**
 * The help texts, rendered from the command table: the overview (`cerberus-edge --help`) and
 * each command's own (`cerberus-edge <command> --help`).
 *
 * @module
 */
import { COMMANDS, GLOBAL_OPTIONS } from "./commands.ts";
import type { CommandSpec, OptionSpec } from "./spec.ts";

const ENVIRONMENT = `Environment (flags override it):
  CERBERUS_URL             Cerberus base URL (alias CERBERUS_ADDR); https:, or http: to a
                           loopback host only
  CERBERUS_AUTH            auto (default): CERBERUS_TOKEN if set, else sts when AWS
                           credentials are found (AWS_ACCESS_KEY_ID/..., web identity, the
                           container endpoint, the EC2 instance role), else kms; or one of
                           token, sts, kms, kms-v1, user
  CERBERUS_TOKEN           a Cerberus token to use as it is (no AWS call)
  CERBERUS_USERNAME, CERBERUS_PASSWORD
                           user auth (CERBERUS_AUTH=user) for an account without MFA; on a
                           terminal, login prompts for what is missing
  CERBERUS_REGION          AWS region for auth; default AWS_REGION, then AWS_DEFAULT_REGION,
                           then the region of the instance
  CERBERUS_EDITOR, EDITOR  the editor of edit and file edit
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_WEB_IDENTITY_TOKEN_FILE,
  AWS_ROLE_ARN, AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
  AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_V1_DISABLED, AWS_EC2_METADATA_DISABLED,
  AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL
                           as in the AWS SDKs`;

const EXIT_CODES = `Exit codes:
  0 success
  1 unavailable or other failure (network, timeout, Cerberus 5xx or 429, access denied to a path)
  2 usage or configuration (unknown command or option, bad path, bad CERBERUS_* or AWS_* setting,
    a CERBERUS_URL that does not lead to Cerberus's API)
  3 authentication refused
  4 not found (secret, key, file or SDB)
  exec exits with its command's code`;

function optionLine(option: OptionSpec): string {
  const names = `${option.short ? `-${option.short}, ` : ""}--${option.name}${
    option.kind === "flag" ? "" : ` ${option.placeholder ?? "<value>"}`
  }`;
  return `  ${names.padEnd(27)}${names.length > 26 ? `\n${" ".repeat(29)}` : ""}${option.help}`;
}

/** `cerberus-edge --help`: every command, the global options, the environment and the exit codes. */
export function overview(): string {
  const lines = COMMANDS.map((c) => {
    const head = `${c.name}${c.usage ? ` ${c.usage}` : ""}`;
    return `  ${head.padEnd(27)}${head.length > 26 ? `\n${" ".repeat(29)}` : ""}${c.summary}`;
  });
  return `Usage: cerberus-edge <command> [options]

Reads and writes secrets, files and safe deposit boxes in Cerberus, authenticating with a
pasted token, STS auth (AWS credentials), KMS auth (EC2, ECS) or a user login.

Commands:
${lines.join("\n")}

Options of every command:
${GLOBAL_OPTIONS.map(optionLine).join("\n")}
  --json-errors              the same as --json (for write, whose --json reads a file)

${ENVIRONMENT}

${EXIT_CODES}

cerberus-edge <command> --help shows a command's options and an example.
`;
}

/** `cerberus-edge <command> --help`. */
export function commandHelp(command: CommandSpec): string {
  const options = command.options.length ? `\nOptions:\n${command.options.map(optionLine).join("\n")}\n` : "";
  const details = command.details ? `\n${command.details}\n` : "";
  return `Usage: cerberus-edge ${command.name}${command.usage ? ` ${command.usage}` : ""}${
    command.options.length ? " [options]" : ""
  }

${command.summary}
${details}${options}
Example:
  ${command.example}

Every command also takes --url, --auth, --region, --timeout, --json, --verbose (see cerberus-edge --help).
`;
}
