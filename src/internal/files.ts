/**
 * Files named by settings (token files), read through the runtime's `readTextFile`.
 *
 * @module
 */
import { InvalidInputError, type Step } from "../errors.ts";
import { sanitize } from "./text.ts";

/**
 * Reads the file that `variable` names. A failure is an {@link InvalidInputError} naming the
 * variable, the path and the system's reason code (`ENOENT`, `NotFound`, …), never the contents.
 */
export async function readSettingFile(
  readTextFile: (path: string) => Promise<string>,
  path: string,
  variable: string,
  step: Step,
): Promise<string> {
  try {
    return await readTextFile(path);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const name = error instanceof Error ? error.name : "";
    const reason = typeof code === "string" && /^[A-Z][A-Z0-9_]+$/.test(code)
      ? code
      : name && name !== "Error"
      ? sanitize(name, 40)
      : "read failed";
    throw new InvalidInputError(`cannot read ${sanitize(path, 200)}: ${reason}`, {
      field: variable,
      step,
      cause: undefined,
    });
  }
}
