/**
 * src/aws/kms.ts (and src/aws/sigv4.ts) against the emulated KMS: one raw SigV4-signed
 * `TrentService.Decrypt`, retries, clock-skew correction, error answers.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AwsCredentials, sealCredentials } from "../../src/aws/credentials.ts";
import { serviceEndpoint } from "../../src/aws/endpoints.ts";
import { kmsDecrypt, type KmsDecryptInput, kmsError } from "../../src/aws/kms.ts";
import type { ClockSkew } from "../../src/aws/skew.ts";
import { amzDate, signPost } from "../../src/aws/sigv4.ts";
import { AbortedError, AwsError, CerberusEdgeError, PayloadError, TransportError } from "../../src/errors.ts";
import type { CerberusEvent } from "../../src/events.ts";
import { rejection, utf8 } from "../internal/_helpers.ts";
import { envOf, world } from "./_stack.ts";

const REGION = "us-west-2";

/** A stack, the app role's sealed credentials, and a real auth_data blob Cerberus encrypted for that role. */
async function setup() {
  const w = world();
  const app = w.stack.defaults.roles.app;
  const answer = await w.stack.transport(`${w.stack.cerberus}/v2/auth/iam-principal`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ iam_principal_arn: app.arn, region: REGION }),
  });
  assert.equal(answer.status, 200);
  const { auth_data } = (await answer.json()) as { auth_data: string };
  w.stack.requests.clear();
  const raw = w.stack.seed.roleCredentials(app.arn);
  const credentials = sealCredentials(raw, "test");
  const events: CerberusEvent[] = [];
  const skew: ClockSkew = { offsetMs: 0 };
  const input: KmsDecryptInput = {
    ciphertext: auth_data,
    region: REGION,
    endpoint: serviceEndpoint("kms", REGION, undefined, envOf(w.stack.env)),
    credentials,
    http: w.http,
    skew,
    onEvent: (e) => events.push(e),
  };
  const kmsRequests = () => w.seen.filter((s) => s.url.origin === new URL(w.stack.kms).origin);
  return { ...w, app, raw, credentials, input, events, skew, kmsRequests };
}

/** The Cerberus token JSON the plaintext holds. */
const tokenOf = (plaintext: Uint8Array) => JSON.parse(utf8(plaintext)) as { client_token: string };

describe("KMS Decrypt: one raw signed call", () => {
  it("signs a JSON 1.1 Decrypt for the region and returns the plaintext bytes", async () => {
    const { clock, input, raw, kmsRequests, events, log } = await setup();
    const plaintext = await kmsDecrypt(input);
    assert.ok(plaintext instanceof Uint8Array);
    assert.match(tokenOf(plaintext).client_token, /^\S{20,}$/);
    assert.deepEqual(log("kms"), ["POST / 200"]);
    const request = kmsRequests()[0]!;
    assert.equal(request.init.method, "POST");
    assert.equal(request.url.pathname, "/");
    assert.deepEqual(JSON.parse(request.text()), { CiphertextBlob: input.ciphertext });
    assert.equal(request.header("content-type"), "application/x-amz-json-1.1");
    assert.equal(request.header("x-amz-target"), "TrentService.Decrypt");
    assert.equal(request.header("x-amz-date"), amzDate(clock.now()));
    assert.equal(request.header("x-amz-security-token"), raw.sessionToken);
    assert.match(
      request.header("authorization")!,
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${raw.accessKeyId}/20261129/us-west-2/kms/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$`,
      ),
    );
    assert.deepEqual(events.map((e) => e.type), ["kms.decrypt"]);
    assert.match((events[0] as { keyId: string }).keyId, /^arn:aws:kms:us-west-2:999988887777:key\//);
  });

  it("the secret key never appears in a request or an error, the session token only in its header", async () => {
    const { stack, input, raw, kmsRequests } = await setup();
    stack.faults.inject("kms", {
      kind: "kms-error",
      type: "AccessDeniedException",
      message: `not for ${raw.accessKeyId}`,
    });
    const error = await rejection(kmsDecrypt(input));
    const sent = JSON.stringify(kmsRequests().map((r) => [r.url.href, r.init.headers, r.text()]));
    assert.ok(!sent.includes(raw.secretAccessKey));
    assert.equal(sent.split(raw.sessionToken!).length, 2, "the session token once, in X-Amz-Security-Token");
    const shown = JSON.stringify({ message: (error as Error).message, error, cause: String((error as Error).cause) });
    assert.ok(!shown.includes(raw.secretAccessKey) && !shown.includes(raw.sessionToken!));
  });

  it("signs with the credentials given, so a wrong secret is refused by KMS", async () => {
    const { input, raw, log } = await setup();
    const wrong = sealCredentials({ ...raw, secretAccessKey: "not-the-secret-key" }, "test");
    const error = await rejection(kmsDecrypt({ ...input, credentials: wrong }));
    assert.ok(error instanceof AwsError);
    assert.equal(error.awsType, "InvalidSignatureException");
    assert.equal(log("kms").length, 1, "a refused signature within the skew window is not retried");
  });
});

describe("KMS Decrypt: failures and retries", () => {
  it("a non-retryable error is thrown at once, with its type, status and message", async () => {
    const { stack, input, log } = await setup();
    stack.faults.inject("kms", { kind: "kms-error", type: "InvalidCiphertextException", message: "bad blob" });
    const error = await rejection(kmsDecrypt(input));
    assert.ok(error instanceof AwsError);
    assert.equal(error.service, "kms");
    assert.equal(error.step, "kms-decrypt");
    assert.equal(error.awsType, "InvalidCiphertextException");
    assert.equal(error.status, 400);
    assert.equal(error.retryable, false);
    assert.equal(error.message, "KMS InvalidCiphertextException (HTTP 400): bad blob");
    assert.equal(log("kms").length, 1);
  });

  it("a disabled key is KMS's own refusal", async () => {
    const { stack, app, input } = await setup();
    assert.equal(stack.seed.keyState(app.arn, REGION, "Disabled"), true);
    const error = await rejection(kmsDecrypt(input));
    assert.ok(error instanceof AwsError);
    assert.equal(error.awsType, "DisabledException");
  });

  it("throttling and 5xx are retried with back-off on the injected clock", async () => {
    const { clock, stack, input, events, log } = await setup();
    stack.faults.inject("kms", { kind: "throttle" });
    stack.faults.inject("kms", { kind: "status", status: 500 });
    const plaintext = await clock.settle(kmsDecrypt(input), 100);
    assert.ok(tokenOf(plaintext).client_token);
    assert.deepEqual(log("kms"), ["POST / 400", "POST / 500", "POST / 200"]);
    const retries = events.filter((e) => e.type === "request.retry");
    assert.deepEqual(retries.map((e) => [e.attempt, e.reason]), [[1, "ThrottlingException"], [
      2,
      "KMSInternalException",
    ]]);
    assert.ok(retries.every((e) => e.delayMs >= 0 && e.delayMs <= 2000));
  });

  it("no back-off elapses without the clock: the second attempt waits for it", async () => {
    const { clock, stack, input, log, sent } = await setup();
    stack.faults.inject("kms", { kind: "throttle" });
    const retries: number[] = [];
    const pending = kmsDecrypt({
      ...input,
      onEvent: (e) => void (e.type === "request.retry" && retries.push(e.delayMs)),
    });
    await sent(1);
    // Let the throttled answer arrive and the back-off start (a 0 ms back-off may fire at once).
    for (let turn = 0; retries.length === 0 && turn < 100; turn++) await clock.advance(0);
    const delay = retries[0];
    assert.ok(delay !== undefined && delay >= 0 && delay <= 200, `back-off ${delay}`);
    if (delay > 1) {
      assert.equal(log("kms").length, 1);
      await clock.advance(delay - 1);
      assert.equal(log("kms").length, 1, "not before the back-off");
    }
    await clock.advance(1);
    await sent(2);
    await pending;
    assert.deepEqual(log("kms"), ["POST / 400", "POST / 200"]);
  });

  it("gives up after 3 attempts on connection resets, naming the host only", async () => {
    const { clock, stack, input, log } = await setup();
    stack.faults.inject("kms", { kind: "reset" }, { times: 3 });
    const error = await rejection(clock.settle(kmsDecrypt(input), 100));
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TRANSPORT_ERROR");
    assert.equal(error.message, `request to ${new URL(stack.kms).host} failed: ECONNRESET`);
    assert.equal(log("kms").length, 3);
  });

  it("a KMS that does not answer times out after 5 s per attempt, three times", async () => {
    const { clock, stack, input, log, sent } = await setup();
    stack.faults.inject("kms", { kind: "hang" }, { times: 3 });
    const pending = rejection(kmsDecrypt(input));
    await sent(1);
    await clock.advance(4999);
    assert.equal(log("kms").length, 1, "the first attempt is still waiting");
    const error = await clock.settle(pending, 1000);
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TIMEOUT");
    assert.equal(log("kms").length, 3);
  });

  it("a retryable failure on the last attempt is thrown as it is", async () => {
    const { clock, stack, input, log } = await setup();
    stack.faults.inject("kms", { kind: "kms-error", type: "KMSInternalException" }, { times: 3 });
    const error = await rejection(clock.settle(kmsDecrypt(input), 100));
    assert.ok(error instanceof AwsError);
    assert.equal(error.awsType, "KMSInternalException");
    assert.equal(error.retryable, true);
    assert.equal(log("kms").length, 3);
  });

  it("a 200 answer that is not a Decrypt answer is a PayloadError", async () => {
    for (
      const body of [
        "<html>ok</html>",
        JSON.stringify({ KeyId: "k", Plaintext: "not base64!" }),
        JSON.stringify({ Plaintext: "aGk=" }),
      ]
    ) {
      const { stack, input } = await setup();
      stack.faults.inject("kms", { kind: "body", body, headers: { "content-type": "application/x-amz-json-1.1" } });
      const error = await rejection(kmsDecrypt(input));
      assert.ok(error instanceof PayloadError, body);
      assert.equal(error.step, "kms-decrypt");
      assert.match(error.message, /^the KMS Decrypt answer /);
    }
  });

  it("an HTML page from a proxy is an AwsError that says so", async () => {
    const { stack, input } = await setup();
    stack.faults.inject("kms", { kind: "waf" });
    const error = await rejection(kmsDecrypt(input));
    assert.ok(error instanceof AwsError);
    assert.equal(error.status, 403);
    assert.equal(error.awsType, undefined);
    assert.match(error.message, /not a KMS error \(a proxy in the way\?\)/);
  });

  it("a redirect is not followed: it is an error answer", async () => {
    const { stack, input, log } = await setup();
    stack.faults.inject("kms", { kind: "redirect", location: "http://127.0.0.1:9/elsewhere" });
    const error = await rejection(kmsDecrypt(input));
    assert.ok(error instanceof AwsError);
    assert.equal(error.status, 307);
    assert.deepEqual(log("kms"), ["POST / 307"]);
  });

  it("the caller's abort stops a request in flight, and a back-off", async () => {
    const { clock, stack, input } = await setup();
    stack.faults.inject("kms", { kind: "latency", ms: 1000 });
    const controller = new AbortController();
    const inFlight = rejection(kmsDecrypt({ ...input, signal: controller.signal }));
    await clock.advance(10);
    controller.abort();
    const error = await inFlight;
    assert.ok(error instanceof AbortedError);
    assert.equal(error.code, "ABORTED");

    stack.faults.clear();
    stack.faults.inject("kms", { kind: "throttle" });
    const backingOff = new AbortController();
    // The caller gives up as the back-off begins (onRetry is told just before the sleep).
    const onEvent = (e: CerberusEvent) => e.type === "request.retry" && backingOff.abort();
    const stopped = await rejection(kmsDecrypt({ ...input, signal: backingOff.signal, onEvent }));
    assert.ok(stopped instanceof AbortedError);
    assert.equal(stopped.message, "KMS Decrypt was aborted by the caller");
    assert.equal(clock.pending, 0, "no back-off timer left behind");
  });
});

describe("KMS Decrypt: clock skew", () => {
  it("corrects a skew from the answer's Date once, re-signs and succeeds; the skew is kept for the next call", async () => {
    const { clock, stack, input, skew, kmsRequests, events, log } = await setup();
    stack.clock.skew("kms", 20 * 60_000); // KMS's clock is 20 minutes ahead of ours
    const plaintext = await kmsDecrypt(input);
    assert.ok(tokenOf(plaintext).client_token);
    assert.deepEqual(log("kms"), ["POST / 400", "POST / 200"]);
    assert.ok(Math.abs(skew.offsetMs - 20 * 60_000) < 1000, `offset ${skew.offsetMs}`);
    assert.equal(kmsRequests()[1]!.header("x-amz-date"), amzDate(clock.now() + skew.offsetMs));
    assert.ok(events.some((e) => e.type === "request.retry" && e.reason === "clock skew corrected"));
    await kmsDecrypt(input);
    assert.deepEqual(log("kms").slice(2), ["POST / 200"], "signed with the known skew at once");
  });

  it("corrects only once: a second refusal is thrown", async () => {
    const { stack, input, log } = await setup();
    stack.clock.skew("kms", 20 * 60_000);
    stack.faults.inject("kms", { kind: "kms-error", type: "InvalidSignatureException", message: "Signature expired" }, {
      times: 2,
    });
    const error = await rejection(kmsDecrypt(input));
    assert.ok(error instanceof AwsError);
    assert.equal(error.awsType, "InvalidSignatureException");
    assert.equal(log("kms").length, 2);
  });

  it("a refused signature whose Date agrees with ours (within a minute) is a real refusal, not skew", async () => {
    const { stack, input, skew, log } = await setup();
    stack.faults.inject("kms", { kind: "kms-error", type: "InvalidSignatureException" });
    stack.faults.inject("kms", { kind: "date", offsetMs: 59_000 });
    const error = await rejection(kmsDecrypt(input));
    assert.ok(error instanceof AwsError);
    assert.equal(log("kms").length, 1);
    assert.equal(skew.offsetMs, 0);
  });

  it("an error that is not about the signature never moves the skew", async () => {
    const { stack, input, skew } = await setup();
    stack.faults.inject("kms", { kind: "kms-error", type: "AccessDeniedException" });
    stack.faults.inject("kms", { kind: "date", offsetMs: 3_600_000 });
    await rejection(kmsDecrypt(input));
    assert.equal(skew.offsetMs, 0);
  });
});

describe("kmsError", () => {
  it("drops the namespace of the type, keeps the status and the (sanitised) message", () => {
    const denied = kmsError(400, {
      __type: "com.amazonaws.kms#AccessDeniedException",
      Message: "User is not\nauthorized\x1b[2J",
    });
    assert.equal(denied.awsType, "AccessDeniedException");
    assert.equal(denied.status, 400);
    assert.equal(denied.retryable, false);
    assert.equal(denied.message, "KMS AccessDeniedException (HTTP 400): User is not authorized [2J");
    assert.equal(kmsError(400, { __type: "ThrottlingException", message: null }).retryable, true);
    assert.equal(kmsError(400, { __type: "ThrottlingException" }).message, "KMS ThrottlingException (HTTP 400)");
    assert.equal(kmsError(503, { __type: "DependencyTimeoutException" }).retryable, true);
    assert.equal(kmsError(500, { __type: "KMSInternalException" }).retryable, true);
  });

  it("a body that is not a KMS error: no type, retryable by status", () => {
    const html = kmsError(502, "<html>bad gateway</html>");
    assert.equal(html.awsType, undefined);
    assert.equal(html.retryable, true);
    assert.match(html.message, /^KMS answered HTTP 502 with a body that is not a KMS error/);
    const throttled = kmsError(429, undefined);
    assert.equal(throttled.awsType, "ThrottlingException");
    assert.equal(throttled.retryable, true);
    assert.equal(kmsError(403, { message: "no type" }).retryable, false);
  });
});

describe("SigV4 signing", () => {
  const credentials: AwsCredentials = sealCredentials({
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  }, "test");

  it("amzDate formats YYYYMMDDTHHMMSSZ", () => {
    assert.equal(amzDate(Date.UTC(2026, 10, 29, 12, 0, 0)), "20261129T120000Z");
    assert.equal(amzDate(Date.UTC(2015, 7, 30, 12, 36, 0, 999)), "20150830T123600Z");
  });

  it("signPost returns plain header records with the signature and date", async () => {
    const headers = await signPost({
      url: "https://kms.us-east-1.amazonaws.com/",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.Decrypt" },
      body: "{}",
      credentials,
      service: "kms",
      region: "us-east-1",
      time: Date.UTC(2015, 7, 30, 12, 36, 0),
      step: "kms-decrypt",
    });
    assert.equal(Object.getPrototypeOf(headers), Object.prototype);
    assert.equal(headers["x-amz-date"], "20150830T123600Z");
    assert.match(
      headers["authorization"]!,
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/us-east-1\/kms\/aws4_request, /,
    );
    assert.equal(headers["x-amz-security-token"], undefined);
  });

  it("a failure to sign is a library error that withholds the foreign message", async () => {
    const bad = { accessKeyId: "AKID", secretAccessKey: "s3cret-key", sessionToken: "tok\nen" } as AwsCredentials;
    const error = await rejection(
      signPost({
        url: "https://kms.us-east-1.amazonaws.com/",
        headers: {},
        body: "",
        credentials: bad,
        service: "kms",
        region: "us-east-1",
        time: 0,
        step: "kms-decrypt",
      }),
    );
    assert.ok(error instanceof CerberusEdgeError);
    assert.equal(error.message, "signing the KMS request failed");
    assert.ok(
      !JSON.stringify([String((error.cause as Error)?.message), (error.cause as Error)?.stack]).includes("s3cret"),
    );
  });
});
