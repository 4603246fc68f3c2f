/**
 * Who a set of AWS credentials belongs to: a signed STS `GetCallerIdentity` call, for KMS auth on
 * a host that is neither EC2 nor ECS (docs/wire.md#sts-getcalleridentity-signing).
 *
 * @module
 */
import { callAws } from "./call.ts";
import * as v from "valibot";
import { AwsError, InvalidInputError } from "../errors.ts";
import { decodeJson, matching } from "../internal/decode.ts";
import type { HttpContext } from "../internal/http.ts";
import type { AwsCredentials } from "./credentials.ts";
import { regionFromEnv, serviceEndpoint } from "./endpoints.ts";
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
  const region = regionFromEnv(env, true, step);
  if (!region) {
    throw new InvalidInputError("is needed to ask STS who the credentials belong to", { field: "AWS_REGION", step });
  }
  const url = serviceEndpoint("sts", region, undefined, env);
  const headers = { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" };
  const answer = await callAws(http, url, async () => ({
    method: "POST",
    headers: await signPost({
      url,
      headers,
      body: BODY,
      credentials,
      service: "sts",
      region,
      time: http.clock.now(),
      step,
    }),
    body: BODY,
  }), { service: "sts", what: "STS GetCallerIdentity", step, timeoutMs: 5000, signal });
  const arn = decodeJson(
    answer.body,
    Answer,
    (problem) => new AwsError(`the GetCallerIdentity answer ${problem}`, { step, service: "sts", status: 200 }),
    answer.headers.get("content-type"),
  ).GetCallerIdentityResponse.GetCallerIdentityResult.Arn;
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/.+$/.exec(arn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : arn;
}
