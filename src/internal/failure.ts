/**
 * Turning whatever was thrown into something safe to keep and show.
 *
 * @module
 */
import { AwsError, CerberusApiError, CerberusEdgeError, type Step, UnexpectedAnswerError } from "../errors.ts";

/**
 * A stand-in for a foreign error that keeps only its `name` and `code`: foreign messages
 * (Headers, URL, JSON.parse, a runtime's network stack) may quote the value they choked on.
 */
export function foreignCause(error: unknown): Error | undefined {
  if (error === undefined) return undefined;
  const name = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown } | null)?.code ??
    (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  const stand = new Error(`${name}${typeof code === "string" ? ` (${code})` : ""}; message withheld`);
  stand.name = name;
  if (typeof code === "string") Object.assign(stand, { code });
  return stand;
}

/** Wraps anything thrown by foreign code into a library error without copying its text. */
export function asLibraryError(error: unknown, step: Step, what: string): CerberusEdgeError {
  if (error instanceof CerberusEdgeError) return error;
  const cause = foreignCause(error);
  return new CerberusEdgeError(`${what} failed unexpectedly (${cause?.name})`, { step, cause });
}

/** A short description of a failure for a list of attempts. */
export function describeError(error: unknown): string {
  if (error instanceof CerberusApiError) {
    const details = error.errors.map((e) => (e.code === undefined ? e.message : `${e.code} ${e.message}`));
    return `Cerberus HTTP ${error.status}${details.length ? `: ${details.join("; ")}` : ""}`;
  }
  if (error instanceof UnexpectedAnswerError) {
    return `HTTP ${error.status} with a ${error.contentType} body that is not Cerberus JSON (a WAF or proxy in front of Cerberus?)`;
  }
  if (error instanceof AwsError && error.awsType) {
    return `${error.service.toUpperCase()} ${error.awsType} (HTTP ${error.status})`;
  }
  if (error instanceof CerberusEdgeError) return error.message;
  return "unexpected error";
}
