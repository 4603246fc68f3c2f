/**
 * Typed errors. Every failure the library reports is a {@link CerberusEdgeError} with a `code`
 * from the closed set {@link ErrorCode} (each class has its own) and a `step` naming where in
 * the flow it happened. Messages never contain a token, a secret value, a decrypted payload or
 * an AWS secret key; text that came from a server is sanitised before it is kept.
 *
 * @module
 */

/** Every code an error of this library can carry; `switch` on it. */
export type ErrorCode =
  /** A bug or a foreign failure the library did not expect (its message is withheld). */
  | "INTERNAL"
  /** An option, argument, environment variable or file the caller supplied is wrong. */
  | "INVALID_INPUT"
  /** The network failed: connection refused or reset, DNS, TLS. */
  | "TRANSPORT_ERROR"
  /** A request got no complete answer within its timeout. */
  | "TIMEOUT"
  /** The caller's `AbortSignal` stopped the operation. */
  | "ABORTED"
  /** An answer did not have the expected shape (or was too large, or encoded). */
  | "INVALID_PAYLOAD"
  /** Cerberus answered with an error status. */
  | "CERBERUS_ERROR"
  /** Cerberus has no such secret, file or SDB (HTTP 404), or the secret has no such key. */
  | "NOT_FOUND"
  /** Cerberus refused the token access to the path or SDB (HTTP 403). */
  | "ACCESS_DENIED"
  /** The answer is not Cerberus JSON at all: a page from a WAF, proxy or load balancer in front of it. */
  | "UNEXPECTED_ANSWER"
  /** An AWS service (KMS, STS, instance metadata, container credentials) answered with an error. */
  | "AWS_ERROR"
  /** Every way to authenticate was tried and none succeeded. */
  | "AUTH_FAILED";

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

/** What every error constructor takes besides its message. */
export interface ErrorOptions {
  /** The step of the flow that failed. */
  step: Step;
  /** The underlying error, if any (never one whose message may carry a secret). */
  cause?: unknown;
}

/** Base class of every error thrown by cerberus-edge; its own code is `INTERNAL`. */
export class CerberusEdgeError extends Error {
  /** What went wrong, from a closed set. */
  readonly code: ErrorCode = "INTERNAL";
  /** The step of the flow that failed. */
  readonly step: Step;

  /** @param message one line, free of secrets; @param options step and cause. */
  constructor(message: string, options: ErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.step = options.step;
  }
}

/** A caller-supplied value is wrong; `field` names the option, argument or variable. */
export class InvalidInputError extends CerberusEdgeError {
  override readonly code = "INVALID_INPUT";
  /** The option, argument or environment variable at fault, e.g. `path`, `AWS_REGION`. */
  readonly field: string;

  /** @param problem what is wrong (the message is `<field>: <problem>`). */
  constructor(problem: string, options: Partial<ErrorOptions> & { field: string }) {
    super(`${options.field}: ${problem}`, { step: options.step ?? "config", cause: options.cause });
    this.field = options.field;
  }
}

/** A network-level failure or a timeout; the message names the host, never a path or header. */
export class TransportError extends CerberusEdgeError {
  override readonly code: "TRANSPORT_ERROR" | "TIMEOUT";

  /** @param options `timedOut` when the request's timeout cut it. */
  constructor(message: string, options: ErrorOptions & { timedOut?: boolean }) {
    super(message, options);
    this.code = options.timedOut ? "TIMEOUT" : "TRANSPORT_ERROR";
  }
}

/** The caller's `AbortSignal` stopped the operation; `cause` is the signal's reason. */
export class AbortedError extends CerberusEdgeError {
  override readonly code = "ABORTED";
}

/** Something that came over the network did not have the expected shape. */
export class PayloadError extends CerberusEdgeError {
  override readonly code = "INVALID_PAYLOAD";
}

/** One entry of a Cerberus error body. */
export interface CerberusErrorDetail {
  /** Numeric Cerberus error code, e.g. 99216; absent in Vault-style bodies. */
  code?: number | undefined;
  /** The server's message, sanitised. */
  message: string;
}

/** What a {@link CerberusApiError} takes besides its message. */
export interface CerberusApiErrorOptions extends ErrorOptions {
  /** HTTP status (0 when a key was missing from a secret that exists). */
  status: number;
  /** Error entries from the body. */
  errors?: readonly CerberusErrorDetail[];
  /** The server's `error_id`. */
  errorId?: string | undefined;
}

/**
 * Cerberus answered with an error status. A 404 is a {@link NotFoundError} and a 403 an
 * {@link AccessDeniedError}; every other status is this class itself.
 */
export class CerberusApiError extends CerberusEdgeError {
  override readonly code: "CERBERUS_ERROR" | "NOT_FOUND" | "ACCESS_DENIED" = "CERBERUS_ERROR";
  /** HTTP status (0 when a key was missing from a secret that exists). */
  readonly status: number;
  /** Error entries from the body (empty for an empty body). */
  readonly errors: readonly CerberusErrorDetail[];
  /** The server's `error_id`, to quote to its operators. */
  readonly errorId: string | undefined;

  /** @param options the status and what the body said. */
  constructor(message: string, options: CerberusApiErrorOptions) {
    super(message, options);
    this.status = options.status;
    this.errors = options.errors ?? [];
    this.errorId = options.errorId;
  }

  /** The Cerberus error codes in the body, e.g. `[99216]`. */
  get codes(): number[] {
    return this.errors.flatMap((e) => (e.code === undefined ? [] : [e.code]));
  }
}

/** Cerberus has no such secret, file, version or SDB (HTTP 404), or the secret has no such key (status 0). */
export class NotFoundError extends CerberusApiError {
  override readonly code = "NOT_FOUND";
}

/** Cerberus refused the token access (HTTP 403): the principal has no role on the SDB, or too weak a one. */
export class AccessDeniedError extends CerberusApiError {
  override readonly code = "ACCESS_DENIED";
}

/**
 * An answer that is not Cerberus JSON: typically an HTML page from a WAF, proxy or load balancer
 * in front of Cerberus. `excerpt` is the start of the body, sanitised and free of the token.
 */
export class UnexpectedAnswerError extends CerberusEdgeError {
  override readonly code = "UNEXPECTED_ANSWER";
  /** HTTP status of the answer. */
  readonly status: number;
  /** Its content type, as sent. */
  readonly contentType: string;
  /** The first characters of the body, on one line. */
  readonly excerpt: string;

  /** @param options the answer's status, content type and excerpt. */
  constructor(message: string, options: ErrorOptions & { status: number; contentType: string; excerpt: string }) {
    super(message, options);
    this.status = options.status;
    this.contentType = options.contentType;
    this.excerpt = options.excerpt;
  }
}

/** The AWS service an {@link AwsError} came from. */
export type AwsService = "kms" | "sts" | "imds" | "container";

/** An AWS service answered with an error (or an answer that says it failed). */
export class AwsError extends CerberusEdgeError {
  override readonly code = "AWS_ERROR";
  /** Which service. */
  readonly service: AwsService;
  /** The AWS error type without its namespace, e.g. `AccessDeniedException`, when one was given. */
  readonly awsType: string | undefined;
  /** HTTP status, when the service answered. */
  readonly status: number | undefined;
  /** True for throttling and server-side failures, which are worth retrying. */
  readonly retryable: boolean;

  /** @param options the service, and what it answered. */
  constructor(
    message: string,
    options: ErrorOptions & { service: AwsService; awsType?: string | undefined; status?: number | undefined },
  ) {
    super(message, options);
    this.service = options.service;
    this.awsType = options.awsType;
    this.status = options.status;
    this.retryable = (options.status ?? 0) >= 500 || options.status === 429 ||
      RETRYABLE_TYPES.has(options.awsType ?? "");
  }
}

const RETRYABLE_TYPES = new Set([
  "ThrottlingException",
  "Throttling",
  "DependencyTimeoutException",
  "KMSInternalException",
  "ServiceUnavailable",
  "InternalFailure",
]);

/** One authentication attempt that failed: which principal, which region, why. */
export interface AuthAttempt {
  /** The IAM principal ARN (or role name for KMS auth v1, user name for user auth). */
  principal: string;
  /** The KMS or STS region of the attempt. */
  region: string;
  /** Why it failed, one line. */
  reason: string;
  /** The error behind the reason. */
  error: CerberusEdgeError;
}

/** Authentication failed; `attempts` lists every candidate tried and why each failed. */
export class AuthenticationError extends CerberusEdgeError {
  override readonly code = "AUTH_FAILED";
  /** Every attempt, in the order tried. */
  readonly attempts: readonly AuthAttempt[];

  /** @param message the first line; the attempts follow it, one line each. */
  constructor(message: string, options: Partial<ErrorOptions> & { attempts?: readonly AuthAttempt[] }) {
    const attempts = options.attempts ?? [];
    const lines = attempts.map((a) => `\n  - ${a.principal} in ${a.region}: ${a.reason}`);
    super(message + lines.join(""), { step: options.step ?? "cerberus-auth", cause: options.cause });
    this.attempts = attempts;
  }
}
