/**
 * A stand-in for `cerberus-edge exec` in the tests: `_exec-wrapper.ts <json> <command...>` runs
 * the command with {@link execCommand} and exits with what it resolves to, so a test can signal
 * this process and see what its command got. `<json>` holds `add`, `override` and optionally
 * `baseEnv` (default: this process's environment). A thrown error's message goes to stderr, exit 70.
 */
import process from "node:process";
import { execCommand } from "../../src/cli/exec.ts";

const [config = "{}", ...command] = process.argv.slice(2);
const { add = {}, override = false, baseEnv = process.env } = JSON.parse(config) as {
  add?: Record<string, string>;
  override?: boolean;
  baseEnv?: Record<string, string>;
};
try {
  process.exit(await execCommand({ command, baseEnv, add, override }));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(70);
}
