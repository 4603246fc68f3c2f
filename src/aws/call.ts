/**
 * The one way the library calls an AWS service for credentials or identity (the container
 * endpoint, STS): sent through `send`, retried with jittered back-off (3 attempts) on network
 * failures, 429 and 5xx. Any other status but 200 is an {@link AwsError}, unless the caller
 * reads the service's own error body (`errorBodies`).
 *
 * @module
 */
import { AbortedError, AwsError, type AwsService, type Step, TransportError } from "../errors.ts";
import { type Answer, BODY_LIMITS, type HttpContext, type RequestParts, send } from "../internal/http.ts";
import { retry } from "../internal/retry.ts";

/** How one AWS call is made. */
export interface AwsCall {
  /** The service, for errors. */
  service: AwsService;
  /** What the call does, for errors, e.g. `STS GetCallerIdentity`. */
  what: string;
  /** The step a failure reports. */
  step: Step;
  /** Timeout of each attempt, ms. */
  timeoutMs: number;
  /** The caller's signal. */
  signal?: AbortSignal | undefined;
  /** Return 4xx answers (other than 429) for the caller to read the service's error. */
  errorBodies?: boolean;
}

/** Sends `parts()` (built anew for each attempt, so a signature is fresh) to `url`. */
export function callAws(
  http: HttpContext,
  url: string,
  parts: () => Promise<RequestParts> | RequestParts,
  call: AwsCall,
): Promise<Answer> {
  return retry(
    async () => {
      const answer = await send(http, url, await parts(), {
        step: call.step,
        timeoutMs: call.timeoutMs,
        limit: BODY_LIMITS.aws,
        signal: call.signal,
      });
      const retryable = answer.status >= 500 || answer.status === 429;
      if (answer.status !== 200 && (retryable || !call.errorBodies)) {
        throw new AwsError(`${call.what} answered HTTP ${answer.status}`, {
          step: call.step,
          service: call.service,
          status: answer.status,
        });
      }
      return answer;
    },
    { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    {
      clock: http.clock,
      signal: call.signal,
      aborted: (reason) =>
        new AbortedError(`${call.what} was aborted by the caller`, { step: call.step, cause: reason }),
      retryable: (error) => error instanceof TransportError || (error instanceof AwsError && error.retryable),
    },
  );
}
