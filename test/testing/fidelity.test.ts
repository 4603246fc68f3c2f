/**
 * Fidelity of the local stack, proven by clients nobody here wrote: the official
 * `cerberus-node-client@4.0.0` (STS auth, secrets, files), `@aws-sdk/client-kms` (Decrypt,
 * errors, clock-skew correction) and `@aws-sdk/credential-provider-imds` (IMDSv2, v1 fallback)
 * against the stack served on 127.0.0.1.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { DecryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { fromInstanceMetadata } from "@aws-sdk/credential-provider-imds";
import CerberusClient from "cerberus-node-client";
import { type AwsCredentials, type LocalStack, startLocalStack } from "../../src/testing/mod.ts";

const REGION = "us-west-2";

/** Variables that steer the AWS credential chain and the Cerberus client; saved and restored around each suite. */
const STEERING_ENV = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_ARN",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_EC2_METADATA_V1_DISABLED",
  "CERBERUS_TOKEN",
];

function isolateEnv(): () => void {
  const saved = new Map(STEERING_ENV.map((name) => [name, process.env[name]]));
  for (const name of STEERING_ENV) delete process.env[name];
  process.env["AWS_CONFIG_FILE"] = "/nonexistent/cerberus-edge/aws-config";
  process.env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/cerberus-edge/aws-credentials";
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

function useCredentials(creds: AwsCredentials): void {
  process.env["AWS_ACCESS_KEY_ID"] = creds.accessKeyId;
  process.env["AWS_SECRET_ACCESS_KEY"] = creds.secretAccessKey;
  if (creds.sessionToken === undefined) delete process.env["AWS_SESSION_TOKEN"];
  else process.env["AWS_SESSION_TOKEN"] = creds.sessionToken;
}

function defaultsOf(stack: LocalStack): NonNullable<LocalStack["defaults"]> {
  assert.ok(stack.defaults);
  return stack.defaults;
}

function b64decode(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function authData(stack: LocalStack, arn: string): Promise<string> {
  const response = await fetch(`${stack.cerberus}/v2/auth/iam-principal`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ iam_principal_arn: arn, region: REGION }),
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { auth_data: string }).auth_data;
}

function kmsClient(stack: LocalStack, creds: AwsCredentials): KMSClient {
  return new KMSClient({
    region: REGION,
    endpoint: stack.kms,
    credentials: {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
    },
    maxAttempts: 3,
  });
}

describe("cerberus-node-client@4.0.0 against the served stack", () => {
  let stack: LocalStack;
  let restoreEnv: () => void;
  before(async () => {
    restoreEnv = isolateEnv();
    stack = await startLocalStack();
    const d = defaultsOf(stack);
    stack.seed.sdb({ name: "fidelity", owner: "fidelity-owners", iamPrincipals: { [d.roles.app.arn]: "owner" } });
    useCredentials(stack.seed.roleCredentials(d.roles.app.arn, { sessionName: "node-client" }));
  });
  after(async () => {
    await stack?.close();
    restoreEnv();
  });

  it("authenticates with STS auth and reads the seeded secret", async () => {
    const d = defaultsOf(stack);
    const client = new CerberusClient({ hostUrl: stack.cerberus, region: REGION });
    const secret = (await client.getSecureData(d.secretPath)) as Record<string, string>;
    assert.equal(secret["greeting"], "hello from the local stack");
    const auth = stack.requests.entries("cerberus").find((e) => e.path === "/v2/auth/sts-identity");
    assert.equal(auth?.status, 200);
    assert.equal(auth?.client, "CerberusNodeClient/4.0.0");
    const replay = stack.requests.entries("sts").at(-1);
    assert.equal(replay?.status, 200, "Cerberus replayed the client's signature to STS");
  });

  it("writes, lists and deletes secrets", async () => {
    const client = new CerberusClient({ hostUrl: stack.cerberus, region: REGION });
    await client.writeSecureData("app/fidelity/service/db", { user: "app", password: "s3cret" });
    await client.writeSecureData("app/fidelity/service/api", { key: "k" });
    await client.writeSecureData("app/fidelity/top", { a: "b" });
    assert.deepEqual(await client.getSecureData("app/fidelity/service/db"), { user: "app", password: "s3cret" });
    assert.deepEqual(await client.listPathsForSecureData("app/fidelity/"), { keys: ["service/", "top"] });
    assert.deepEqual(await client.listPathsForSecureData("app/fidelity/service/"), { keys: ["api", "db"] });
    assert.deepEqual(
      await client.listPathsForSecureData("app/fidelity/nothing/"),
      { keys: [] },
      "404 on a partial path is an empty list",
    );
    await client.writeSecureData("app/fidelity/top", { c: "d" });
    assert.deepEqual(await client.getSecureData("app/fidelity/top"), { c: "d" }, "a write replaces every key");
    await client.deleteSecureData("app/fidelity/top");
    await assert.rejects(client.getSecureData("app/fidelity/top"), /status code: 404/);
  });

  it("uploads, lists, reads and deletes files", async () => {
    const client = new CerberusClient({ hostUrl: stack.cerberus, region: REGION });
    const content = new Uint8Array([0x2d, 0x2d, 0x2d, 0x00, 0xff, 0x0a, 0x41]);
    await client.writeFile("app/fidelity/certs/ca.pem", Buffer.from(content));
    const listing = await client.listFile("app/fidelity/");
    assert.equal(listing.total_file_count, 1);
    assert.equal(listing.secure_file_summaries[0]?.name, "ca.pem");
    assert.equal(listing.secure_file_summaries[0]?.path, "app/fidelity/certs/ca.pem");
    assert.equal(listing.secure_file_summaries[0]?.size_in_bytes, content.length);
    const read = await client.readFile("app/fidelity/certs/ca.pem");
    assert.deepEqual(new Uint8Array(read as Buffer), content);
    await client.deleteFile("app/fidelity/certs/ca.pem");
    await assert.rejects(client.readFile("app/fidelity/certs/ca.pem"), /status code: 404/);
    assert.equal((await client.listFile("app/fidelity/")).total_file_count, 0);
  });

  it("surfaces Cerberus's errors: permissions, unregistered principals, WAF pages", async () => {
    const d = defaultsOf(stack);
    const client = new CerberusClient({ hostUrl: stack.cerberus, region: REGION });
    await assert.rejects(client.writeSecureData(d.secretPath, { no: "way" }), /status code: 403[\s\S]*99994/);
    stack.faults.inject("cerberus", { kind: "waf" }, { path: "/v1/secure-file/" });
    await assert.rejects(client.readFile("app/demo/any.pem"), /blocked by the WAF[\s\S]*403 Forbidden/);

    useCredentials(stack.seed.roleCredentials(d.roles.unregistered.arn));
    try {
      const stranger = new CerberusClient({ hostUrl: stack.cerberus, region: REGION });
      await assert.rejects(stranger.getSecureData(d.secretPath), /99216/);
    } finally {
      useCredentials(stack.seed.roleCredentials(d.roles.app.arn));
    }
  });
});

describe("@aws-sdk/client-kms against the stack's KMS", () => {
  let stack: LocalStack;
  before(async () => {
    stack = await startLocalStack();
  });
  after(async () => {
    await stack?.close();
  });

  it("decrypts Cerberus's auth_data with the principal's credentials", async () => {
    const d = defaultsOf(stack);
    const client = kmsClient(stack, stack.seed.roleCredentials(d.roles.app.arn));
    try {
      const out = await client.send(
        new DecryptCommand({ CiphertextBlob: b64decode(await authData(stack, d.roles.app.arn)) }),
      );
      assert.match(out.KeyId ?? "", /^arn:aws:kms:us-west-2:999988887777:key\//);
      assert.equal(out.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
      const payload = JSON.parse(new TextDecoder().decode(out.Plaintext)) as {
        client_token: string;
        lease_duration: number;
      };
      assert.equal(payload.lease_duration, 3600);
      const secret = await fetch(`${stack.cerberus}/v1/secret/${d.secretPath}`, {
        headers: { "x-cerberus-token": payload.client_token },
      });
      assert.equal(secret.status, 200);
    } finally {
      client.destroy();
    }
  });

  it("maps the stack's error types to the SDK's exceptions", async () => {
    const d = defaultsOf(stack);
    const blob = b64decode(await authData(stack, d.roles.app.arn));
    const app = kmsClient(stack, stack.seed.roleCredentials(d.roles.app.arn));
    const other = kmsClient(stack, stack.seed.roleCredentials(d.roles.unregistered.arn));
    const forged = kmsClient(stack, { accessKeyId: "ASIAFORGEDFORGED0000", secretAccessKey: "x", sessionToken: "y" });
    try {
      await assert.rejects(other.send(new DecryptCommand({ CiphertextBlob: blob })), { name: "AccessDeniedException" });
      await assert.rejects(forged.send(new DecryptCommand({ CiphertextBlob: blob })), {
        name: "UnrecognizedClientException",
      });
      blob[blob.length - 2] = (blob[blob.length - 2] ?? 0) ^ 0xff;
      await assert.rejects(app.send(new DecryptCommand({ CiphertextBlob: blob })), {
        name: "InvalidCiphertextException",
      });
    } finally {
      app.destroy();
      other.destroy();
      forged.destroy();
    }
  });

  it("corrects its clock from the Date header when the server's clock is skewed", async () => {
    const d = defaultsOf(stack);
    const client = kmsClient(stack, stack.seed.roleCredentials(d.roles.app.arn, { ttlMs: 6 * 3_600_000 }));
    const blob = b64decode(await authData(stack, d.roles.app.arn));
    stack.clock.skew("kms", 20 * 60_000);
    stack.requests.clear();
    try {
      const out = await client.send(new DecryptCommand({ CiphertextBlob: blob }));
      assert.ok(out.Plaintext);
      assert.deepEqual(
        stack.requests.entries("kms").map((e) => e.status),
        [400, 200],
        "the first attempt is refused as skewed, the retry uses the corrected clock",
      );
    } finally {
      stack.clock.skew("kms", 0);
      client.destroy();
    }
  });
});

describe("@aws-sdk/credential-provider-imds against the stack's instance metadata", () => {
  let stack: LocalStack;
  let restoreEnv: () => void;
  before(async () => {
    restoreEnv = isolateEnv();
    stack = await startLocalStack();
    // A real instance profile holds one role; this provider reads the listing as one role name.
    stack.seed.instance({ roles: ["app-role"] });
    process.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = stack.imds;
  });
  after(async () => {
    await stack?.close();
    restoreEnv();
  });

  it("fetches role credentials over IMDSv2 that KMS accepts", async () => {
    stack.requests.clear();
    const creds = await fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })();
    assert.match(creds.accessKeyId, /^ASIA/);
    assert.ok(creds.sessionToken);
    assert.ok(creds.expiration && creds.expiration.getTime() > Date.now());
    assert.deepEqual(
      stack.requests.entries("imds").map((e) => `${e.method} ${e.path} ${e.status}`),
      [
        "PUT /latest/api/token 200",
        "GET /latest/meta-data/iam/security-credentials/ 200",
        "GET /latest/meta-data/iam/security-credentials/app-role 200",
      ],
    );
    const d = defaultsOf(stack);
    const client = kmsClient(stack, creds);
    try {
      const out = await client.send(
        new DecryptCommand({ CiphertextBlob: b64decode(await authData(stack, d.roles.app.arn)) }),
      );
      assert.ok(out.Plaintext);
    } finally {
      client.destroy();
    }
  });

  it("falls back to IMDSv1 when the token PUT is forbidden, and fails when v1 is disabled", async () => {
    stack.faults.inject("imds", { kind: "status", status: 403 }, { path: "/latest/api/token", times: Infinity });
    try {
      const creds = await fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })();
      assert.match(creds.accessKeyId, /^ASIA/);
      stack.seed.instance({ v1Enabled: false });
      await assert.rejects(fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })());
    } finally {
      stack.faults.clear("imds");
      stack.seed.instance({ v1Enabled: true });
    }
  });

  it("does not fall back on a 400 from the token PUT", async () => {
    stack.faults.inject("imds", { kind: "status", status: 400 }, { path: "/latest/api/token" });
    await assert.rejects(
      fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })(),
      /EC2 Metadata token request returned error/,
    );
  });
});
