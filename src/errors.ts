/**
 * Typed errors. Every failure the library reports is a {@link CerberusEdgeError}
 * whose `code` says what went wrong and whose `step` says where. Messages never
 * contain a token, a secret value, a decrypted payload or an AWS secret key.
 *
 * @module
 */

/** Where in the flow an error happened. */
export type Step =
  | "config"
  | "metadata"
  | "credentials"
  | "cerberus-auth"
  | "kms-decrypt"
  | "auth-payload"
  | "sts-sign"
  | "token"
  | "request"
  | "response";

/** Options every error accepts. */
export interface CerberusEdgeErrorOptions {
  /** The step of the flow that failed. */
  step: Step;
  /** The underlying error, if any (never one that carries a secret). */
  cause?: unknown;
}

/** Base class of every error thrown by cerberus-edge. */
export class CerberusEdgeError extends Error {
  /** Machine-readable reason, e.g. `INVALID_INPUT`, `KMS_ERROR`. */
  readonly code: string;
  /** The step of the flow that failed. */
  readonly step: Step;

  /** Creates an error; prefer the subclasses. */
  constructor(code: string, message: string, options: CerberusEdgeErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.step = options.step;
  }
}

/** A caller passed a bad option or argument; `field` names it. */
export class InvalidInputError extends CerberusEdgeError {
  /** The option or argument that was wrong, e.g. `path` or `options.region`. */
  readonly field: string;

  /** @param field the offending option; @param problem what is wrong with it. */
  constructor(field: string, problem: string, step: Step = "config") {
    super("INVALID_INPUT", `${field}: ${problem}`, { step });
    this.field = field;
  }
}

/** The instance metadata service (IMDS) or a container credentials endpoint failed. */
export class MetadataError extends CerberusEdgeError {
  /** HTTP status, when the service answered. */
  readonly status: number | undefined;

  /** @param message what failed; @param status the HTTP status if one came back. */
  constructor(message: string, status?: number, cause?: unknown) {
    super("METADATA_ERROR", message, { step: "metadata", cause });
    this.status = status;
  }
}

/** A network-level failure: connection refused or reset, DNS, timeout, abort. */
export class TransportError extends CerberusEdgeError {
  /** True when the request was cut by its timeout. */
  readonly timedOut: boolean;

  /** @param message what failed, naming the host (never a URL query or header). */
  constructor(message: string, step: Step, timedOut: boolean, cause?: unknown) {
    super(timedOut ? "TIMEOUT" : "TRANSPORT_ERROR", message, { step, cause });
    this.timedOut = timedOut;
  }
}

/** The caller's `AbortSignal` stopped the operation; `cause` is the signal's reason. */
export class AbortedError extends CerberusEdgeError {
  /** @param what the operation that was stopped, e.g. "reading a secret". */
  constructor(what: string, step: Step, reason: unknown) {
    super("ABORTED", `${what} was aborted by the caller`, { step, cause: reason });
  }
}

/** Something that came over the network did not have the expected shape. */
export class PayloadError extends CerberusEdgeError {
  /** @param step where the payload came from; @param problem what is wrong (no payload content). */
  constructor(step: Step, problem: string, cause?: unknown) {
    super("INVALID_PAYLOAD", problem, { step, cause });
  }
}

/** AWS KMS answered with an error. */
export class KmsError extends CerberusEdgeError {
  /** The KMS error type without its namespace, e.g. `AccessDeniedException`. */
  readonly awsType: string;
  /** HTTP status of the KMS response. */
  readonly status: number;
  /** True for throttling and 5xx errors, which are worth retrying. */
  readonly retryable: boolean;

  /** @param awsType KMS `__type`; @param status HTTP status; @param detail KMS message. */
  constructor(awsType: string, status: number, detail: string) {
    super("KMS_ERROR", `KMS ${awsType} (HTTP ${status})${detail ? `: ${detail}` : ""}`, {
      step: "kms-decrypt",
    });
    this.awsType = awsType;
    this.status = status;
    this.retryable = status >= 500 || awsType === "ThrottlingException" ||
      awsType === "DependencyTimeoutException" || awsType === "KMSInternalException";
  }
}

/** One entry of a Cerberus error body. */
export interface CerberusErrorDetail {
  /** Numeric Cerberus error code, e.g. 99216; absent in Vault-style bodies. */
  code?: number;
  /** The server's message. */
  message: string;
}

/** Cerberus answered with an HTTP error status. */
export class CerberusApiError extends CerberusEdgeError {
  /** HTTP status. */
  readonly status: number;
  /** Error entries from the body (empty for an empty or non-JSON body). */
  readonly errors: readonly CerberusErrorDetail[];
  /** The server's `error_id`, to quote to its operators. */
  readonly errorId: string | undefined;

  /** @param status HTTP status; @param errors parsed body entries; @param summary one-line description. */
  constructor(
    status: number,
    errors: readonly CerberusErrorDetail[],
    errorId: string | undefined,
    summary: string,
    step: Step = "request",
  ) {
    super(status === 404 ? "NOT_FOUND" : "CERBERUS_ERROR", summary, { step });
    this.status = status;
    this.errors = errors;
    this.errorId = errorId;
  }

  /** The Cerberus error codes in the body, e.g. `[99216]`. */
  get codes(): number[] {
    return this.errors.flatMap((e) => (e.code === undefined ? [] : [e.code]));
  }
}

/** One authentication attempt that failed: which principal, which region, why. */
export interface AuthAttempt {
  /** The IAM principal ARN (or role name for KMS auth v1, user name for user auth). */
  principal: string;
  /** The KMS or STS region of the attempt. */
  region: string;
  /** Why it failed, e.g. "Cerberus 99216 ...", "KMS AccessDeniedException". */
  reason: string;
  /** The error behind the reason. */
  error: CerberusEdgeError;
}

/** Authentication failed; `attempts` lists every candidate tried and why each failed. */
export class AuthenticationError extends CerberusEdgeError {
  /** Every attempt, in the order tried. */
  readonly attempts: readonly AuthAttempt[];

  /** @param summary first line; @param attempts the failures to list. */
  constructor(summary: string, attempts: readonly AuthAttempt[], cause?: unknown) {
    const lines = attempts.map((a) => `\n  - ${a.principal} in ${a.region}: ${a.reason}`);
    super("AUTH_FAILED", summary + lines.join(""), { step: "cerberus-auth", cause });
    this.attempts = attempts;
  }
}

/** Short, secret-free description of any thrown value, for attempt lists. */
export function describeError(error: unknown): string {
  if (error instanceof CerberusApiError) {
    const codes = error.errors.map((e) => (e.code === undefined ? e.message : `${e.code} ${e.message}`));
    return `Cerberus HTTP ${error.status}${codes.length ? `: ${codes.join("; ")}` : ""}`;
  }
  if (error instanceof KmsError) return `KMS ${error.awsType} (HTTP ${error.status})`;
  if (error instanceof CerberusEdgeError) return error.message;
  return "unexpected error";
}

/**
 * A stand-in for a foreign error that keeps only its `name` and `code`: foreign messages
 * (Headers, Request, URL, JSON.parse) may quote the value they choked on, a token included.
 */
export function safeCause(error: unknown): Error | undefined {
  if (error === undefined) return undefined;
  const name = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown } | null)?.code;
  const stand = new Error(`${name}${typeof code === "string" ? ` (${code})` : ""}; message withheld`);
  stand.name = name;
  if (typeof code === "string") Object.assign(stand, { code });
  return stand;
}

/** Wraps anything thrown by foreign code into a library error without copying its text. */
export function asLibraryError(error: unknown, step: Step, what: string): CerberusEdgeError {
  if (error instanceof CerberusEdgeError) return error;
  return new CerberusEdgeError("UNEXPECTED", `${what} failed unexpectedly (${safeCause(error)?.name})`, { step, cause: safeCause(error) });
}
