import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { serviceEndpoint } from "../src/aws/endpoints.ts";
import { amzDate, kmsDecrypt, parseKmsError, type KmsDecryptOptions } from "../src/aws/kms.ts";
import { KmsError, PayloadError } from "../src/errors.ts";
import { FakeClock, settle } from "./helpers/fake-clock.ts";
import { FakeWorld, json } from "./helpers/fake-world.ts";
import { rejection } from "./helpers/setup.ts";

const enc = new TextEncoder();
const b64 = (text: string) => btoa(text);

function decryptSetup(region = "us-west-2") {
  const world = new FakeWorld();
  const clock = new FakeClock();
  const blob = b64(JSON.stringify({ k: "AKIAKMSTEST000000", r: region, p: b64("hello") }));
  const options: KmsDecryptOptions = {
    ciphertext: blob,
    region,
    endpoint: serviceEndpoint("kms", region, undefined, () => undefined),
    credentials: { accessKeyId: "AKIAKMSTEST000000", secretAccessKey: "kms-secret-key" },
    transport: world.transport,
    clock,
  };
  return { world, clock, options };
}

describe("KMS Decrypt, one raw signed call", () => {
  test("signs a JSON 1.1 request for the region and returns the plaintext", async () => {
    const { world, options } = decryptSetup();
    const result = await kmsDecrypt(options);
    assert.equal(new TextDecoder().decode(result.plaintext), "hello");
    assert.equal(result.keyId, "arn:aws:kms:us-west-2:999999999999:key/k1");
    const req = world.seen[0]!;
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/");
    assert.deepEqual(JSON.parse(req.body), { CiphertextBlob: options.ciphertext });
    assert.equal(req.headers.get("x-amz-date"), amzDate(options.clock.now()));
    assert.match(req.headers.get("authorization")!, /^AWS4-HMAC-SHA256 Credential=AKIAKMSTEST000000\/20261129\/us-west-2\/kms\/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    assert.equal(world.seen.length, 1);
  });

  test("error types lose their namespace and keep the status", () => {
    const e = parseKmsError(400, enc.encode(JSON.stringify({ __type: "com.amazonaws.kms#AccessDeniedException", Message: "User is not authorized" })));
    assert.equal(e.awsType, "AccessDeniedException");
    assert.equal(e.status, 400);
    assert.equal(e.retryable, false);
    assert.match(e.message, /User is not authorized/);
    const t = parseKmsError(400, enc.encode(JSON.stringify({ __type: "ThrottlingException" })));
    assert.equal(t.retryable, true);
    const html = parseKmsError(502, enc.encode("<html>bad gateway</html>"));
    assert.equal(html.awsType, "UnknownError");
    assert.equal(html.retryable, true);
  });

  test("refuses a ciphertext that is not base64 before sending", async () => {
    const { world, options } = decryptSetup();
    const error = await rejection(kmsDecrypt({ ...options, ciphertext: "not base64!" }));
    assert.ok(error instanceof PayloadError);
    assert.equal(world.seen.length, 0);
  });

  test("a non-retryable error is thrown at once with its type", async () => {
    const { world, options } = decryptSetup();
    world.override("kms:us-west-2", json(400, { __type: "InvalidCiphertextException", message: "bad blob" }));
    const error = await rejection(kmsDecrypt(options));
    assert.ok(error instanceof KmsError);
    assert.equal(error.awsType, "InvalidCiphertextException");
    assert.equal(world.seen.length, 1);
  });

  test("throttling and 5xx are retried with back-off on the injected clock", async () => {
    const { world, clock, options } = decryptSetup();
    world.override("kms:us-west-2", json(400, { __type: "ThrottlingException" }), json(500, { __type: "KMSInternalException" }));
    const result = await settle(kmsDecrypt(options), clock);
    assert.equal(new TextDecoder().decode(result.plaintext), "hello");
    assert.equal(world.seen.length, 3);
  });

  test("gives up after maxAttempts", async () => {
    const { world, clock, options } = decryptSetup();
    world.override("kms:us-west-2", "reset", "reset", "reset");
    const error = await settle(rejection(kmsDecrypt(options)), clock);
    assert.equal((error as { code?: string }).code, "TRANSPORT_ERROR");
    assert.match((error as Error).message, /kms\.us-west-2\.amazonaws\.com failed: ECONNRESET/);
    assert.equal(world.seen.length, 3);
  });

  test("corrects clock skew from the Date header and signs again once", async () => {
    const { world, clock, options } = decryptSetup();
    const awsNow = clock.now() + 20 * 60_000;
    world.override("kms:us-west-2", json(400, { __type: "InvalidSignatureException", message: "Signature expired" }, { date: new Date(awsNow).toUTCString() }));
    const skew = { offsetMs: 0 };
    await kmsDecrypt({ ...options, skew });
    assert.ok(Math.abs(skew.offsetMs - 20 * 60_000) < 1000);
    assert.equal(world.seen[1]!.headers.get("x-amz-date"), amzDate(clock.now() + skew.offsetMs));
  });

  test("the secret key never appears in a request or an error", async () => {
    const { world, options } = decryptSetup();
    world.override("kms:us-west-2", json(400, { __type: "AccessDeniedException" }));
    const error = await rejection(kmsDecrypt(options));
    assert.ok(!JSON.stringify(world.seen.map((s) => [...s.headers])).includes("kms-secret-key"));
    assert.ok(!String((error as Error).message).includes("kms-secret-key"));
  });
});

describe("KMS endpoints", () => {
  const none = () => undefined;
  test("by region and partition", () => {
    assert.equal(serviceEndpoint("kms", "us-west-2", undefined, none).href, "https://kms.us-west-2.amazonaws.com/");
    assert.equal(serviceEndpoint("kms", "cn-north-1", undefined, none).href, "https://kms.cn-north-1.amazonaws.com.cn/");
    assert.equal(serviceEndpoint("kms", "us-gov-west-1", undefined, none).href, "https://kms.us-gov-west-1.amazonaws.com/");
  });

  test("AWS_ENDPOINT_URL_KMS, then AWS_ENDPOINT_URL, then an explicit option wins over both", () => {
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    assert.equal(serviceEndpoint("kms", "us-west-2", undefined, env({ AWS_ENDPOINT_URL: "http://127.0.0.1:1/", AWS_ENDPOINT_URL_KMS: "http://127.0.0.1:2/" })).port, "2");
    assert.equal(serviceEndpoint("kms", "us-west-2", undefined, env({ AWS_ENDPOINT_URL: "http://127.0.0.1:1/" })).port, "1");
    assert.equal(serviceEndpoint("kms", "us-west-2", "http://127.0.0.1:3/", env({ AWS_ENDPOINT_URL_KMS: "http://127.0.0.1:2/" })).port, "3");
    assert.throws(() => serviceEndpoint("kms", "us-west-2", "ftp://x", none), /ftp: is not http: or https:/);
    assert.throws(() => serviceEndpoint("kms", "us-west-2", "::", none), /is not a URL/);
  });
});
