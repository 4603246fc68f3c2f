/**
 * KMS auth as Cerberus and KMS answer it (the EC2 sequence, key provisioning, the payload,
 * truncation) and the emulated KMS's own checks: SigV4, skew, session expiry, key states,
 * encryption context.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  b64decode,
  cerberus,
  type CerberusError,
  codes,
  imdsGet,
  imdsToken,
  instanceCredentials,
  json,
  kms,
  type KmsAuthAnswer,
  kmsAuthData,
  type KmsError,
  type KmsResult,
  memoryStack,
  REGION,
  type SecretRead,
} from "./helpers.ts";

describe("KMS auth (the EC2 sequence)", () => {
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
        const result = await json<KmsResult>(decrypted);
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
    const secret = await json<SecretRead>(await cerberus(stack, `/v1/secret/${d.secretPath}`, clientToken));
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

    const wrongKey = await kms(stack, app, "Decrypt", {
      CiphertextBlob: auth,
      KeyId: "11111111-2222-3333-4444-555555555555",
    });
    assert.equal((await json(wrongKey))["__type"], "IncorrectKeyException");
  });

  it("creates one key per (principal, region)", async () => {
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    const west = await json<KmsResult>(
      await kms(stack, app, "Decrypt", {
        CiphertextBlob: (await json(await kmsAuthData(stack, d.roles.app.arn)))["auth_data"],
      }),
    );
    const eastAuth = (await json(await kmsAuthData(stack, d.roles.app.arn, "us-east-1")))["auth_data"];
    const east = await json<KmsResult>(
      await kms(stack, app, "Decrypt", { CiphertextBlob: eastAuth }, { region: "us-east-1" }),
    );
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
    const body = await json<CerberusError>(await kmsAuthData(stack, "arn:aws:iam::111122223333:role/nobody"));
    assert.equal(typeof body["error_id"], "string");
    assert.equal(body["errors"][0]!["code"], 99216);
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
    const plain = await json<KmsResult>(
      await kms(stack, app, "Decrypt", { CiphertextBlob: (await json(response))["auth_data"] }),
    );
    const payload = JSON.parse(new TextDecoder().decode(b64decode(plain["Plaintext"])));
    assert.equal(payload["metadata"]["aws_account_id"], "111122223333");
    assert.equal(payload["metadata"]["aws_iam_role_name"], "app-role");
    const bad = await stack.transport(
      new Request(`${stack.cerberus}/v1/auth/iam-role`, {
        method: "POST",
        body: JSON.stringify({ account_id: "12", role_name: "x", region: "us-west-2" }),
      }),
    );
    assert.deepEqual(codes(await json(bad)), [99102]);
  });

  it("truncates a payload over 4096 bytes to _truncated metadata and policies", async () => {
    const local = memoryStack();
    local.seed.tokenPolicies(
      local.defaults.roles.app.arn,
      Array.from({ length: 80 }, (_, i) => `policy-${i}-${"x".repeat(60)}`),
    );
    const auth = (await json(await kmsAuthData(local, local.defaults.roles.app.arn)))["auth_data"];
    const app = local.seed.roleCredentials(local.defaults.roles.app.arn);
    const plain = await json<KmsResult>(await kms(local, app, "Decrypt", { CiphertextBlob: auth }));
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
    return (await json<KmsAuthAnswer>(await kmsAuthData(stack, d.roles.app.arn)))["auth_data"];
  }

  it("rejects unknown keys, wrong secrets and missing session tokens", async () => {
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    const blob = await authData();
    const unknown = await kms(stack, { ...app, accessKeyId: "ASIAUNKNOWNUNKNOWN00" }, "Decrypt", {
      CiphertextBlob: blob,
    });
    assert.equal(unknown.status, 400);
    assert.equal((await json(unknown))["__type"], "UnrecognizedClientException");
    const wrongSecret = await kms(stack, { ...app, secretAccessKey: "wrong" }, "Decrypt", { CiphertextBlob: blob });
    assert.equal((await json(wrongSecret))["__type"], "InvalidSignatureException");
    const noToken = await kms(
      stack,
      { accessKeyId: app.accessKeyId, secretAccessKey: app.secretAccessKey },
      "Decrypt",
      { CiphertextBlob: blob },
    );
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
    const body = await json<KmsError>(old);
    assert.equal(body["__type"], "InvalidSignatureException");
    assert.match(
      body["message"],
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    );
    const future = await json<KmsError>(
      await kms(stack, app, "Decrypt", { CiphertextBlob: blob }, { at: now + 6 * 60_000 }),
    );
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
    const encrypted = await json(
      await kms(stack, admin, "Encrypt", { KeyId: keyId, Plaintext: btoa("hi"), EncryptionContext: { a: "1" } }),
    );
    assert.equal(encrypted["KeyId"], keyId);
    const mismatch = await kms(stack, app, "Decrypt", {
      CiphertextBlob: encrypted["CiphertextBlob"],
      EncryptionContext: { a: "2" },
    });
    assert.equal((await json(mismatch))["__type"], "InvalidCiphertextException");
    const matching = await json<KmsResult>(
      await kms(stack, app, "Decrypt", { CiphertextBlob: encrypted["CiphertextBlob"], EncryptionContext: { a: "1" } }),
    );
    assert.equal(atob(matching["Plaintext"]), "hi");
    const tooBig = await kms(stack, admin, "Encrypt", { KeyId: keyId, Plaintext: btoa("x".repeat(4097)) });
    assert.equal((await json(tooBig))["__type"], "ValidationException");
    const missing = await kms(stack, admin, "Encrypt", {
      KeyId: "00000000-0000-0000-0000-000000000000",
      Plaintext: btoa("hi"),
    });
    assert.equal((await json(missing))["__type"], "NotFoundException");
  });

  it("reports disabled and pending-deletion keys", async () => {
    const blob = await authData();
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    assert.ok(stack.seed.keyState(d.roles.app.arn, REGION, "Disabled"));
    assert.equal(
      (await json(await kms(stack, app, "Decrypt", { CiphertextBlob: blob })))["__type"],
      "DisabledException",
    );
    stack.seed.keyState(d.roles.app.arn, REGION, "PendingDeletion");
    assert.equal(
      (await json(await kms(stack, app, "Decrypt", { CiphertextBlob: blob })))["__type"],
      "KMSInvalidStateException",
    );
    const reissued = await authData();
    assert.equal(
      (await kms(stack, app, "Decrypt", { CiphertextBlob: reissued })).status,
      200,
      "Cerberus re-provisions an unusable key",
    );
  });

  it("refuses a signature scoped to another service or region than the host", async () => {
    const app = stack.seed.roleCredentials(d.roles.app.arn);
    const unknownRegion = await kms(stack, app, "Decrypt", { CiphertextBlob: await authData() }, {
      region: "mars-north-1",
    });
    assert.equal((await json(unknownRegion))["__type"], "InvalidSignatureException");
  });
});
