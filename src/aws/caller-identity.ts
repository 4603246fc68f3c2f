/**
 * Who a set of AWS credentials belongs to: a signed STS `GetCallerIdentity` call, for KMS auth on
 * a host that is neither EC2 nor ECS (docs/wire.md#sts-getcalleridentity-signing).
 *
 * @module
 */
import * as v from "valibot";
import { AbortedError, AwsError, InvalidInputError, TransportError } from "../errors.ts";
import { decodeJson, matching } from "../internal/decode.ts";
import { BODY_LIMITS, type HttpContext, send } from "../internal/http.ts";
import { retry } from "../internal/retry.ts";
import type { AwsCredentials } from "./credentials.ts";
import { checkRegion, serviceEndpoint } from "./endpoints.ts";
import { signPost } from "./sigv4.ts";

const step = "credentials";
const BODY = "Action=GetCallerIdentity&Version=2011-06-15";
const Answer = v.object({
  GetCallerIdentityResponse: v.object({
    GetCallerIdentityResult: v.object({
      Arn: matching(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/-]+$/, "Arn is malformed"),
    }),
  }),
});

/**
 * The IAM principal Cerberus knows the caller by: an assumed role's session ARN
 * (`arn:aws:sts::<account>:assumed-role/NAME/session`) becomes `arn:aws:iam::<account>:role/NAME`
 * (STS does not tell the role's IAM path); a user ARN stays as it is.
 */
export async function callerPrincipal(
  http: HttpContext,
  env: (name: string) => string | undefined,
  credentials: AwsCredentials,
  signal?: AbortSignal,
): Promise<string> {
  const region = env("CERBERUS_REGION") || env("AWS_REGION") || env("AWS_DEFAULT_REGION");
  if (!region) {
    throw new InvalidInputError("is needed to ask STS who the credentials belong to", { field: "AWS_REGION", step });
  }
  checkRegion(region, "AWS_REGION", step);
  const url = serviceEndpoint("sts", region, undefined, env);
  const headers = { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" };
  const answer = await retry(
    async () => {
      const signed = await signPost({
        url,
        headers,
        body: BODY,
        credentials,
        service: "sts",
        region,
        time: http.clock.now(),
        step,
      });
      const answer = await send(http, url, { method: "POST", headers: signed, body: BODY }, {
        step,
        timeoutMs: 5000,
        limit: BODY_LIMITS.aws,
        signal,
      });
      if (answer.status !== 200) {
        throw new AwsError(`STS GetCallerIdentity answered HTTP ${answer.status}`, {
          step,
          service: "sts",
          status: answer.status,
        });
      }
      return answer;
    },
    { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    {
      clock: http.clock,
      signal,
      aborted: (reason) => new AbortedError("GetCallerIdentity was aborted by the caller", { step, cause: reason }),
      retryable: (error) => error instanceof TransportError || (error instanceof AwsError && error.retryable),
    },
  );
  const arn = decodeJson(
    answer.body,
    Answer,
    (problem) => new AwsError(`the GetCallerIdentity answer ${problem}`, { step, service: "sts", status: 200 }),
    answer.headers.get("content-type"),
  ).GetCallerIdentityResponse.GetCallerIdentityResult.Arn;
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/.+$/.exec(arn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : arn;
}
