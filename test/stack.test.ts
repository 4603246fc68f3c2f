/**
 * Behaviour of every service of the local stack: auth flows, error codes, permissions,
 * expiry driven by the stack's clock, SigV4 rejection and skew, IMDS v2/v1, and faults.
 * Most requests go through the in-memory transport; one suite talks to the served stack on
 * 127.0.0.1.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AwsV4Signer } from "aws4fetch";
import {
  ConnectionResetError,
  createLocalStack,
  startLocalStack,
  type AwsCredentials,
  type LocalStack,
  type LocalStackOptions,
} from "../src/testing/mod.ts";

const GET_CALLER_IDENTITY = "Action=GetCallerIdentity&Version=2011-06-15";
const REGION = "us-west-2";

type Json = Record<string, any>;

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

function b64decode(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function memoryStack(options: LocalStackOptions = {}): LocalStack & { defaults: NonNullable<LocalStack["defaults"]> } {
  const stack = createLocalStack(options);
  assert.ok(stack.defaults);
  return stack as LocalStack & { defaults: NonNullable<LocalStack["defaults"]> };
}

async function json(response: Response): Promise<Json> {
  return (await response.json()) as Json;
}

/** Signs a KMS JSON 1.1 call with aws4fetch (an implementation independent of the stack's verifier). */
async function kms(
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
  return stack.transport(new Request(signed.url, { method: "POST", headers: signed.headers, body: signed.body as string }));
}

/** The headers of a GetCallerIdentity signed for `host` (default: the regional STS host), as sent to Cerberus. */
async function stsIdentityHeaders(
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

async function stsLogin(stack: LocalStack, headers: Headers): Promise<Response> {
  return stack.transport(new Request(`${stack.cerberus}/v2/auth/sts-identity`, { method: "POST", headers }));
}

async function kmsAuthData(stack: LocalStack, arn: string, region = REGION): Promise<Response> {
  return stack.transport(
    new Request(`${stack.cerberus}/v2/auth/iam-principal`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ iam_principal_arn: arn, region }),
    }),
  );
}

function cerberus(stack: LocalStack, path: string, token: string | undefined, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== undefined) headers.set("x-cerberus-token", token);
  return stack.transport(new Request(`${stack.cerberus}${path}`, { ...init, headers }));
}

function codes(body: Json): number[] {
  return (body["errors"] as { code: number }[]).map((e) => e.code);
}

async function userToken(stack: ReturnType<typeof memoryStack>, username?: string, password?: string): Promise<string> {
  const user = stack.defaults.user;
  const response = await stack.transport(
    new Request(`${stack.cerberus}/v2/auth/user`, {
      headers: { authorization: `Basic ${btoa(`${username ?? user.username}:${password ?? user.password}`)}` },
    }),
  );
  const body = await json(response);
  assert.equal(response.status, 200);
  return body["data"]["client_token"]["client_token"] as string;
}

async function imdsToken(stack: LocalStack, ttl = "21600"): Promise<string> {
  const response = await stack.transport(
    new Request(`${stack.imds}/latest/api/token`, { method: "PUT", headers: { "x-aws-ec2-metadata-token-ttl-seconds": ttl } }),
  );
  assert.equal(response.status, 200);
  return response.text();
}

async function imdsGet(stack: LocalStack, path: string, token?: string): Promise<Response> {
  const headers: Record<string, string> = token === undefined ? {} : { "x-aws-ec2-metadata-token": token };
  return stack.transport(new Request(`${stack.imds}${path}`, { headers }));
}

async function instanceCredentials(stack: LocalStack, role: string): Promise<AwsCredentials> {
  const body = await json(await imdsGet(stack, `/latest/meta-data/iam/security-credentials/${role}`, await imdsToken(stack)));
  return { accessKeyId: body["AccessKeyId"], secretAccessKey: body["SecretAccessKey"], sessionToken: body["Token"] };
}

describe("the served stack on 127.0.0.1", () => {
  let stack: LocalStack;
  before(async () => {
    stack = await startLocalStack();
  });
  after(async () => {
    await stack.close();
  });

  it("binds every service to loopback with ephemeral ports and hands out a client env", () => {
    for (const url of Object.values(stack.urls)) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(new Set(Object.values(stack.urls)).size, 5);
    assert.deepEqual(stack.env, {
      AWS_EC2_METADATA_SERVICE_ENDPOINT: stack.imds,
      AWS_ENDPOINT_URL_KMS: stack.kms,
      AWS_ENDPOINT_URL_STS: stack.sts,
      AWS_REGION: "us-west-2",
      CERBERUS_URL: stack.cerberus,
    });
  });

  it("answers over sockets with its own clock in the Date header", async () => {
    stack.clock.setOffset(3 * 3_600_000);
    try {
      const response = await fetch(`${stack.cerberus}/healthcheck`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "OK");
      const served = Date.parse(response.headers.get("date") ?? "");
      assert.ok(Math.abs(served - (Date.now() + 3 * 3_600_000)) < 5_000, "Date reflects the server clock");
    } finally {
      stack.clock.setOffset(0);
    }
  });

  it("shares state between the sockets and the in-memory transport", async () => {
    const token = await (async () => {
      const response = await fetch(`${stack.cerberus}/v2/auth/user`, {
        headers: { authorization: `Basic ${btoa(`${stack.defaults?.user.username}:${stack.defaults?.user.password}`)}` },
      });
      return ((await json(response))["data"]["client_token"]["client_token"]) as string;
    })();
    const write = await cerberus(stack, "/v1/secret/app/demo/shared", token, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ via: "memory" }),
    });
    assert.equal(write.status, 204);
    const read = await fetch(`${stack.cerberus}/v1/secret/app/demo/shared`, { headers: { "x-cerberus-token": token } });
    assert.deepEqual((await json(read))["data"], { via: "memory" });
  });

  it("destroys the socket on a connection-reset fault", async () => {
    // Clients may retry an idempotent request once on a dropped keep-alive connection, so the
    // fault stays until removed.
    const reset = stack.faults.inject("cerberus", { kind: "reset" }, { times: Infinity });
    await assert.rejects(fetch(`${stack.cerberus}/healthcheck`), TypeError);
    assert.ok(reset.hits >= 1);
    reset.remove();
    assert.equal((await fetch(`${stack.cerberus}/healthcheck`)).status, 200);
  });

  it("serves IMDSv2 and multipart uploads over sockets", async () => {
    const token = await (await fetch(`${stack.imds}/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
    })).text();
    const region = await fetch(`${stack.imds}/latest/meta-data/placement/region`, { headers: { "x-aws-ec2-metadata-token": token } });
    assert.equal(await region.text(), "us-west-2");
    const login = await fetch(`${stack.cerberus}/v2/auth/user`, {
      headers: { authorization: `Basic ${btoa(`${stack.defaults?.user.username}:${stack.defaults?.user.password}`)}` },
    });
    const userTokenValue = (await json(login))["data"]["client_token"]["client_token"] as string;
    const form = new FormData();
    form.append("file-content", new Blob([new Uint8Array([0, 1, 2, 255])]), "blob.bin");
    const upload = await fetch(`${stack.cerberus}/v1/secure-file/app/demo/blob.bin`, {
      method: "POST",
      headers: { "x-cerberus-token": userTokenValue },
      body: form,
    });
    assert.equal(upload.status, 204);
    const head = await fetch(`${stack.cerberus}/v1/secure-file/app/demo/blob.bin`, {
      method: "HEAD",
      headers: { "x-cerberus-token": userTokenValue },
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "4");
    assert.equal(head.headers.get("content-disposition"), 'attachment; filename="blob.bin"');
  });
});

describe("a stack that was closed", () => {
  it("stops every server it started", async () => {
    const stack = await startLocalStack({ seed: false });
    assert.equal((await fetch(`${stack.kms}/`, { method: "POST" })).status, 400);
    await stack.close();
    await stack.close();
    for (const url of Object.values(stack.urls)) await assert.rejects(fetch(`${url}/`), TypeError);
  });
});

describe("KMS auth (the seed's sequence)", () => {
  const stack = memoryStack();
  const d = stack.defaults;

  it("walks the instance's metadata and roles, path-first, to a token and a secret", async () => {
    const token = await imdsToken(stack);
    const document = await json(await imdsGet(stack, "/latest/dynamic/instance-identity/document", token));
    assert.equal(document["accountId"], "111122223333");
    assert.equal(document["region"], "us-west-2");
    const info = await json(await imdsGet(stack, "/latest/meta-data/iam/info", token));
    assert.equal(info["InstanceProfileArn"], "arn:aws:iam::111122223333:instance-profile/team-a/app-profile");
    const listing = await (await imdsGet(stack, "/latest/meta-data/iam/security-credentials/", token)).text();
    assert.deepEqual(listing.split("\n"), ["base-role", "app-role"]);

    const attempts: string[] = [];
    let clientToken: string | undefined;
    for (const role of listing.split("\n")) {
      const creds = await instanceCredentials(stack, role);
      for (const arn of [`arn:aws:iam::111122223333:role/team-a/${role}`, `arn:aws:iam::111122223333:role/${role}`]) {
        const auth = await kmsAuthData(stack, arn);
        const body = await json(auth);
        if (auth.status !== 200) {
          attempts.push(`${arn} ${codes(body).join(",")}`);
          continue;
        }
        const decrypted = await kms(stack, creds, "Decrypt", { CiphertextBlob: body["auth_data"] });
        assert.equal(decrypted.status, 200);
        assert.ok(decrypted.headers.get("date"));
        const result = await json(decrypted);
        assert.match(result["KeyId"], /^arn:aws:kms:us-west-2:999988887777:key\/[0-9a-f-]{36}$/);
        assert.equal(result["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
        const payload = JSON.parse(new TextDecoder().decode(b64decode(result["Plaintext"])));
        assert.equal(payload["lease_duration"], 3600);
        assert.equal(payload["renewable"], false);
        assert.deepEqual(payload["policies"], []);
        assert.equal(payload["metadata"]["aws_iam_principal_arn"], arn);
        assert.equal(payload["metadata"]["aws_region"], "us-west-2");
        assert.equal(payload["metadata"]["is_iam_principal"], "true");
        clientToken = payload["client_token"];
        break;
      }
      if (clientToken) break;
    }
    assert.deepEqual(attempts, [
      "arn:aws:iam::111122223333:role/team-a/base-role 99216",
      "arn:aws:iam::111122223333:role/base-role 99216",
      "arn:aws:iam::111122223333:role/team-a/app-role 99216",
    ]);
    const secret = await json(await cerberus(stack, `/v1/secret/${d.secretPath}`, clientToken));
    assert.equal(secret["data"]["greeting"], "hello from the local stack");
  });

  it("lets only the key's principal decrypt, only in the key's region, and only an intact blob", async () => {
    const auth = (await json(await kmsAuthData(stack, d.roles.app.arn)))["auth_data"] as string;
    const other = stack.seed.roleCredentials(d.roles.unregistered.arn);
    const denied = await kms(stack, other, "Decrypt", { CiphertextBlob: auth });
    assert.equal(denied.status, 400);
    assert.equal((await json(denied))["__type"], "AccessDeniedException");

    const app = stack.seed.roleCredentials(d.roles.app.arn);
    const foreign = await kms(stack, app, "Decrypt", { CiphertextBlob: auth }, { region: "us-east-1" });
    assert.equal((await json(foreign))["__type"], "InvalidCiphertextException");

    const blob = b64decode(auth);
    blob[blob.length - 1] = (blob[blob.length - 1] ?? 0) ^ 1;
    const tampered = await kms(stack, app, "Decrypt", { CiphertextBlob: btoa(String.fromCharCode(...blob)) });
    assert.equal((await json(tampered))["__type"], "InvalidCiphertextException");

    const wrongKey = await kms(stack, app, "Decrypt", { CiphertextBlob: auth, KeyId: "11111111-2222-3333-4444-555555555555" });
    assert.equal((await json(wrongKey))["__type"], "IncorrectKeyException");
  });

  it("creates one key per (principal, region)", async () => {
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    const west = await json(await kms(stack, app, "Decrypt", { CiphertextBlob: (await json(await kmsAuthData(stack, d.roles.app.arn)))["auth_data"] }));
    const eastAuth = (await json(await kmsAuthData(stack, d.roles.app.arn, "us-east-1")))["auth_data"];
    const east = await json(await kms(stack, app, "Decrypt", { CiphertextBlob: eastAuth }, { region: "us-east-1" }));
    assert.match(east["KeyId"], /^arn:aws:kms:us-east-1:/);
    assert.notEqual(east["KeyId"].split("/")[1], west["KeyId"].split("/")[1]);
    const wrongRegion = await kms(stack, app, "Decrypt", { CiphertextBlob: eastAuth });
    assert.equal((await json(wrongRegion))["__type"], "InvalidCiphertextException");
  });

  it("validates the request like Cerberus", async () => {
    assert.deepEqual(codes(await json(await kmsAuthData(stack, d.roles.app.arn, ""))), [99228]);
    assert.deepEqual(codes(await json(await kmsAuthData(stack, d.roles.app.arn, "mars-north-1"))), [99215]);
    assert.deepEqual(codes(await json(await kmsAuthData(stack, "arn:aws:iam::111122223333:group/admins"))), [99216]);
    const malformed = await stack.transport(
      new Request(`${stack.cerberus}/v2/auth/iam-principal`, { method: "POST", body: "{not json" }),
    );
    assert.equal(malformed.status, 400);
    assert.deepEqual(codes(await json(malformed)), [99001]);
    const body = await json(await kmsAuthData(stack, "arn:aws:iam::111122223333:role/nobody"));
    assert.equal(typeof body["error_id"], "string");
    assert.equal(body["errors"][0]["code"], 99216);
  });

  it("answers KMS auth v1 with the account id and role name in the metadata", async () => {
    const response = await stack.transport(
      new Request(`${stack.cerberus}/v1/auth/iam-role`, {
        method: "POST",
        body: JSON.stringify({ account_id: "111122223333", role_name: "app-role", region: "us-west-2" }),
      }),
    );
    assert.equal(response.status, 200);
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    const plain = await json(await kms(stack, app, "Decrypt", { CiphertextBlob: (await json(response))["auth_data"] }));
    const payload = JSON.parse(new TextDecoder().decode(b64decode(plain["Plaintext"])));
    assert.equal(payload["metadata"]["aws_account_id"], "111122223333");
    assert.equal(payload["metadata"]["aws_iam_role_name"], "app-role");
    const bad = await stack.transport(
      new Request(`${stack.cerberus}/v1/auth/iam-role`, { method: "POST", body: JSON.stringify({ account_id: "12", role_name: "x", region: "us-west-2" }) }),
    );
    assert.deepEqual(codes(await json(bad)), [99102]);
  });

  it("truncates a payload over 4096 bytes to _truncated metadata and policies", async () => {
    const local = memoryStack();
    local.seed.tokenPolicies(local.defaults.roles.app.arn, Array.from({ length: 80 }, (_, i) => `policy-${i}-${"x".repeat(60)}`));
    const auth = (await json(await kmsAuthData(local, local.defaults.roles.app.arn)))["auth_data"];
    const app = local.seed.roleCredentials(local.defaults.roles.app.arn);
    const plain = await json(await kms(local, app, "Decrypt", { CiphertextBlob: auth }));
    const payload = JSON.parse(new TextDecoder().decode(b64decode(plain["Plaintext"])));
    assert.deepEqual(payload["metadata"], { _truncated: "true" });
    assert.deepEqual(payload["policies"], ["_truncated"]);
    assert.equal(typeof payload["client_token"], "string");
  });

  it("fails key provisioning for a registered principal that does not exist in IAM", async () => {
    const local = memoryStack();
    local.seed.sdb({ name: "ghost", iamPrincipals: { "arn:aws:iam::111122223333:role/ghost": "read" } });
    const response = await kmsAuthData(local, "arn:aws:iam::111122223333:role/ghost");
    assert.equal(response.status, 500);
    assert.deepEqual(codes(await json(response)), [99223]);
  });

  it("can be switched off like on a deployment without KMS auth", async () => {
    const local = memoryStack({ cerberus: { kmsAuthEnabled: false } });
    assert.equal((await kmsAuthData(local, local.defaults.roles.app.arn)).status, 404);
  });
});

describe("KMS request checks", () => {
  const stack = memoryStack();
  const d = stack.defaults;

  async function authData(): Promise<string> {
    return (await json(await kmsAuthData(stack, d.roles.app.arn)))["auth_data"];
  }

  it("rejects unknown keys, wrong secrets and missing session tokens", async () => {
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    const blob = await authData();
    const unknown = await kms(stack, { ...app, accessKeyId: "ASIAUNKNOWNUNKNOWN00" }, "Decrypt", { CiphertextBlob: blob });
    assert.equal(unknown.status, 400);
    assert.equal((await json(unknown))["__type"], "UnrecognizedClientException");
    const wrongSecret = await kms(stack, { ...app, secretAccessKey: "wrong" }, "Decrypt", { CiphertextBlob: blob });
    assert.equal((await json(wrongSecret))["__type"], "InvalidSignatureException");
    const noToken = await kms(stack, { accessKeyId: app.accessKeyId, secretAccessKey: app.secretAccessKey }, "Decrypt", { CiphertextBlob: blob });
    assert.equal((await json(noToken))["__type"], "UnrecognizedClientException");
    const unsigned = await stack.transport(new Request(`${stack.kms}/`, { method: "POST", body: "{}" }));
    assert.equal((await json(unsigned))["__type"], "MissingAuthenticationTokenException");
    const unknownOp = await kms(stack, app, "ListKeys", {});
    assert.equal((await json(unknownOp))["__type"], "UnknownOperationException");
  });

  it("allows 5 minutes of skew and answers 'Signature expired' beyond, with the server's Date", async () => {
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    const blob = await authData();
    const now = stack.clock.now();
    assert.equal((await kms(stack, app, "Decrypt", { CiphertextBlob: blob }, { at: now - 4 * 60_000 })).status, 200);
    const old = await kms(stack, app, "Decrypt", { CiphertextBlob: blob }, { at: now - 6 * 60_000 });
    const body = await json(old);
    assert.equal(body["__type"], "InvalidSignatureException");
    assert.match(body["message"], /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
    const future = await json(await kms(stack, app, "Decrypt", { CiphertextBlob: blob }, { at: now + 6 * 60_000 }));
    assert.match(future["message"], /^Signature not yet current/);

    stack.clock.skew("kms", 10 * 60_000);
    try {
      const skewed = await kms(stack, app, "Decrypt", { CiphertextBlob: blob }, { at: Date.now() });
      assert.equal((await json(skewed))["__type"], "InvalidSignatureException");
      const serverDate = Date.parse(skewed.headers.get("date") ?? "");
      assert.ok(Math.abs(serverDate - (Date.now() + 10 * 60_000)) < 5_000);
    } finally {
      stack.clock.skew("kms", 0);
    }
  });

  it("expires session tokens on the server's clock", async () => {
    const local = memoryStack();
    const creds = await instanceCredentials(local, "app-role");
    const blob = (await json(await kmsAuthData(local, local.defaults.roles.app.arn)))["auth_data"];
    local.clock.advance(7 * 3_600_000);
    const expired = await kms(local, creds, "Decrypt", { CiphertextBlob: blob });
    assert.equal((await json(expired))["__type"], "ExpiredTokenException");
    const fresh = await instanceCredentials(local, "app-role");
    assert.notEqual(fresh.accessKeyId, creds.accessKeyId);
    assert.equal((await kms(local, fresh, "Decrypt", { CiphertextBlob: blob })).status, 200);
  });

  it("lets only Cerberus's own role encrypt, and binds the encryption context", async () => {
    await authData();
    const admin = stack.seed.roleCredentials(stack.cerberusRole.arn);
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    const keyId = (await json(await kms(stack, app, "Decrypt", { CiphertextBlob: await authData() })))["KeyId"];
    const denied = await kms(stack, app, "Encrypt", { KeyId: keyId, Plaintext: btoa("hi") });
    assert.equal((await json(denied))["__type"], "AccessDeniedException");
    const encrypted = await json(await kms(stack, admin, "Encrypt", { KeyId: keyId, Plaintext: btoa("hi"), EncryptionContext: { a: "1" } }));
    assert.equal(encrypted["KeyId"], keyId);
    const mismatch = await kms(stack, app, "Decrypt", { CiphertextBlob: encrypted["CiphertextBlob"], EncryptionContext: { a: "2" } });
    assert.equal((await json(mismatch))["__type"], "InvalidCiphertextException");
    const matching = await json(await kms(stack, app, "Decrypt", { CiphertextBlob: encrypted["CiphertextBlob"], EncryptionContext: { a: "1" } }));
    assert.equal(atob(matching["Plaintext"]), "hi");
    const tooBig = await kms(stack, admin, "Encrypt", { KeyId: keyId, Plaintext: btoa("x".repeat(4097)) });
    assert.equal((await json(tooBig))["__type"], "ValidationException");
    const missing = await kms(stack, admin, "Encrypt", { KeyId: "00000000-0000-0000-0000-000000000000", Plaintext: btoa("hi") });
    assert.equal((await json(missing))["__type"], "NotFoundException");
  });

  it("reports disabled and pending-deletion keys", async () => {
    const blob = await authData();
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    assert.ok(stack.seed.keyState(d.roles.app.arn, REGION, "Disabled"));
    assert.equal((await json(await kms(stack, app, "Decrypt", { CiphertextBlob: blob })))["__type"], "DisabledException");
    stack.seed.keyState(d.roles.app.arn, REGION, "PendingDeletion");
    assert.equal((await json(await kms(stack, app, "Decrypt", { CiphertextBlob: blob })))["__type"], "KMSInvalidStateException");
    const reissued = await authData();
    assert.equal((await kms(stack, app, "Decrypt", { CiphertextBlob: reissued })).status, 200, "Cerberus re-provisions an unusable key");
  });

  it("refuses a signature scoped to another service or region than the host", async () => {
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    const unknownRegion = await kms(stack, app, "Decrypt", { CiphertextBlob: await authData() }, { region: "mars-north-1" });
    assert.equal((await json(unknownRegion))["__type"], "InvalidSignatureException");
  });
});

describe("STS auth", () => {
  const stack = memoryStack();
  const d = stack.defaults;

  it("replays the signed GetCallerIdentity and maps the assumed role to the registered role", async () => {
    const creds = await instanceCredentials(stack, "app-role");
    const response = await stsLogin(stack, await stsIdentityHeaders(creds));
    assert.equal(response.status, 200);
    const body = await json(response);
    assert.equal(body["lease_duration"], 3600);
    assert.equal(body["renewable"], false);
    assert.equal(body["metadata"]["aws_iam_principal_arn"], "arn:aws:sts::111122223333:assumed-role/app-role/i-0123456789abcdef0");
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
    assert.equal((await stsLogin(stack, await stsIdentityHeaders(creds, { at: Date.now() - 14 * 60_000 }))).status, 200);
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
    const decrypted = await json(await kms(local, creds, "Decrypt", { CiphertextBlob: auth }));
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
    return stack.transport(new Request(signed.url, { method: "POST", headers: signed.headers, body: signed.body as string }));
  }

  it("answers GetCallerIdentity in XML by default and JSON on request", async () => {
    const creds = stack.seed.roleCredentials(d.roles.app.arn, { sessionName: "tester" });
    const xml = await signedGetCallerIdentity(creds);
    assert.equal(xml.status, 200);
    assert.match(xml.headers.get("content-type") ?? "", /xml/);
    assert.match(await xml.text(), /<Arn>arn:aws:sts::111122223333:assumed-role\/app-role\/tester<\/Arn>/);
    const body = await json(await signedGetCallerIdentity(creds, "application/json"));
    assert.equal(body["GetCallerIdentityResponse"]["GetCallerIdentityResult"]["Account"], "111122223333");
    const denied = await signedGetCallerIdentity({ ...creds, secretAccessKey: "nope" }, "application/json");
    assert.equal(denied.status, 403);
    assert.equal((await json(denied))["Error"]["Code"], "SignatureDoesNotMatch");
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
    const asJson = await json(await post(form(d.webIdentityToken), "application/json"));
    const credentials = asJson["AssumeRoleWithWebIdentityResponse"]["AssumeRoleWithWebIdentityResult"]["Credentials"];
    assert.equal(typeof credentials["Expiration"], "number");
    const issued = { accessKeyId: credentials["AccessKeyId"], secretAccessKey: credentials["SecretAccessKey"], sessionToken: credentials["SessionToken"] };
    assert.equal((await stsLogin(stack, await stsIdentityHeaders(issued))).status, 200);
    const invalid = await post(form("not-a-token"), "application/json");
    assert.equal(invalid.status, 400);
    assert.equal((await json(invalid))["Error"]["Code"], "InvalidIdentityToken");
    const otherRole = await post(form(d.webIdentityToken, d.roles.unregistered.arn), "application/json");
    assert.equal(otherRole.status, 403);
    assert.equal((await json(otherRole))["Error"]["Code"], "AccessDenied");
  });
});

describe("user auth", () => {
  const basic = (user: string, password: string) => ({ authorization: `Basic ${btoa(`${user}:${password}`)}` });

  it("logs in with Basic credentials and refuses bad ones", async () => {
    const stack = memoryStack();
    const u = stack.defaults.user;
    const ok = await json(await stack.transport(new Request(`${stack.cerberus}/v2/auth/user`, { headers: basic(u.username, u.password) })));
    assert.equal(ok["status"], "success");
    const token = ok["data"]["client_token"];
    assert.equal(token["renewable"], true);
    assert.equal(token["metadata"]["username"], u.username);
    assert.equal(token["metadata"]["groups"], "demo-owners");
    assert.equal(token["metadata"]["refresh_count"], "0");
    assert.equal(token["metadata"]["max_refresh_count"], "24");
    const wrong = await stack.transport(new Request(`${stack.cerberus}/v2/auth/user`, { headers: basic(u.username, "nope") }));
    assert.equal(wrong.status, 401);
    assert.deepEqual(codes(await json(wrong)), [99239]);
    const malformed = await stack.transport(new Request(`${stack.cerberus}/v2/auth/user`, { headers: { authorization: "Bearer x" } }));
    assert.deepEqual(codes(await json(malformed)), [99106]);
  });

  it("requires MFA for users with devices: codes, triggered devices and push", async () => {
    const stack = memoryStack();
    const seeded = stack.seed.user({
      username: "mfa@local.test",
      password: "pw",
      groups: ["demo-owners"],
      mfa: [{ kind: "totp", otp: "654321" }, { kind: "sms", otp: "111222" }, { kind: "push" }, { kind: "push", pushAnswer: "reject" }],
    });
    const [totp, sms, push, rejecting] = seeded.devices;
    const start = async () => {
      const body = await json(await stack.transport(new Request(`${stack.cerberus}/v2/auth/user`, { headers: basic("mfa@local.test", "pw") })));
      assert.equal(body["status"], "mfa_req");
      return body["data"];
    };
    const check = (payload: Json) =>
      stack.transport(new Request(`${stack.cerberus}/v2/auth/mfa_check`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload) }));
    const data = await start();
    assert.deepEqual(
      data["devices"].map((dev: Json) => [dev["name"], dev["requires_trigger"], dev["is_push"]]),
      [["Google Authenticator", false, false], ["Okta Text Message Code", true, false], ["Okta Verify Push", true, true], ["Okta Verify Push", true, true]],
    );
    const wrong = await check({ state_token: data["state_token"], device_id: totp?.id, otp_token: "000000" });
    assert.deepEqual(codes(await json(wrong)), [99243]);
    const right = await json(await check({ state_token: data["state_token"], device_id: totp?.id, otp_token: "654321" }));
    assert.equal(right["status"], "success");
    assert.equal(typeof right["data"]["client_token"]["client_token"], "string");

    const second = await start();
    const early = await check({ state_token: second["state_token"], device_id: sms?.id, otp_token: "111222" });
    assert.deepEqual(codes(await json(early)), [99243], "a code before the trigger is refused");
    const challenge = await json(await check({ state_token: second["state_token"], device_id: sms?.id }));
    assert.equal(challenge["status"], "mfa_challenge");
    const viaSms = await json(await check({ state_token: second["state_token"], device_id: sms?.id, otp_token: "111222" }));
    assert.equal(viaSms["status"], "success");

    const third = await start();
    assert.equal((await json(await check({ state_token: third["state_token"], device_id: push?.id })))["status"], "success");
    const fourth = await start();
    assert.deepEqual(codes(await json(await check({ state_token: fourth["state_token"], device_id: rejecting?.id, is_push: true }))), [99249]);
  });

  it("refreshes user tokens up to the limit, revoking the old ones", async () => {
    const stack = memoryStack({ cerberus: { maxRefreshCount: 2 } });
    let token = await userToken(stack);
    for (let i = 1; i <= 2; i++) {
      const response = await cerberus(stack, "/v2/auth/user/refresh", token);
      const body = await json(response);
      assert.equal(body["status"], "success");
      assert.equal(body["data"]["client_token"]["metadata"]["refresh_count"], String(i));
      assert.equal((await cerberus(stack, "/v2/safe-deposit-box", token)).status, 401, "the refreshed token is revoked");
      token = body["data"]["client_token"]["client_token"];
    }
    const limit = await cerberus(stack, "/v2/auth/user/refresh", token);
    assert.equal(limit.status, 403);
    assert.deepEqual(codes(await json(limit)), [99230]);
  });

  it("refuses to refresh IAM tokens", async () => {
    const stack = memoryStack();
    const creds = stack.seed.roleCredentials(stack.defaults.roles.app.arn);
    const iamToken = (await json(await stsLogin(stack, await stsIdentityHeaders(creds))))["client_token"];
    const response = await cerberus(stack, "/v2/auth/user/refresh", iamToken);
    assert.equal(response.status, 403);
    assert.deepEqual(codes(await json(response)), [99231]);
  });

  it("revokes tokens on logout and expires them after their lease", async () => {
    const stack = memoryStack();
    const token = await userToken(stack);
    const legacy = await stack.transport(new Request(`${stack.cerberus}/v1/secret/app/demo/config`, { headers: { "x-vault-token": token } }));
    assert.equal(legacy.status, 200);
    assert.equal((await cerberus(stack, "/v1/auth", token, { method: "DELETE" })).status, 204);
    const after = await cerberus(stack, "/v1/secret/app/demo/config", token);
    assert.equal(after.status, 401);
    assert.deepEqual(codes(await json(after)), [99105]);

    const second = await userToken(stack);
    stack.clock.advance(3_599_000);
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/config", second)).status, 200);
    stack.clock.advance(2_000);
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secret/app/demo/config", second))), [99105]);
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secret/app/demo/config", undefined))), [99105]);
  });
});

describe("secrets", () => {
  const stack = memoryStack();
  const d = stack.defaults;

  async function appToken(): Promise<string> {
    const creds = stack.seed.roleCredentials(d.roles.app.arn);
    return (await json(await stsLogin(stack, await stsIdentityHeaders(creds))))["client_token"];
  }

  const write = (token: string, path: string, data: unknown, method = "POST") =>
    cerberus(stack, `/v1/secret/${path}`, token, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(data) });

  it("enforces the SDB roles of IAM principals", async () => {
    const token = await appToken();
    assert.equal((await cerberus(stack, `/v1/secret/${d.secretPath}`, token)).status, 200);
    const denied = await write(token, d.secretPath, { a: "b" });
    assert.equal(denied.status, 403);
    assert.deepEqual(codes(await json(denied)), [99994]);
    stack.seed.sdb({ name: "other", iamPrincipals: {} });
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secret/app/other/x", token))), [99994]);
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secret/app/missing/x", token))), [99994]);
  });

  it("enforces the SDB roles of user groups", async () => {
    const local = memoryStack();
    local.seed.user({ username: "reader@local.test", password: "pw", groups: ["readers"] });
    local.seed.user({ username: "writer@local.test", password: "pw", groups: ["writers"] });
    local.seed.sdb({ name: "team", owner: "team-owners", userGroups: { readers: "read", writers: "write" }, secrets: { s: { k: "v" } } });
    const reader = await userToken(local, "reader@local.test", "pw");
    const writer = await userToken(local, "writer@local.test", "pw");
    const put = (token: string) =>
      cerberus(local, "/v1/secret/app/team/s", token, { method: "POST", body: JSON.stringify({ k: "w" }) });
    assert.equal((await cerberus(local, "/v1/secret/app/team/s", reader)).status, 200);
    assert.equal((await put(reader)).status, 403);
    assert.equal((await put(writer)).status, 204);
    assert.equal((await cerberus(local, "/v1/secret/app/demo/config", reader)).status, 403);
  });

  it("replaces every key on write, lists folders, and answers 404 with an empty body", async () => {
    const token = await userToken(stack);
    assert.equal((await write(token, "app/demo/svc/db", { user: "a", password: "b" })).status, 204);
    assert.equal((await write(token, "app/demo/svc/db", { user: "c" }, "PUT")).status, 204);
    assert.deepEqual((await json(await cerberus(stack, "/v1/secret/app/demo/svc/db", token)))["data"], { user: "c" });
    await write(token, "app/demo/svc/deep/x", { k: "v" });
    const list = await json(await cerberus(stack, "/v1/secret/app/demo/svc/?list=true", token));
    assert.deepEqual(list["data"]["keys"], ["db", "deep/"]);
    const root = await json(await cerberus(stack, "/v1/secret/app/demo?list=true", token));
    assert.deepEqual(root["data"]["keys"], ["config", "svc/"]);
    const empty = await cerberus(stack, "/v1/secret/app/demo/nothing/?list=true", token);
    assert.equal(empty.status, 404);
    assert.equal(await empty.text(), "");
    const missing = await cerberus(stack, "/v1/secret/app/demo/nope", token);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), "");
    const notObject = await cerberus(stack, "/v1/secret/app/demo/svc/db", token, { method: "POST", body: "[1,2]" });
    assert.deepEqual(codes(await json(notObject)), [99001]);
  });

  it("keeps versions: listing, reading an old one, and the SDB's version paths", async () => {
    const token = await userToken(stack);
    await write(token, "app/demo/versioned", { n: "1" });
    await write(token, "app/demo/versioned", { n: "2" });
    const versions = await json(await cerberus(stack, "/v1/secret-versions/app/demo/versioned?limit=10&offset=0", token));
    assert.equal(versions["total_version_count"], 2);
    assert.equal(versions["has_next"], false);
    const [current, previous] = versions["secure_data_version_summaries"];
    assert.equal(current["id"], "CURRENT");
    assert.equal(current["action"], "UPDATE");
    assert.equal(previous["action"], "UPDATE");
    assert.equal(previous["type"], "OBJECT");
    assert.equal(previous["path"], "app/demo/versioned");
    assert.equal(previous["sdbox_id"], d.sdb.id);
    const old = await json(await cerberus(stack, `/v1/secret/app/demo/versioned?versionId=${previous["id"]}`, token));
    assert.deepEqual(old["data"], { n: "1" });
    assert.equal(old["metadata"]["version_id"], previous["id"]);
    assert.equal(old["metadata"]["action"], "UPDATE");
    const paged = await json(await cerberus(stack, "/v1/secret-versions/app/demo/versioned?limit=1", token));
    assert.equal(paged["has_next"], true);
    assert.equal(paged["next_offset"], 1);
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secret-versions/app/demo/versioned?limit=x", token))), [99224]);
    const paths = await json(await cerberus(stack, `/v1/sdb-secret-version-paths/${d.sdb.id}`, token));
    assert.ok((paths as unknown as string[]).includes("app/demo/versioned"));
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/versioned", token, { method: "DELETE" })).status, 204);
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/versioned", token)).status, 404);
    const afterDelete = await json(await cerberus(stack, "/v1/secret-versions/app/demo/versioned", token));
    assert.equal(afterDelete["secure_data_version_summaries"][0]["action"], "DELETE");
  });

  it("stores files: multipart upload, raw read, HEAD, listing, type clash and delete", async () => {
    const token = await userToken(stack);
    const form = new FormData();
    form.append("file-content", new Blob(["-----BEGIN CERTIFICATE-----\n"]), "ignored-name.pem");
    const upload = await cerberus(stack, "/v1/secure-file/app/demo/certs/server.pem", token, { method: "POST", body: form });
    assert.equal(upload.status, 204);
    const read = await cerberus(stack, "/v1/secure-file/app/demo/certs/server.pem", token);
    assert.equal(read.headers.get("content-disposition"), 'attachment; filename="server.pem"');
    assert.equal(await read.text(), "-----BEGIN CERTIFICATE-----\n");
    const head = await cerberus(stack, "/v1/secure-file/app/demo/certs/server.pem", token, { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), "28");
    const listing = await json(await cerberus(stack, "/v1/secure-files/app/demo/", token));
    assert.equal(listing["total_file_count"], 1);
    assert.deepEqual(Object.keys(listing["secure_file_summaries"][0]).sort(), [
      "created_by", "created_ts", "last_updated_by", "last_updated_ts", "name", "path", "sdbox_id", "size_in_bytes",
    ]);
    assert.equal(listing["secure_file_summaries"][0]["path"], "app/demo/certs/server.pem");
    const clash = await write(token, "app/demo/certs/server.pem", { a: "b" });
    assert.deepEqual(codes(await json(clash)), [99235]);
    const noPart = new FormData();
    noPart.append("other", "x");
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secure-file/app/demo/f", token, { method: "POST", body: noPart }))), [99999]);
    assert.equal((await cerberus(stack, "/v1/secure-file/app/demo/certs/server.pem", token, { method: "DELETE" })).status, 204);
    const gone = await cerberus(stack, "/v1/secure-file/app/demo/certs/server.pem", token);
    assert.equal(gone.status, 404);
    assert.deepEqual(codes(await json(gone)), [99996]);
  });
});

describe("SDB, category and role endpoints", () => {
  it("creates, reads, updates and deletes SDBs with permissions enforced", async () => {
    const stack = memoryStack();
    const token = await userToken(stack);
    const categories = (await json(await cerberus(stack, "/v1/category", token))) as unknown as Json[];
    assert.deepEqual(categories.map((c) => c["path"]).sort(), ["app", "shared"]);
    const roles = (await json(await cerberus(stack, "/v1/role", token))) as unknown as Json[];
    const roleId = (name: string) => roles.find((r) => r["name"] === name)?.["id"];
    assert.deepEqual(roles.map((r) => r["name"]).sort(), ["owner", "read", "write"]);
    const app = categories.find((c) => c["path"] === "app")?.["id"];
    const created = await cerberus(stack, "/v2/safe-deposit-box", token, {
      method: "POST",
      body: JSON.stringify({ name: "Payments API", category_id: app, owner: "demo-owners", iam_principal_permissions: [] }),
    });
    assert.equal(created.status, 201);
    const sdb = await json(created);
    assert.equal(sdb["path"], "app/payments-api/");
    assert.equal(created.headers.get("location"), `/v2/safe-deposit-box/${sdb["id"]}`);
    const duplicate = await cerberus(stack, "/v2/safe-deposit-box", token, {
      method: "POST",
      body: JSON.stringify({ name: "payments api", category_id: app, owner: "demo-owners" }),
    });
    assert.deepEqual(codes(await json(duplicate)), [99210]);

    const creds = stack.seed.roleCredentials(stack.defaults.roles.app.arn);
    const iamToken = (await json(await stsLogin(stack, await stsIdentityHeaders(creds))))["client_token"];
    assert.equal((await cerberus(stack, `/v2/safe-deposit-box/${sdb["id"]}`, iamToken)).status, 403);
    const updated = await cerberus(stack, `/v2/safe-deposit-box/${sdb["id"]}`, token, {
      method: "PUT",
      body: JSON.stringify({
        owner: "demo-owners",
        description: "now shared with the app",
        iam_principal_permissions: [{ iam_principal_arn: stack.defaults.roles.app.arn, role_id: roleId("write") }],
      }),
    });
    assert.equal(updated.status, 200);
    assert.equal((await json(updated))["iam_principal_permissions"][0]["role_id"], roleId("write"));
    const iamWrite = await cerberus(stack, "/v1/secret/app/payments-api/key", iamToken, { method: "POST", body: JSON.stringify({ k: "v" }) });
    assert.equal(iamWrite.status, 204);
    const visible = (await json(await cerberus(stack, "/v2/safe-deposit-box", iamToken))) as unknown as Json[];
    assert.deepEqual(visible.map((s) => s["path"]).sort(), ["app/demo/", "app/payments-api/"]);
    assert.equal((await cerberus(stack, `/v2/safe-deposit-box/${sdb["id"]}`, iamToken, { method: "DELETE" })).status, 403);
    assert.equal((await cerberus(stack, `/v2/safe-deposit-box/${sdb["id"]}`, token, { method: "DELETE" })).status, 200);
    assert.equal((await cerberus(stack, `/v2/safe-deposit-box/${sdb["id"]}`, token)).status, 404);
  });

  it("answers unknown routes and methods with Cerberus errors", async () => {
    const stack = memoryStack();
    const unknown = await cerberus(stack, "/v9/nothing", undefined);
    assert.equal(unknown.status, 404);
    assert.deepEqual(codes(await json(unknown)), [99996]);
    assert.equal((await cerberus(stack, "/healthcheck", undefined, { method: "DELETE" })).status, 405);
  });
});

describe("instance metadata", () => {
  it("requires the TTL header for a token and refuses forwarded requests", async () => {
    const stack = memoryStack();
    const put = (headers: Record<string, string>) =>
      stack.transport(new Request(`${stack.imds}/latest/api/token`, { method: "PUT", headers }));
    assert.equal((await put({})).status, 400);
    assert.equal((await put({ "x-aws-ec2-metadata-token-ttl-seconds": "0" })).status, 400);
    assert.equal((await put({ "x-aws-ec2-metadata-token-ttl-seconds": "21601" })).status, 400);
    assert.equal((await put({ "x-aws-ec2-metadata-token-ttl-seconds": "60", "x-forwarded-for": "10.0.0.1" })).status, 403);
    const ok = await put({ "x-aws-ec2-metadata-token-ttl-seconds": "60" });
    assert.equal(ok.headers.get("x-aws-ec2-metadata-token-ttl-seconds"), "60");
    assert.equal((await stack.transport(new Request(`${stack.imds}/latest/api/token`))).status, 405);
  });

  it("expires tokens and switches IMDSv1 on and off", async () => {
    const stack = memoryStack();
    const token = await imdsToken(stack, "60");
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region", token)).status, 200);
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region")).status, 200, "v1 is enabled by default");
    stack.seed.instance({ v1Enabled: false });
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region")).status, 401);
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region", "forged")).status, 401);
    stack.clock.advance(61_000);
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region", token)).status, 401);
  });

  it("serves the identity document, profile, role listing and credentials", async () => {
    const stack = memoryStack();
    const token = await imdsToken(stack);
    assert.equal(await (await imdsGet(stack, "/latest/meta-data/placement/region", token)).text(), "us-west-2");
    assert.equal(await (await imdsGet(stack, "/latest/meta-data/instance-id", token)).text(), "i-0123456789abcdef0");
    const creds = await json(await imdsGet(stack, "/latest/meta-data/iam/security-credentials/app-role", token));
    assert.deepEqual(Object.keys(creds), ["Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"]);
    assert.equal(creds["Code"], "Success");
    assert.match(creds["Expiration"], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const notFound = await imdsGet(stack, "/latest/meta-data/iam/security-credentials/nope", token);
    assert.equal(notFound.status, 404);
    assert.match(notFound.headers.get("content-type") ?? "", /html/);
    stack.seed.instance({ roles: ["a-role", "b-role", "c-role"], profilePath: "ops/eu/", profileName: "x" });
    assert.equal(await (await imdsGet(stack, "/latest/meta-data/iam/security-credentials/", token)).text(), "a-role\nb-role\nc-role");
    const info = await json(await imdsGet(stack, "/latest/meta-data/iam/info", token));
    assert.equal(info["InstanceProfileArn"], "arn:aws:iam::111122223333:instance-profile/ops/eu/x");
    stack.seed.instance({ roles: [] });
    assert.equal((await imdsGet(stack, "/latest/meta-data/iam/info", token)).status, 404);
  });
});

describe("container credentials endpoint", () => {
  it("checks the Authorization token", async () => {
    const stack = memoryStack();
    const container = stack.defaults.container;
    assert.equal(container.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], container.fullUri);
    const get = (headers: Record<string, string>, url = container.fullUri) => stack.transport(new Request(url, { headers }));
    const ok = await get({ authorization: container.authorizationToken ?? "" });
    assert.equal(ok.status, 200);
    const body = await json(ok);
    assert.equal(body["RoleArn"], stack.defaults.roles.app.arn);
    assert.match(body["AccessKeyId"], /^ASIA/);
    assert.equal((await get({})).status, 401);
    assert.equal((await get({ authorization: "wrong" })).status, 403);
    assert.equal((await get({}, `${stack.ecs}/v2/credentials/unknown`)).status, 400);
    const open = stack.seed.container(stack.defaults.roles.app.arn, { requireAuthorization: false });
    assert.equal((await get({}, open.fullUri)).status, 200);
  });
});

describe("fault injection", () => {
  it("adds latency and answers the next N requests with a status", async () => {
    const stack = memoryStack();
    stack.faults.inject("cerberus", { kind: "latency", ms: 40 });
    const started = Date.now();
    assert.equal((await cerberus(stack, "/healthcheck", undefined)).status, 200);
    assert.ok(Date.now() - started >= 35);
    const handle = stack.faults.inject("cerberus", { kind: "status", status: 503 }, { times: 2 });
    const first = await cerberus(stack, "/healthcheck", undefined);
    assert.equal(first.status, 503);
    assert.deepEqual(codes(await json(first)), [99997]);
    assert.equal(handle.remaining, 1);
    assert.equal((await cerberus(stack, "/healthcheck", undefined)).status, 503);
    assert.equal((await cerberus(stack, "/healthcheck", undefined)).status, 200);
    assert.equal(handle.hits, 2);
    assert.equal(stack.faults.count(), 0);
  });

  it("injects KMS error types, Cerberus codes and throttling", async () => {
    const stack = memoryStack();
    const app = stack.seed.roleCredentials(stack.defaults.roles.app.arn);
    const blob = (await json(await kmsAuthData(stack, stack.defaults.roles.app.arn)))["auth_data"];
    stack.faults.inject("kms", { kind: "kms-error", type: "KMSInternalException" });
    const internal = await kms(stack, app, "Decrypt", { CiphertextBlob: blob });
    assert.equal(internal.status, 500);
    assert.equal((await json(internal))["__type"], "KMSInternalException");
    stack.faults.inject("kms", { kind: "throttle" });
    const throttled = await kms(stack, app, "Decrypt", { CiphertextBlob: blob });
    assert.equal(throttled.status, 400);
    assert.equal((await json(throttled))["__type"], "ThrottlingException");
    assert.ok(throttled.headers.get("date"));
    stack.faults.inject("cerberus", { kind: "cerberus-error", code: 99216 }, { path: "/v2/auth/iam-principal" });
    assert.deepEqual(codes(await json(await kmsAuthData(stack, stack.defaults.roles.app.arn))), [99216]);
    stack.faults.inject("cerberus", { kind: "throttle" });
    const limited = await cerberus(stack, "/healthcheck", undefined);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "1");
  });

  it("scopes faults to a path and a method", async () => {
    const stack = memoryStack();
    const handle = stack.faults.inject("cerberus", { kind: "status", status: 500 }, { path: "/v1/secret/", method: "GET", times: Infinity });
    const token = await userToken(stack);
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/config", token)).status, 500);
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/config", token, { method: "POST", body: "{}" })).status, 204);
    stack.faults.inject("imds", { kind: "status", status: 404 }, { path: /^\/latest\/meta-data\/iam\// });
    assert.equal((await imdsGet(stack, "/latest/meta-data/placement/region")).status, 200);
    assert.equal((await imdsGet(stack, "/latest/meta-data/iam/info")).status, 404);
    handle.remove();
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/config", token)).status, 200);
    stack.faults.inject("kms", { kind: "reset" }, { times: Infinity });
    stack.faults.clear("kms");
    assert.equal(stack.faults.count("kms"), 0);
  });

  it("resets connections like fetch does, skews the Date header, and serves WAF pages", async () => {
    const stack = memoryStack();
    stack.faults.inject("imds", { kind: "reset" });
    const error = await stack.transport(new Request(`${stack.imds}/latest/meta-data/`)).then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TypeError);
    assert.ok(error instanceof ConnectionResetError);
    assert.equal((error.cause as { code?: string }).code, "ECONNRESET");
    stack.faults.inject("cerberus", { kind: "date", offsetMs: -3_600_000 });
    const dated = await cerberus(stack, "/healthcheck", undefined);
    assert.ok(Math.abs(Date.parse(dated.headers.get("date") ?? "") - (Date.now() - 3_600_000)) < 5_000);
    stack.faults.inject("cerberus", { kind: "waf" });
    const waf = await cerberus(stack, "/healthcheck", undefined);
    assert.equal(waf.status, 403);
    assert.match(waf.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await waf.text(), /<h1>403 Forbidden<\/h1>/);
  });

  it("redirects to another origin, which a fetch-like transport follows without the Authorization header", async () => {
    const stack = memoryStack();
    stack.faults.inject("cerberus", { kind: "redirect" });
    const manual = await stack.transport(new Request(`${stack.cerberus}/healthcheck`, { redirect: "manual" }));
    assert.equal(manual.status, 307);
    assert.equal(manual.headers.get("location"), "http://localhost/healthcheck");
    stack.faults.inject("cerberus", { kind: "redirect" });
    await assert.rejects(stack.transport(new Request(`${stack.cerberus}/healthcheck`)), TypeError);

    stack.faults.inject("cerberus", { kind: "redirect", location: `${stack.ecs}${stack.defaults.container.relativeUri}` });
    const followed = await stack.transport(
      new Request(`${stack.cerberus}/healthcheck`, { headers: { authorization: stack.defaults.container.authorizationToken ?? "" } }),
    );
    assert.equal(followed.status, 401, "Authorization is dropped on a cross-origin redirect");
    assert.equal(followed.redirected, true);
    assert.equal(followed.url, stack.defaults.container.fullUri);
  });

  it("cancels latency when the caller aborts", async () => {
    const stack = memoryStack();
    stack.faults.inject("cerberus", { kind: "latency", ms: 5_000 });
    const controller = new AbortController();
    const pending = stack.transport(new Request(`${stack.cerberus}/healthcheck`, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(pending, (e: unknown) => (e as { name?: string }).name === "AbortError");
  });

  it("rejects requests to unknown origins like fetch does", async () => {
    const stack = memoryStack();
    await assert.rejects(stack.transport(new Request("https://kms.us-west-2.amazonaws.com/")), TypeError);
    const routed = memoryStack({ routeAwsHostnames: true });
    const response = await routed.transport(new Request("https://kms.us-west-2.amazonaws.com/", { method: "POST", body: "{}" }));
    assert.equal((await json(response))["__type"], "MissingAuthenticationTokenException");
  });
});

describe("request log", () => {
  it("records method, path, status and client header without query strings", async () => {
    const stack = memoryStack();
    await stack.transport(new Request(`${stack.cerberus}/v1/secret/app/demo/config?list=true`, { headers: { "x-cerberus-client": "test/1.0" } }));
    const [entry] = stack.requests.entries("cerberus");
    assert.deepEqual(
      { method: entry?.method, path: entry?.path, status: entry?.status, client: entry?.client },
      { method: "GET", path: "/v1/secret/app/demo/config", status: 401, client: "test/1.0" },
    );
    stack.requests.clear();
    assert.equal(stack.requests.entries().length, 0);
  });
});
