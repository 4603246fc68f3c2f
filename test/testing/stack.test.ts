/**
 * The stack as a whole: serving on 127.0.0.1 and closing, the in-memory transport (called like
 * `fetch` and as the core's `HttpTransport`), the injectable clock, and the request log.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Clock } from "../../src/clock.ts";
import type { HttpTransport, TransportResponse } from "../../src/transport.ts";
import { createLocalStack, type LocalStack, ManualClock, startLocalStack } from "../../src/testing/mod.ts";
import { cerberus, codes, json, memoryStack, track, until, type UserAuth, userToken } from "./helpers.ts";

/** Reads a transport response's body, stream or async iterable, as text. */
async function bodyText(response: TransportResponse): Promise<string> {
  const body = response.body;
  if (body === null) return "";
  const chunks: Uint8Array[] = [];
  if (body instanceof ReadableStream) {
    const reader = body.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) chunks.push(read.value);
  } else {
    for await (const chunk of body) chunks.push(chunk);
  }
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((chunk) => [...chunk])));
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
        headers: {
          authorization: `Basic ${btoa(`${stack.defaults?.user.username}:${stack.defaults?.user.password}`)}`,
        },
      });
      return (await json<UserAuth>(response))["data"]["client_token"]["client_token"];
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
    const region = await fetch(`${stack.imds}/latest/meta-data/placement/region`, {
      headers: { "x-aws-ec2-metadata-token": token },
    });
    assert.equal(await region.text(), "us-west-2");
    const login = await fetch(`${stack.cerberus}/v2/auth/user`, {
      headers: { authorization: `Basic ${btoa(`${stack.defaults?.user.username}:${stack.defaults?.user.password}`)}` },
    });
    const userTokenValue = (await json<UserAuth>(login))["data"]["client_token"]["client_token"];
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

describe("request log", () => {
  it("records method, path, status and client header without query strings", async () => {
    const stack = memoryStack();
    await stack.transport(
      new Request(`${stack.cerberus}/v1/secret/app/demo/config?list=true`, {
        headers: { "x-cerberus-client": "test/1.0" },
      }),
    );
    const [entry] = stack.requests.entries("cerberus");
    assert.deepEqual(
      { method: entry?.method, path: entry?.path, status: entry?.status, client: entry?.client },
      { method: "GET", path: "/v1/secret/app/demo/config", status: 401, client: "test/1.0" },
    );
    stack.requests.clear();
    assert.equal(stack.requests.entries().length, 0);
  });
});

describe("the in-memory transport", () => {
  it("is the core's HttpTransport: a URL string and plain init in, status, headers and a body stream out", async () => {
    const stack = memoryStack();
    const transport: HttpTransport = stack.transport;
    const put = await transport(`${stack.imds}/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
      redirect: "manual",
    });
    assert.equal(put.status, 200);
    assert.equal(put.headers.get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"), "60");
    const token = await bodyText(put);
    const region = await transport(`${stack.imds}/latest/meta-data/placement/region`, {
      method: "GET",
      headers: { "x-aws-ec2-metadata-token": token },
      redirect: "manual",
    });
    assert.equal(await bodyText(region), "us-west-2");
    const bytes = new TextEncoder().encode("{}");
    const kms = await transport(`${stack.kms}/`, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1" },
      body: bytes,
      redirect: "manual",
    });
    assert.equal(JSON.parse(await bodyText(kms))["__type"], "MissingAuthenticationTokenException");
  });

  it("takes a Request, a URL object, or a string with an init, like fetch", async () => {
    const stack = memoryStack();
    assert.equal(await (await stack.transport(new Request(`${stack.cerberus}/healthcheck`))).text(), "OK");
    assert.equal(await (await stack.transport(new URL("/healthcheck", stack.cerberus))).text(), "OK");
    assert.equal(await (await stack.transport(`${stack.cerberus}/healthcheck`)).text(), "OK");
    const token = await userToken(stack);
    const viaInit = await stack.transport(`${stack.cerberus}/v1/secret/app/demo/config`, {
      headers: { "x-cerberus-token": token },
    });
    assert.equal(viaInit.status, 200);
    const overridden = await stack.transport(new Request(`${stack.cerberus}/healthcheck`), { method: "DELETE" });
    assert.equal(overridden.status, 405, "init overrides the Request, as with fetch");
  });

  it("returns redirects as they are with redirect: manual, and follows them otherwise", async () => {
    const stack = memoryStack();
    stack.faults.inject("cerberus", { kind: "redirect", location: `${stack.cerberus}/healthcheck` }, { path: "/old" });
    const manual = await stack.transport(`${stack.cerberus}/old`, { method: "GET", headers: {}, redirect: "manual" });
    assert.equal(manual.status, 307);
    assert.equal(manual.headers.get("location"), `${stack.cerberus}/healthcheck`);
    stack.faults.inject("cerberus", { kind: "redirect", location: `${stack.cerberus}/healthcheck` }, { path: "/old" });
    const followed = await stack.transport(`${stack.cerberus}/old`);
    assert.equal(followed.status, 200);
    assert.equal(followed.redirected, true);
  });

  it("rejects unknown hosts with a TypeError whose cause is ENOTFOUND, and aborts with the signal's reason", async () => {
    const stack = memoryStack();
    const error = await stack.transport("http://nowhere.stack.test/", {
      method: "GET",
      headers: {},
      redirect: "manual",
    }).then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TypeError);
    assert.equal((error.cause as { code?: string }).code, "ENOTFOUND");
    const reason = new Error("stop");
    await assert.rejects(
      stack.transport(`${stack.cerberus}/healthcheck`, {
        method: "GET",
        headers: {},
        redirect: "manual",
        signal: AbortSignal.abort(reason),
      }),
      (e: unknown) => e === reason,
    );
  });
});

describe("the clock option", () => {
  it("bases server time on the clock, with the stack's offset and skews on top", async () => {
    const clock = new ManualClock();
    const stack = createLocalStack({ clock });
    assert.equal(stack.clock.now(), clock.now());
    const dateOf = async (url: string) => Date.parse((await stack.transport(url)).headers.get("date") ?? "");
    assert.equal(await dateOf(`${stack.cerberus}/healthcheck`), clock.now());
    await clock.advance(90_000);
    assert.equal(await dateOf(`${stack.cerberus}/healthcheck`), Date.UTC(2026, 10, 29, 12, 1, 30));
    stack.clock.setOffset(3_600_000);
    stack.clock.skew("cerberus", 60_000);
    assert.equal(await dateOf(`${stack.cerberus}/healthcheck`), clock.now() + 3_660_000);
    assert.throws(() => createLocalStack({ clock, now: () => 0 }), TypeError);
    // The servers started before the options were refused are stopped again (else the run would hang).
    await assert.rejects(startLocalStack({ clock, now: () => 0 }), TypeError);
  });

  it("expires tokens as the clock moves", async () => {
    const clock: ManualClock = new ManualClock({ start: Date.UTC(2030, 0, 1) });
    const asCoreClock: Clock = clock;
    const stack = memoryStack({ clock: asCoreClock });
    const token = await userToken(stack);
    await clock.advance(3_599_000);
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/config", token)).status, 200);
    clock.set(clock.now() + 2_000);
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secret/app/demo/config", token))), [99105]);
  });

  it("lets a served stack's latency elapse only when the clock advances", async () => {
    const clock = new ManualClock();
    const stack = await startLocalStack({ clock });
    try {
      stack.faults.inject("cerberus", { kind: "latency", ms: 30_000 });
      const delayed = track(fetch(`${stack.cerberus}/healthcheck`));
      await until(() => clock.pending === 1);
      await clock.advance(29_999);
      assert.equal(delayed.settled, false);
      await clock.advance(1);
      const response = await delayed.promise;
      assert.equal(response.status, 200);
      assert.equal(Date.parse(response.headers.get("date") ?? ""), clock.now());
    } finally {
      await stack.close();
    }
  });
});
