/**
 * src/internal/http.ts: the one way a request is sent (timeout on the injected clock, the
 * caller's abort, the bounded body reader, network failures naming the host only).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AbortedError, CerberusEdgeError, PayloadError, TransportError } from "../../src/errors.ts";
import { BODY_LIMITS, hostOf, type HttpContext, send, type SendOptions } from "../../src/internal/http.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import type { HttpTransport, TransportInit, TransportResponse } from "../../src/transport.ts";
import { turns } from "../testing/helpers.ts";
import { answer, bytes, deferred, readAll, rejection, streamOf, trackListeners, utf8 } from "./_helpers.ts";

const URL_WITH_SECRETS = "https://user:pa55word@api.example.com:8443/v1/secret/app/demo?token=t0ken-value#frag";
const options: SendOptions = { step: "request", timeoutMs: 1000, limit: 1024 };

function context(transport: HttpTransport): HttpContext & { clock: ManualClock } {
  return { transport, clock: new ManualClock() };
}

/** A transport that never answers and never looks at the signal. */
const deaf: HttpTransport = () => new Promise<TransportResponse>(() => {});

/** Checks that a message names the host and nothing else of the URL. */
function assertHostOnly(message: string): void {
  assert.match(message, /api\.example\.com:8443/);
  for (const hidden of ["user", "pa55word", "/v1", "secret", "token", "t0ken-value", "frag"]) {
    assert.ok(!message.includes(hidden), `message "${message}" contains "${hidden}"`);
  }
}

describe("send: the request", () => {
  it("passes method, headers and body, adds a signal and redirect: manual, and reads the whole answer", async () => {
    let seen: { url: string; init: TransportInit } | undefined;
    const http = context((url, init) => {
      seen = { url, init };
      return Promise.resolve(answer(201, streamOf(bytes("hel"), bytes("lo")), { "x-answer": "yes" }));
    });
    const body = bytes("payload");
    const out = await send(
      http,
      "https://api.example.com/path?q=1",
      { method: "POST", headers: { "X-A": "1" }, body },
      options,
    );
    assert.equal(out.status, 201);
    assert.equal(out.headers.get("X-Answer"), "yes");
    assert.equal(utf8(out.body), "hello");
    assert.equal(seen?.url, "https://api.example.com/path?q=1");
    assert.equal(seen?.init.method, "POST");
    assert.deepEqual(seen?.init.headers, { "X-A": "1" });
    assert.equal(seen?.init.body, body);
    assert.equal(seen?.init.redirect, "manual");
    assert.ok(seen?.init.signal instanceof AbortSignal);
    assert.equal(seen?.init.signal?.aborted, false);
    assert.equal(http.clock.pending, 0, "the timeout timer is cancelled");
  });

  it("sends no body key when there is no body, and a null body reads as empty bytes", async () => {
    let init: TransportInit | undefined;
    const http = context((_url, i) => {
      init = i;
      return Promise.resolve(answer(204, null));
    });
    const out = await send(http, "https://api.example.com/", { method: "GET", headers: {} }, options);
    assert.ok(init && !("body" in init));
    assert.equal(out.body.byteLength, 0);
  });

  it("passes a transport's own library error through unchanged", async () => {
    const own = new PayloadError("api.example.com: the answer is encoded (gzip) although identity was asked", {
      step: "response",
    });
    const http = context(() => Promise.reject(own));
    assert.equal(await rejection(send(http, "https://api.example.com/", { method: "GET", headers: {} }, options)), own);
  });

  it("hostOf names host and port only, and never throws", () => {
    assert.equal(hostOf(URL_WITH_SECRETS), "api.example.com:8443");
    assert.equal(hostOf("http://[::1]:9/x"), "[::1]:9");
    assert.equal(hostOf("not a url with s3cret"), "an invalid URL");
  });

  it("has the documented body limits", () => {
    assert.equal(BODY_LIMITS.cerberus, 8 * 1024 * 1024);
    assert.equal(BODY_LIMITS.aws, 256 * 1024);
  });
});

describe("send: timeout on the injected clock", () => {
  it("a request with no answer is a TIMEOUT after timeoutMs of the clock, naming the host only", async () => {
    let signal: AbortSignal | undefined;
    const http = context((_url, init) => {
      signal = init.signal;
      return new Promise(() => {});
    });
    let settled = false;
    const pending = rejection(send(http, URL_WITH_SECRETS, { method: "GET", headers: {} }, options)).finally(
      () => (settled = true),
    );
    await http.clock.advance(999);
    assert.equal(settled, false, "not before the timeout");
    assert.equal(signal?.aborted, false);
    await http.clock.advance(1);
    const error = await pending;
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TIMEOUT");
    assert.equal(error.step, "request");
    assert.match(error.message, /did not answer within 1000 ms/);
    assertHostOnly(error.message);
    assert.equal(signal?.aborted, true, "the transport's signal is aborted");
  });

  it("a deadline sooner than the timeout cuts the request then, and says the budget ran out", async () => {
    const http = context(deaf);
    const start = http.clock.now();
    let settled = false;
    const pending = rejection(
      send(http, URL_WITH_SECRETS, { method: "GET", headers: {} }, { ...options, deadline: start + 400 }),
    ).finally(() => (settled = true));
    await http.clock.advance(399);
    assert.equal(settled, false);
    await http.clock.advance(1);
    const error = await pending;
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TIMEOUT");
    assert.equal(error.message, "the operation's time budget ran out before api.example.com:8443 answered");
  });

  it("a deadline later than the timeout leaves the timeout in charge; one already passed sends nothing", async () => {
    let sent = 0;
    const http = context(() => (sent++, new Promise<TransportResponse>(() => {})));
    const later = rejection(
      send(http, "https://api.example.com/", { method: "GET", headers: {} }, {
        ...options,
        deadline: http.clock.now() + 5_000,
      }),
    );
    await http.clock.advance(1_000);
    assert.match(String(await later), /did not answer within 1000 ms/);
    for (const deadline of [http.clock.now(), http.clock.now() - 1]) {
      const error = await rejection(
        send(http, "https://api.example.com/", { method: "GET", headers: {} }, { ...options, deadline }),
      );
      assert.ok(error instanceof TransportError);
      assert.equal(error.code, "TIMEOUT");
      assert.equal(error.step, "request");
    }
    assert.equal(sent, 1, "a request past its budget is not sent");
  });

  it("a deadline exactly the timeout away reports the timeout", async () => {
    const http = context(deaf);
    const pending = rejection(
      send(http, "https://api.example.com/", { method: "GET", headers: {} }, {
        ...options,
        deadline: http.clock.now() + options.timeoutMs,
      }),
    );
    await http.clock.advance(options.timeoutMs);
    assert.match(String(await pending), /did not answer within 1000 ms/);
  });

  it("a transport that ignores the signal still stops at the timeout", async () => {
    const http = context(deaf);
    const pending = rejection(send(http, "https://api.example.com/", { method: "GET", headers: {} }, options));
    await http.clock.advance(1000);
    const error = await pending;
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TIMEOUT");
  });

  it("the timeout covers the body: a stream that stalls (and ignores the signal) is a TIMEOUT", async () => {
    let cancelled = false;
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes("first"));
      },
      pull: () => new Promise<void>(() => {}),
      cancel() {
        cancelled = true;
      },
    });
    const http = context(() => Promise.resolve(answer(200, stalled)));
    const pending = rejection(send(http, "https://api.example.com/", { method: "GET", headers: {} }, options));
    await http.clock.advance(1000);
    const error = await pending;
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TIMEOUT");
    assert.equal(cancelled, true, "the body is cancelled");
  });

  it("the timeout covers an async-iterable body that stalls (an async generator, like a Node stream's iterator)", async () => {
    async function* stalled() {
      yield bytes("first");
      await new Promise<never>(() => {}); // the peer stops sending; the socket stays open
    }
    const http = context(() => Promise.resolve(answer(200, stalled())));
    const pending = send(http, "https://api.example.com/", { method: "GET", headers: {} }, options);
    // settle() gives up (instead of hanging the suite) if the read never stops.
    const error = await rejection(http.clock.settle(pending, 500, 20));
    assert.ok(error instanceof TransportError, String(error));
    assert.equal(error.code, "TIMEOUT");
  });
});

describe("send: the caller's abort", () => {
  it("an abort while waiting for the answer is ABORTED with the reason as cause, naming the host only", async () => {
    let signal: AbortSignal | undefined;
    const http = context((_url, init) => {
      signal = init.signal;
      return new Promise(() => {});
    });
    const controller = new AbortController();
    const pending = rejection(
      send(http, URL_WITH_SECRETS, { method: "GET", headers: {} }, { ...options, signal: controller.signal }),
    );
    await http.clock.advance(0);
    const reason = new Error("caller gave up");
    controller.abort(reason);
    const error = await pending;
    assert.ok(error instanceof AbortedError);
    assert.equal(error.code, "ABORTED");
    assert.equal(error.cause, reason);
    assertHostOnly(error.message);
    assert.equal(signal?.aborted, true, "the abort reaches the transport");
    assert.equal(http.clock.pending, 0, "the timeout timer is cancelled");
  });

  it("a transport that ignores the signal still stops when the caller aborts", async () => {
    const http = context(deaf);
    const controller = new AbortController();
    const pending = rejection(
      send(http, "https://api.example.com/", { method: "GET", headers: {} }, { ...options, signal: controller.signal }),
    );
    controller.abort();
    assert.ok((await pending) instanceof AbortedError);
  });

  it("an abort while the body is read is ABORTED", async () => {
    const body = new ReadableStream<Uint8Array>({ pull: () => new Promise<void>(() => {}) });
    const gotAnswer = deferred<void>();
    const http = context(() => {
      gotAnswer.resolve();
      return Promise.resolve(answer(200, body));
    });
    const controller = new AbortController();
    const pending = rejection(
      send(http, "https://api.example.com/", { method: "GET", headers: {} }, { ...options, signal: controller.signal }),
    );
    await gotAnswer.promise;
    await http.clock.advance(0);
    controller.abort();
    const error = await pending;
    assert.ok(error instanceof AbortedError);
  });

  it("an already-aborted signal sends nothing", async () => {
    let calls = 0;
    const http = context(() => {
      calls++;
      return Promise.resolve(answer(200, null));
    });
    const error = await rejection(
      send(http, "https://api.example.com/", { method: "GET", headers: {} }, {
        ...options,
        signal: AbortSignal.abort(),
      }),
    );
    assert.ok(error instanceof AbortedError);
    assert.equal(calls, 0);
    assert.equal(http.clock.pending, 0);
  });
});

describe("the bounded reader", () => {
  it("refuses a Content-Length over the limit before reading a byte (stream)", async () => {
    let pulled = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>(
      {
        pull() {
          pulled++;
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const error = await rejection(
      readAll(answer(200, body, { "content-length": "1025" }), 1024, "response"),
    );
    assert.ok(error instanceof PayloadError);
    assert.equal(error.code, "INVALID_PAYLOAD");
    assert.match(error.message, /larger than the 1024-byte limit/);
    assert.equal(pulled, 0, "nothing read");
    assert.equal(cancelled, true, "the body is cancelled");
  });

  it("refuses a Content-Length over the limit before reading a byte (async iterable)", async () => {
    let nexts = 0;
    let returned = false;
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          nexts++;
          return Promise.resolve({ done: false, value: bytes("x") });
        },
        return: () => {
          returned = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    };
    const error = await rejection(
      readAll(answer(200, body, { "content-length": String(10 * 1024 * 1024) }), 1024, "response"),
    );
    assert.ok(error instanceof PayloadError);
    assert.equal(nexts, 0);
    assert.equal(returned, true);
  });

  it("stops a streamed body (no Content-Length) as soon as it passes the limit", async () => {
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(10));
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const error = await rejection(readAll(answer(200, endless), 25, "kms-decrypt"));
    assert.ok(error instanceof PayloadError);
    assert.equal(error.step, "kms-decrypt");
    assert.equal(cancelled, true);
    assert.ok(pulled <= 4, `read ${pulled} chunks of an endless body`);
  });

  it("accepts a body of exactly the limit, and a lying small Content-Length is still bounded", async () => {
    const exact = await readAll(
      answer(200, streamOf(new Uint8Array(10), new Uint8Array(15))),
      25,
      "response",
    );
    assert.equal(exact.byteLength, 25);
    const announced = await readAll(
      answer(200, streamOf(new Uint8Array(25)), { "content-length": "25" }),
      25,
      "response",
    );
    assert.equal(announced.byteLength, 25, "a Content-Length of exactly the limit is read");
    const lying = await rejection(
      readAll(
        answer(200, streamOf(new Uint8Array(20), new Uint8Array(20)), { "content-length": "3" }),
        25,
        "response",
      ),
    );
    assert.ok(lying instanceof PayloadError);
  });

  it("reads an async-iterable body (what the Node transport gives) and joins its chunks in order", async () => {
    async function* chunks() {
      yield bytes("a");
      yield bytes("bc");
      yield new Uint8Array(0);
      yield bytes("def");
    }
    const out = await readAll(answer(200, chunks()), 1024, "response");
    assert.equal(utf8(out), "abcdef");
    const single = bytes("only");
    async function* one() {
      yield single;
    }
    assert.equal(utf8(await readAll(answer(200, one()), 1024, "response")), "only");
  });

  it("an async-iterable body over the limit is stopped with return()", async () => {
    let returned = false;
    let yielded = 0;
    async function* endless() {
      try {
        for (;;) {
          yielded++;
          yield new Uint8Array(100);
        }
      } finally {
        returned = true;
      }
    }
    const error = await rejection(readAll(answer(200, endless()), 250, "response"));
    assert.ok(error instanceof PayloadError);
    assert.equal(yielded, 3);
    assert.equal(returned, true);
  });

  it("a body that fails mid-way is a TRANSPORT_ERROR through send()", async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes("part"));
        controller.error(Object.assign(new Error("other side closed: s3cret"), { code: "ECONNRESET" }));
      },
    });
    const http = context(() => Promise.resolve(answer(200, broken)));
    const error = await rejection(send(http, "https://api.example.com/x", { method: "GET", headers: {} }, options));
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TRANSPORT_ERROR");
    assert.equal(error.message, "request to api.example.com failed: ECONNRESET");
  });
});

describe("send: network failures", () => {
  const fail = (error: unknown) => context(() => Promise.reject(error));
  const attempt = (http: HttpContext) =>
    rejection(send(http, URL_WITH_SECRETS, { method: "GET", headers: {} }, options));

  it("a fetch-style TypeError names the code from its cause, and the host only", async () => {
    const error = await attempt(
      fail(
        new TypeError("fetch failed", {
          cause: Object.assign(new Error("connect ECONNREFUSED 10.1.2.3:8443"), { code: "ECONNREFUSED" }),
        }),
      ),
    );
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TRANSPORT_ERROR");
    assert.equal(error.step, "request");
    assert.equal(error.message, "request to api.example.com:8443 failed: ECONNREFUSED");
    assertHostOnly(error.message);
  });

  it("an error with its own code (node:http style) names that code", async () => {
    const error = await attempt(
      fail(Object.assign(new Error("getaddrinfo ENOTFOUND api.example.com"), { code: "ENOTFOUND" })),
    );
    assert.ok(error instanceof TransportError);
    assert.match(error.message, /failed: ENOTFOUND$/);
  });

  it("Bun's and Deno's messages give their code, and nothing else of them", async () => {
    const cases: [unknown, string][] = [
      [
        new TypeError("fetch failed", {
          cause: new Error(
            "error sending request for url (https://api.example.com/?token=s3cret): client error (Connect): tcp connect error: Connection refused (os error 111)",
          ),
        }),
        "ECONNREFUSED",
      ],
      [new TypeError("ECONNREFUSED: Unable to connect. Is the computer able to access the url?"), "ECONNREFUSED"],
      [new TypeError("fetch failed", { cause: new Error("connection reset by peer (s3cret)") }), "ECONNRESET"],
      [
        new TypeError("fetch failed", { cause: new Error("dns error: failed to lookup address information") }),
        "ENOTFOUND",
      ],
    ];
    for (const [thrown, code] of cases) {
      const error = await attempt(fail(thrown));
      assert.ok(error instanceof TransportError);
      assert.equal(error.message, `request to api.example.com:8443 failed: ${code}`);
      assert.ok(!JSON.stringify([error.message, (error.cause as Error).message]).includes("s3cret"));
    }
  });

  it("a foreign message is never copied, into the message or the cause", async () => {
    const error = await attempt(fail(new TypeError("Invalid header value: Bearer s3cret-token")));
    assert.ok(error instanceof TransportError);
    assert.equal(error.message, "request to api.example.com:8443 failed: TypeError");
    const cause = error.cause as Error;
    assert.equal(cause.name, "TypeError");
    assert.ok(!cause.message.includes("s3cret"), cause.message);
    assert.ok(!JSON.stringify({ message: error.message, cause: cause.message, stack: cause.stack }).includes("s3cret"));
  });

  it("a code that is not a plain code is not used", async () => {
    const error = await attempt(fail(Object.assign(new Error("x"), { code: "econnreset; s3cret in here" })));
    assert.ok(error instanceof TransportError);
    assert.equal(error.message, "request to api.example.com:8443 failed: Error");
  });

  it("a thrown non-error is a network error", async () => {
    const error = await attempt(fail("s3cret string"));
    assert.ok(error instanceof TransportError);
    assert.equal(error.message, "request to api.example.com:8443 failed: network error");
  });

  it("a transport that throws synchronously is a TRANSPORT_ERROR too", async () => {
    const http = context(() => {
      throw new TypeError("bad init");
    });
    const error = await attempt(http);
    assert.ok(error instanceof TransportError);
    assert.ok(error instanceof CerberusEdgeError);
    assert.equal(http.clock.pending, 0);
  });
});

describe("send: odd codes and messages", () => {
  const attempt = (error: unknown) =>
    rejection(
      send(context(() => Promise.reject(error)), URL_WITH_SECRETS, { method: "GET", headers: {} }, options),
    );

  it("a code must be all of the text: one with words before or after it is not used", async () => {
    for (const code of ["ECONNRESET now", "now ECONNRESET", "E"]) {
      const error = await attempt(Object.assign(new Error("x"), { code }));
      assert.equal((error as Error).message, "request to api.example.com:8443 failed: Error", code);
    }
  });

  it("a code that is not a string is not used; a null rejection is a network error", async () => {
    const numeric = await attempt(Object.assign(new Error("x"), { code: 111 }));
    assert.equal((numeric as Error).message, "request to api.example.com:8443 failed: Error");
    const none = await attempt(null);
    assert.ok(none instanceof TransportError);
    assert.equal(none.message, "request to api.example.com:8443 failed: network error");
  });

  it("the error's and its cause's messages are read as separate words", async () => {
    const error = await attempt(new TypeError("fetch failed", { cause: new Error("ECONNREFUSED (os error 111)") }));
    assert.equal((error as Error).message, "request to api.example.com:8443 failed: ECONNREFUSED");
  });

  it("an unreachable network is EHOSTUNREACH", async () => {
    const error = await attempt(new TypeError("fetch failed", { cause: new Error("Network is unreachable") }));
    assert.equal((error as Error).message, "request to api.example.com:8443 failed: EHOSTUNREACH");
  });
});

describe("send: bodies it must stop or cannot read", () => {
  /** An async-iterable body that counts its reads and whether it was stopped. */
  function countedBody(onReturn: "promise" | "undefined" | "missing" = "promise") {
    const seen = { nexts: 0, returned: false };
    const iterator: AsyncIterator<Uint8Array> = {
      next: () => {
        seen.nexts++;
        return new Promise<IteratorResult<Uint8Array>>(() => {});
      },
    };
    if (onReturn !== "missing") {
      iterator.return = (() => {
        seen.returned = true;
        return onReturn === "promise" ? Promise.resolve({ done: true, value: undefined }) : undefined;
      }) as AsyncIterator<Uint8Array>["return"];
    }
    return { seen, body: { [Symbol.asyncIterator]: () => iterator } as AsyncIterable<Uint8Array> };
  }

  it("an answer that arrives after the timeout is not read: its body is stopped", async () => {
    const late = deferred<TransportResponse>();
    const http = context(() => late.promise);
    const pending = rejection(send(http, "https://api.example.com/x", { method: "GET", headers: {} }, options));
    await http.clock.advance(1000);
    assert.equal(((await pending) as TransportError).code, "TIMEOUT");
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true;
      },
    });
    late.resolve(answer(200, stream));
    await turns(1);
    assert.equal(cancelled, true, "the late stream is cancelled");

    const late2 = deferred<TransportResponse>();
    const http2 = context(() => late2.promise);
    const pending2 = rejection(send(http2, "https://api.example.com/x", { method: "GET", headers: {} }, options));
    await http2.clock.advance(1000);
    await pending2;
    const { seen, body } = countedBody();
    late2.resolve(answer(200, body));
    await turns(1);
    assert.deepEqual(seen, { nexts: 0, returned: true }, "the late iterable is returned, never read");
  });

  it("a late answer with no body, an iterable without return() or with a bare one, or a body of neither kind, is dropped quietly", async () => {
    const neither = {} as unknown as ReadableStream<Uint8Array>;
    for (const body of [null, countedBody("missing").body, countedBody("undefined").body, neither]) {
      const late = deferred<TransportResponse>();
      const http = context(() => late.promise);
      const pending = rejection(send(http, "https://api.example.com/x", { method: "GET", headers: {} }, options));
      await http.clock.advance(1000);
      await pending;
      late.resolve(answer(200, body));
      await turns(1);
    }
  });

  it("an over-limit iterable without return(), or whose return() gives nothing, is still refused", async () => {
    for (const kind of ["missing", "undefined"] as const) {
      const { seen, body } = countedBody(kind);
      const error = await rejection(readAll(answer(200, body, { "content-length": "5000" }), 1024));
      assert.ok(error instanceof PayloadError, kind);
      assert.equal(seen.nexts, 0);
      // The same body with no Content-Length: refused as it passes the limit, then stopped.
      const endless: AsyncIterable<Uint8Array> = {
        [Symbol.asyncIterator]: () => {
          const iterator: AsyncIterator<Uint8Array> = {
            next: () => Promise.resolve({ done: false, value: new Uint8Array(600) }),
          };
          if (kind === "undefined") {
            iterator.return = (() => undefined) as unknown as AsyncIterator<Uint8Array>["return"];
          }
          return iterator;
        },
      };
      assert.ok((await rejection(readAll(answer(200, endless), 1024))) instanceof PayloadError, `${kind}, streamed`);
    }
  });

  it("a body that is neither a stream nor iterable fails at once with a TRANSPORT_ERROR", async () => {
    const http = context(() => Promise.resolve(answer(200, {} as unknown as ReadableStream<Uint8Array>)));
    const error = await rejection(send(http, "https://api.example.com/x", { method: "GET", headers: {} }, options));
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TRANSPORT_ERROR");
    assert.equal(http.clock.pending, 0, "failed without waiting for the timeout");
  });

  it("a reader whose first next() throws fails with that error's code", async () => {
    const body = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          throw Object.assign(new Error("bad descriptor"), { code: "EBADF" });
        },
      }),
    } as AsyncIterable<Uint8Array>;
    const http = context(() => Promise.resolve(answer(200, body)));
    const error = await rejection(send(http, "https://api.example.com/x", { method: "GET", headers: {} }, options));
    assert.ok(error instanceof TransportError);
    assert.equal(error.message, "request to api.example.com failed: EBADF");
  });

  it("a body of one chunk is given as it came, without a copy", async () => {
    const chunk = bytes("only");
    assert.equal(await readAll(answer(200, streamOf(chunk))), chunk);
  });

  it("leaves no listener on the caller's signal once it settles: answered, failed or timed out", async () => {
    const signal = new AbortController().signal;
    const listeners = trackListeners(signal);
    const transports: HttpTransport[] = [
      () => Promise.resolve(answer(200, streamOf(bytes("ok")))),
      () => Promise.reject(Object.assign(new Error("x"), { code: "ECONNRESET" })),
      deaf,
    ];
    for (const transport of transports) {
      const http = context(transport);
      const pending = send(http, "https://api.example.com/x", { method: "GET", headers: {} }, { ...options, signal });
      pending.catch(() => {});
      await http.clock.advance(1000);
      await pending.catch(() => {});
      assert.equal(listeners.active, 0, "no abort listener left behind");
    }
  });
});
