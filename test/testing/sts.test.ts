/**
 * STS auth as Cerberus answers it (replaying the signed GetCallerIdentity, mapping assumed
 * roles, its error codes) and the emulated STS service (GetCallerIdentity, web identities).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AwsV4Signer } from "aws4fetch";
import type { AwsCredentials } from "../../src/testing/mod.ts";
import {
  amzDate,
  b64decode,
  cerberus,
  type CerberusToken,
  codes,
  GET_CALLER_IDENTITY,
  instanceCredentials,
  json,
  kms,
  kmsAuthData,
  type KmsResult,
  memoryStack,
  REGION,
  type StsError,
  stsIdentityHeaders,
  stsLogin,
} from "./helpers.ts";

/** GetCallerIdentity answered in JSON. */
type CallerIdentityJson = {
  GetCallerIdentityResponse: { GetCallerIdentityResult: { Account: string; Arn: string; UserId: string } };
};
/** AssumeRoleWithWebIdentity answered in JSON. */
type WebIdentityJson = {
  AssumeRoleWithWebIdentityResponse: {
    AssumeRoleWithWebIdentityResult: {
      Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: number };
    };
  };
};

describe("STS auth", () => {
  const stack = memoryStack();
  const d = stack.defaults;

  it("replays the signed GetCallerIdentity and maps the assumed role to the registered role", async () => {
    const creds = await instanceCredentials(stack, "app-role");
    const response = await stsLogin(stack, await stsIdentityHeaders(creds));
    assert.equal(response.status, 200);
    const body = await json<CerberusToken>(response);
    assert.equal(body["lease_duration"], 3600);
    assert.equal(body["renewable"], false);
    assert.equal(
      body["metadata"]["aws_iam_principal_arn"],
      "arn:aws:sts::111122223333:assumed-role/app-role/i-0123456789abcdef0",
    );
    assert.equal(body["metadata"]["is_iam_principal"], "true");
    const secret = await cerberus(stack, `/v1/secret/${d.secretPath}`, body["client_token"]);
    assert.equal(secret.status, 200);
    const replay = stack.requests.entries("sts").at(-1);
    assert.equal(replay?.path, "/");
    assert.equal(replay?.status, 200);
  });

  it("answers 99236 without the signature headers", async () => {
    const response = await stsLogin(stack, new Headers({ "x-amz-date": amzDate(Date.now()) }));
    assert.equal(response.status, 400);
    assert.deepEqual(codes(await json(response)), [99236]);
  });

  it("answers 99237 when the signature would not replay", async () => {
    const creds = stack.seed.roleCredentials(d.roles.app.arn);
    const cases = [
      await stsIdentityHeaders(creds, { host: "127.0.0.1:8080" }),
      await stsIdentityHeaders(creds, { host: "sts.amazonaws.com" }),
      await stsIdentityHeaders(creds, { extra: { "x-amz-user-agent": "aws-sdk-js/3" } }),
      await stsIdentityHeaders(creds, { at: Date.now() - 16 * 60_000 }),
      await stsIdentityHeaders({ ...creds, secretAccessKey: "wrong" }),
    ];
    for (const headers of cases) {
      const response = await stsLogin(stack, headers);
      assert.equal(response.status, 400);
      assert.deepEqual(codes(await json(response)), [99237]);
    }
  });

  it("accepts the 15-minute window and the .cn host of China regions", async () => {
    const creds = stack.seed.roleCredentials(d.roles.app.arn);
    assert.equal(
      (await stsLogin(stack, await stsIdentityHeaders(creds, { at: Date.now() - 14 * 60_000 }))).status,
      200,
    );
    const cn = await stsIdentityHeaders(creds, { region: "cn-north-1", host: "sts.cn-north-1.amazonaws.com.cn" });
    assert.equal((await stsLogin(stack, cn)).status, 200);
  });

  it("answers 99238 for expired credentials, 99106 for unknown ones and 99216 for unregistered roles", async () => {
    const local = memoryStack();
    const creds = local.seed.roleCredentials(local.defaults.roles.app.arn, { ttlMs: 60_000 });
    local.clock.advance(2 * 60_000);
    const expired = await stsLogin(local, await stsIdentityHeaders(creds, { at: local.clock.now() }));
    assert.equal(expired.status, 401);
    assert.deepEqual(codes(await json(expired)), [99238]);
    const unknown = await stsLogin(local, await stsIdentityHeaders({ ...creds, accessKeyId: "AKIAUNKNOWNUNKNOWN00" }));
    assert.equal(unknown.status, 401);
    assert.deepEqual(codes(await json(unknown)), [99106]);
    const base = local.seed.roleCredentials(local.defaults.roles.unregistered.arn);
    const unregistered = await stsLogin(local, await stsIdentityHeaders(base, { at: local.clock.now() }));
    assert.deepEqual(codes(await json(unregistered)), [99216]);
  });

  it("retries STS 5xx and answers 99997 when STS stays down", async () => {
    const creds = stack.seed.roleCredentials(d.roles.app.arn);
    stack.faults.inject("sts", { kind: "status", status: 503 });
    assert.equal((await stsLogin(stack, await stsIdentityHeaders(creds))).status, 200);
    stack.faults.inject("sts", { kind: "reset" }, { times: 3 });
    const down = await stsLogin(stack, await stsIdentityHeaders(creds));
    assert.equal(down.status, 503);
    assert.deepEqual(codes(await json(down)), [99997]);
  });

  it("drops the role path when mapping an assumed role, as the real server does", async () => {
    const local = memoryStack();
    const worker = local.seed.role({ name: "worker", path: "team-b/" });
    local.seed.sdb({ name: "jobs", iamPrincipals: { [worker.arn]: "write" }, secrets: { db: { password: "pw" } } });
    const creds = local.seed.roleCredentials(worker.arn);
    const sts = await stsLogin(local, await stsIdentityHeaders(creds));
    assert.deepEqual(codes(await json(sts)), [99216], "role/worker (no path) is not registered");
    const auth = (await json(await kmsAuthData(local, "arn:aws:iam::111122223333:role/team-b/worker")))["auth_data"];
    const decrypted = await json<KmsResult>(await kms(local, creds, "Decrypt", { CiphertextBlob: auth }));
    const token = JSON.parse(new TextDecoder().decode(b64decode(decrypted["Plaintext"])))["client_token"];
    assert.deepEqual((await json(await cerberus(local, "/v1/secret/app/jobs/db", token)))["data"], { password: "pw" });
  });

  it("authenticates IAM users and principals registered through their account root", async () => {
    const local = memoryStack();
    const user = local.seed.iamUser("ci-user");
    local.seed.sdb({ name: "ci", iamPrincipals: { [user.arn]: "read", "arn:aws:iam::444455556666:root": "read" } });
    assert.equal((await stsLogin(local, await stsIdentityHeaders(user.credentials))).status, 200);
    const role = local.seed.role({ name: "any-role", accountId: "444455556666" });
    const viaRoot = await stsLogin(local, await stsIdentityHeaders(local.seed.roleCredentials(role.arn)));
    assert.equal(viaRoot.status, 200);
  });
});

describe("the STS service", () => {
  const stack = memoryStack();
  const d = stack.defaults;

  async function signedGetCallerIdentity(creds: AwsCredentials, accept?: string): Promise<Response> {
    const signer = new AwsV4Signer({
      url: `${stack.sts}/`,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8", ...(accept ? { accept } : {}) },
      body: GET_CALLER_IDENTITY,
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
      service: "sts",
      region: REGION,
    });
    const signed = await signer.sign();
    return stack.transport(
      new Request(signed.url, { method: "POST", headers: signed.headers, body: signed.body as string }),
    );
  }

  it("answers GetCallerIdentity in XML by default and JSON on request", async () => {
    const creds = stack.seed.roleCredentials(d.roles.app.arn, { sessionName: "tester" });
    const xml = await signedGetCallerIdentity(creds);
    assert.equal(xml.status, 200);
    assert.match(xml.headers.get("content-type") ?? "", /xml/);
    assert.match(await xml.text(), /<Arn>arn:aws:sts::111122223333:assumed-role\/app-role\/tester<\/Arn>/);
    const body = await json<CallerIdentityJson>(await signedGetCallerIdentity(creds, "application/json"));
    assert.equal(body["GetCallerIdentityResponse"]["GetCallerIdentityResult"]["Account"], "111122223333");
    const denied = await signedGetCallerIdentity({ ...creds, secretAccessKey: "nope" }, "application/json");
    assert.equal(denied.status, 403);
    assert.equal((await json<StsError>(denied))["Error"]["Code"], "SignatureDoesNotMatch");
  });

  it("answers AssumeRoleWithWebIdentity for registered tokens only", async () => {
    const form = (token: string, role = d.roles.app.arn) =>
      new URLSearchParams({
        Action: "AssumeRoleWithWebIdentity",
        Version: "2011-06-15",
        RoleArn: role,
        RoleSessionName: "pod-session",
        WebIdentityToken: token,
      }).toString();
    const post = (body: string, accept?: string) =>
      stack.transport(
        new Request(`${stack.sts}/`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", ...(accept ? { accept } : {}) },
          body,
        }),
      );
    const xml = await (await post(form(d.webIdentityToken))).text();
    assert.match(xml, /<AccessKeyId>ASIA[A-Z2-7]{16}<\/AccessKeyId>/);
    assert.match(xml, /<Arn>arn:aws:sts::111122223333:assumed-role\/app-role\/pod-session<\/Arn>/);
    const asJson = await json<WebIdentityJson>(await post(form(d.webIdentityToken), "application/json"));
    const credentials = asJson["AssumeRoleWithWebIdentityResponse"]["AssumeRoleWithWebIdentityResult"]["Credentials"];
    assert.equal(typeof credentials["Expiration"], "number");
    const issued = {
      accessKeyId: credentials["AccessKeyId"],
      secretAccessKey: credentials["SecretAccessKey"],
      sessionToken: credentials["SessionToken"],
    };
    assert.equal((await stsLogin(stack, await stsIdentityHeaders(issued))).status, 200);
    const invalid = await post(form("not-a-token"), "application/json");
    assert.equal(invalid.status, 400);
    assert.equal((await json<StsError>(invalid))["Error"]["Code"], "InvalidIdentityToken");
    const otherRole = await post(form(d.webIdentityToken, d.roles.unregistered.arn), "application/json");
    assert.equal(otherRole.status, 403);
    assert.equal((await json<StsError>(otherRole))["Error"]["Code"], "AccessDenied");
  });
});
