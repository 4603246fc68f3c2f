/**
 * Helpers shared by the tests of the local stack: signing KMS and STS calls with aws4fetch (an
 * implementation independent of the stack's own verifier) and the requests the auth flows make,
 * all through the in-memory transport.
 */
import assert from "node:assert/strict";
import { AwsV4Signer } from "aws4fetch";
import {
  type AwsCredentials,
  createLocalStack,
  type LocalStack,
  type LocalStackOptions,
} from "../../src/testing/mod.ts";

/** The form body of an STS GetCallerIdentity call. */
export const GET_CALLER_IDENTITY = "Action=GetCallerIdentity&Version=2011-06-15";
/** The region of the default seed's instance. */
export const REGION = "us-west-2";

/** A parsed JSON object; to read into its fields, a test names their shape: `json<Shape>(response)`. */
export type Json = Record<string, unknown>;

/** The token object of a Cerberus login (STS auth, the KMS auth payload, `data.client_token` of user auth). */
export type CerberusToken = {
  client_token: string;
  lease_duration: number;
  renewable: boolean;
  policies: string[];
  metadata: Record<string, string>;
};

/** An MFA device in a user-auth answer. */
export type MfaDevice = { id: string; name: string; requires_trigger: boolean; is_push: boolean };

/** A Cerberus user-auth answer: `data` holds the token on success, the state token and devices when MFA is due. */
export type UserAuth = {
  status: string;
  data: { client_token: CerberusToken; state_token: string; devices: MfaDevice[] };
};

/** A Cerberus error answer. */
export type CerberusError = { error_id: string; errors: { code: number }[] };

/** A Cerberus secret read: its keys and values, and the version's metadata. */
export type SecretRead = { data: Record<string, string>; metadata: Record<string, string> };

/** A Cerberus KMS auth answer (v1 and v2). */
export type KmsAuthAnswer = { auth_data: string };

/** The fields of a KMS Decrypt or Encrypt answer. */
export type KmsResult = { KeyId: string; Plaintext: string; CiphertextBlob: string; EncryptionAlgorithm: string };

/** A KMS error answer. */
export type KmsError = { __type: string; message: string };

/** Credentials as the instance metadata service and the container endpoint answer them. */
export type CredentialsAnswer = {
  AccessKeyId: string;
  SecretAccessKey: string;
  Token: string;
  Expiration: string;
  Code?: string;
  RoleArn?: string;
};

/** An STS error answer in JSON. */
export type StsError = { Error: { Code: string; Message: string } };

/** An `X-Amz-Date` timestamp (`YYYYMMDDTHHMMSSZ`) of `ms`. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

/** Bytes of a base64 string. */
export function b64decode(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** An in-memory stack with the default seed applied. */
export function memoryStack(
  options: LocalStackOptions = {},
): LocalStack & { defaults: NonNullable<LocalStack["defaults"]> } {
  const stack = createLocalStack(options);
  assert.ok(stack.defaults);
  return stack as LocalStack & { defaults: NonNullable<LocalStack["defaults"]> };
}

/** The body of a response as a JSON object, of the shape `T` the test expects (not checked). */
export async function json<T = Json>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** Signs a KMS JSON 1.1 call with aws4fetch (an implementation independent of the stack's verifier). */
export async function kms(
  stack: LocalStack,
  creds: AwsCredentials,
  target: "Decrypt" | "Encrypt" | "ListKeys",
  payload: unknown,
  options: { region?: string; at?: number; url?: string } = {},
): Promise<Response> {
  const signer = new AwsV4Signer({
    url: options.url ?? `${stack.kms}/`,
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `TrentService.${target}` },
    body: JSON.stringify(payload),
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    sessionToken: creds.sessionToken,
    service: "kms",
    region: options.region ?? REGION,
    datetime: amzDate(options.at ?? stack.clock.now()),
  });
  const signed = await signer.sign();
  return stack.transport(
    new Request(signed.url, { method: "POST", headers: signed.headers, body: signed.body as string }),
  );
}

/** The headers of a GetCallerIdentity signed for `host` (default: the regional STS host), as sent to Cerberus. */
export async function stsIdentityHeaders(
  creds: AwsCredentials,
  options: { region?: string; host?: string; at?: number; extra?: Record<string, string> } = {},
): Promise<Headers> {
  const region = options.region ?? REGION;
  const signer = new AwsV4Signer({
    url: `https://${options.host ?? `sts.${region}.amazonaws.com`}/`,
    method: "POST",
    headers: options.extra ?? {},
    body: GET_CALLER_IDENTITY,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    sessionToken: creds.sessionToken,
    service: "sts",
    region,
    datetime: amzDate(options.at ?? Date.now()),
  });
  return (await signer.sign()).headers;
}

/** Cerberus STS auth (`/v2/auth/sts-identity`) with these signed headers. */
export function stsLogin(stack: LocalStack, headers: Headers): Promise<Response> {
  return stack.transport(new Request(`${stack.cerberus}/v2/auth/sts-identity`, { method: "POST", headers }));
}

/** Cerberus KMS auth v2 (`/v2/auth/iam-principal`) for `arn` in `region`. */
export function kmsAuthData(stack: LocalStack, arn: string, region = REGION): Promise<Response> {
  return stack.transport(
    new Request(`${stack.cerberus}/v2/auth/iam-principal`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ iam_principal_arn: arn, region }),
    }),
  );
}

/** A Cerberus API call with an optional `X-Cerberus-Token`. */
export function cerberus(
  stack: LocalStack,
  path: string,
  token: string | undefined,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== undefined) headers.set("x-cerberus-token", token);
  return stack.transport(new Request(`${stack.cerberus}${path}`, { ...init, headers }));
}

/** The error codes of a Cerberus error body. */
export function codes(body: Json): number[] {
  return (body["errors"] as { code: number }[]).map((e) => e.code);
}

/** A user token of the default seed's user (or of the given credentials). */
export async function userToken(
  stack: ReturnType<typeof memoryStack>,
  username?: string,
  password?: string,
): Promise<string> {
  const user = stack.defaults.user;
  const response = await stack.transport(
    new Request(`${stack.cerberus}/v2/auth/user`, {
      headers: { authorization: `Basic ${btoa(`${username ?? user.username}:${password ?? user.password}`)}` },
    }),
  );
  const body = await json<UserAuth>(response);
  assert.equal(response.status, 200);
  return body["data"]["client_token"]["client_token"];
}

/** An IMDSv2 session token with this TTL (seconds). */
export async function imdsToken(stack: LocalStack, ttl = "21600"): Promise<string> {
  const response = await stack.transport(
    new Request(`${stack.imds}/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": ttl },
    }),
  );
  assert.equal(response.status, 200);
  return response.text();
}

/** An instance metadata GET, with a session token when given. */
export function imdsGet(stack: LocalStack, path: string, token?: string): Promise<Response> {
  const headers: Record<string, string> = token === undefined ? {} : { "x-aws-ec2-metadata-token": token };
  return stack.transport(new Request(`${stack.imds}${path}`, { headers }));
}

/** The instance's credentials for `role`, read over IMDSv2. */
export async function instanceCredentials(stack: LocalStack, role: string): Promise<AwsCredentials> {
  const body = await json<CredentialsAnswer>(
    await imdsGet(stack, `/latest/meta-data/iam/security-credentials/${role}`, await imdsToken(stack)),
  );
  return { accessKeyId: body["AccessKeyId"], secretAccessKey: body["SecretAccessKey"], sessionToken: body["Token"] };
}

/** A promise and whether it has settled yet (its rejection counts as handled). */
export interface Tracked<T> {
  /** The promise itself, to await or assert on. */
  readonly promise: Promise<T>;
  /** True once it resolved or rejected. */
  readonly settled: boolean;
}

/** Tracks whether `promise` has settled, without waiting for it. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked = { promise, settled: false };
  promise.then(
    () => {
      tracked.settled = true;
    },
    () => {
      tracked.settled = true;
    },
  );
  return tracked;
}

/** Lets `rounds` zero-delay macrotask turns pass, so queued work (and loopback I/O) can run. */
export async function turns(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** Waits, turn by turn, until `condition` holds; fails after `maxTurns` turns. */
export async function until(condition: () => boolean, maxTurns = 5_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (condition()) return;
    await turns(1);
  }
  assert.fail("the condition did not come true");
}
