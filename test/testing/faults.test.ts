/**
 * Fault injection: latency on the stack's clock, error statuses, exact bodies, KMS error types,
 * Cerberus codes, throttling, connection resets, skewed dates, WAF pages, redirects, and the
 * hang fault in memory and over sockets.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConnectionResetError, type LocalStack, ManualClock, startLocalStack } from "../../src/testing/mod.ts";
import {
  cerberus,
  codes,
  imdsGet,
  json,
  kms,
  kmsAuthData,
  memoryStack,
  track,
  turns,
  until,
  userToken,
} from "./helpers.ts";

describe("fault injection", () => {
  it("adds latency on the stack's clock and answers the next N requests with a status", async () => {
    const clock = new ManualClock();
    const stack = memoryStack({ clock });
    stack.faults.inject("cerberus", { kind: "latency", ms: 40 });
    const delayed = track(cerberus(stack, "/healthcheck", undefined));
    await clock.advance(39);
    assert.equal(delayed.settled, false, "still waiting 1 ms before the latency is over");
    assert.equal(clock.pending, 1);
    await clock.advance(1);
    assert.equal((await delayed.promise).status, 200);
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

  it("waits latency out on the system clock by default", async () => {
    const stack = memoryStack();
    const handle = stack.faults.inject("cerberus", { kind: "latency", ms: 1 });
    assert.equal((await cerberus(stack, "/healthcheck", undefined)).status, 200);
    assert.equal(handle.hits, 1);
  });

  it("sums latency faults and refuses a negative one", async () => {
    const clock = new ManualClock();
    const stack = memoryStack({ clock });
    stack.faults.inject("kms", { kind: "latency", ms: 1_000 });
    stack.faults.inject("kms", { kind: "latency", ms: 500 });
    const delayed = track(stack.transport(`${stack.kms}/`, { method: "POST", body: "{}" }));
    await clock.advance(1_499);
    assert.equal(delayed.settled, false);
    await clock.advance(1);
    assert.equal((await json(await delayed.promise))["__type"], "MissingAuthenticationTokenException");
    assert.throws(() => stack.faults.inject("kms", { kind: "latency", ms: -1 }), RangeError);
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
    const handle = stack.faults.inject("cerberus", { kind: "status", status: 500 }, {
      path: "/v1/secret/",
      method: "GET",
      times: Infinity,
    });
    const token = await userToken(stack);
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/config", token)).status, 500);
    assert.equal(
      (await cerberus(stack, "/v1/secret/app/demo/config", token, { method: "POST", body: "{}" })).status,
      204,
    );
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
    assert.equal(manual.headers.get("location"), `http://localhost:${new URL(stack.cerberus).port}/healthcheck`);
    stack.faults.inject("cerberus", { kind: "redirect" });
    await assert.rejects(stack.transport(new Request(`${stack.cerberus}/healthcheck`)), TypeError);

    stack.faults.inject("cerberus", {
      kind: "redirect",
      location: `${stack.ecs}${stack.defaults.container.relativeUri}`,
    });
    const followed = await stack.transport(
      new Request(`${stack.cerberus}/healthcheck`, {
        headers: { authorization: stack.defaults.container.authorizationToken ?? "" },
      }),
    );
    assert.equal(followed.status, 401, "Authorization is dropped on a cross-origin redirect");
    assert.equal(followed.redirected, true);
    assert.equal(followed.url, stack.defaults.container.fullUri);
  });

  it("ends latency early when the caller aborts, with the signal's reason", async () => {
    const clock = new ManualClock();
    const stack = memoryStack({ clock });
    stack.faults.inject("cerberus", { kind: "latency", ms: 5_000 });
    const controller = new AbortController();
    const delayed = track(stack.transport(new Request(`${stack.cerberus}/healthcheck`, { signal: controller.signal })));
    await clock.advance(1_000);
    assert.equal(clock.pending, 1);
    const reason = new Error("gave up");
    controller.abort(reason);
    await assert.rejects(delayed.promise, (e: unknown) => e === reason);
    assert.equal(clock.pending, 0, "the latency timer is cancelled");
    const aborted = track(stack.transport(`${stack.cerberus}/healthcheck`, { signal: AbortSignal.abort() }));
    await assert.rejects(aborted.promise, (e: unknown) => (e as { name?: string }).name === "AbortError");
  });

  it("rejects requests to unknown origins like fetch does", async () => {
    const stack = memoryStack();
    await assert.rejects(stack.transport(new Request("https://kms.us-west-2.amazonaws.com/")), TypeError);
    const routed = memoryStack({ routeAwsHostnames: true });
    const response = await routed.transport(
      new Request("https://kms.us-west-2.amazonaws.com/", { method: "POST", body: "{}" }),
    );
    assert.equal((await json(response))["__type"], "MissingAuthenticationTokenException");
  });
});

describe("the hang fault", () => {
  it("never answers in memory until the request's signal aborts, then rejects with its reason", async () => {
    const stack = memoryStack();
    const handle = stack.faults.inject("cerberus", { kind: "hang" }, { path: "/v1/secret/" });
    const controller = new AbortController();
    const hanging = track(cerberus(stack, "/v1/secret/app/demo/config", undefined, { signal: controller.signal }));
    await turns(20);
    assert.equal(hanging.settled, false);
    assert.equal(handle.hits, 1);
    assert.deepEqual(stack.requests.entries("cerberus").map((e) => e.status), [0], "received, never answered");
    const reason = new Error("client timeout");
    controller.abort(reason);
    await assert.rejects(hanging.promise, (e: unknown) => e === reason);
    assert.equal((await cerberus(stack, "/healthcheck", undefined)).status, 200, "other paths answer");
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/config", undefined)).status, 401, "the fault was used up");
  });

  it("hangs after latency, and holds no timer of the clock while it hangs", async () => {
    const clock = new ManualClock();
    const stack = memoryStack({ clock });
    stack.faults.inject("imds", { kind: "latency", ms: 100 });
    stack.faults.inject("imds", { kind: "hang" });
    const controller = new AbortController();
    const hanging = track(stack.transport(`${stack.imds}/latest/meta-data/`, { signal: controller.signal }));
    await clock.advance(60_000);
    assert.equal(hanging.settled, false);
    assert.equal(clock.pending, 0);
    controller.abort();
    await assert.rejects(hanging.promise, (e: unknown) => (e as { name?: string }).name === "AbortError");
  });
});

describe("the body fault", () => {
  it("answers exactly the given status, headers and bytes in memory", async () => {
    const stack = memoryStack();
    stack.faults.inject("sts", { kind: "body", body: "{not json", headers: { "x-amzn-requestid": "req-1" } });
    const text = await stack.transport(`${stack.sts}/`, { method: "POST", body: "Action=GetCallerIdentity" });
    assert.equal(text.status, 200);
    assert.deepEqual([...text.headers], [["x-amzn-requestid", "req-1"]]);
    assert.equal(await text.text(), "{not json");
    const bytes = new Uint8Array([0xc3, 0x28, 0x00]);
    stack.faults.inject("kms", {
      kind: "body",
      status: 500,
      body: bytes,
      headers: { "content-type": "application/x-amz-json-1.1" },
    });
    const binary = await stack.transport(`${stack.kms}/`, { method: "POST", body: "{}" });
    assert.equal(binary.status, 500);
    assert.equal(binary.headers.get("content-type"), "application/x-amz-json-1.1");
    assert.deepEqual(new Uint8Array(await binary.arrayBuffer()), bytes);
    stack.faults.inject("cerberus", { kind: "body", status: 204, body: "" });
    const empty = await cerberus(stack, "/healthcheck", undefined);
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
  });

  it("refuses statuses a response cannot have", () => {
    const stack = memoryStack();
    assert.throws(() => stack.faults.inject("kms", { kind: "body", status: 204, body: "x" }), RangeError);
    assert.throws(() => stack.faults.inject("kms", { kind: "body", status: 99, body: "" }), RangeError);
    assert.equal(stack.faults.count(), 0);
  });
});

describe("faults over sockets", () => {
  let stack: LocalStack;
  before(async () => {
    stack = await startLocalStack();
  });
  after(async () => {
    await stack.close();
  });

  it("keeps a hanging request pending until the client's AbortSignal aborts", async () => {
    const handle = stack.faults.inject("kms", { kind: "hang" });
    const controller = new AbortController();
    const hanging = track(fetch(`${stack.kms}/`, { method: "POST", body: "{}", signal: controller.signal }));
    await until(() => handle.hits === 1);
    await turns(20);
    assert.equal(hanging.settled, false);
    const reason = new Error("client timeout");
    controller.abort(reason);
    await assert.rejects(hanging.promise, (e: unknown) => e === reason);
    const next = await fetch(`${stack.kms}/`, { method: "POST", body: "{}" });
    assert.equal((await json(next))["__type"], "MissingAuthenticationTokenException");
    assert.deepEqual(stack.requests.entries("kms").map((e) => e.status), [0, 400]);
  });

  it("ends the server's latency wait when the client aborts", async () => {
    const clock = new ManualClock();
    const local = await startLocalStack({ clock, seed: false });
    try {
      local.faults.inject("cerberus", { kind: "latency", ms: 10_000 });
      const controller = new AbortController();
      const delayed = track(fetch(`${local.cerberus}/healthcheck`, { signal: controller.signal }));
      await until(() => clock.pending === 1);
      const reason = new Error("client timeout");
      controller.abort(reason);
      await assert.rejects(delayed.promise, (e: unknown) => e === reason);
      await until(() => clock.pending === 0);
    } finally {
      await local.close();
    }
  });

  it("answers exactly the bytes and headers of a body fault", async () => {
    const bytes = new Uint8Array([0x00, 0xff, 0x7b, 0x0a]);
    stack.faults.inject("cerberus", { kind: "body", status: 502, body: bytes, headers: { "x-upstream": "gone" } });
    const response = await fetch(`${stack.cerberus}/healthcheck`);
    assert.equal(response.status, 502);
    assert.equal(response.headers.get("x-upstream"), "gone");
    assert.equal(response.headers.get("content-type"), null);
    assert.equal(response.headers.get("date"), null);
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), bytes);
  });

  it("does not keep close() waiting on a hanging request", async () => {
    const local = await startLocalStack({ seed: false });
    const handle = local.faults.inject("cerberus", { kind: "hang" }, { times: Infinity });
    const hanging = track(fetch(`${local.cerberus}/healthcheck`));
    await until(() => handle.hits === 1);
    await local.close();
    await assert.rejects(hanging.promise, TypeError);
  });
});
