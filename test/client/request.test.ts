/** Requests to Cerberus: headers, error answers turned into typed errors, the token scrubbed from server text. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as v from "valibot";
import { callCerberus, cerberusError, type CerberusSession, decodeAnswer } from "../../src/client/request.ts";
import {
  AccessDeniedError,
  CerberusApiError,
  NotFoundError,
  PayloadError,
  UnexpectedAnswerError,
} from "../../src/errors.ts";
import type { Answer } from "../../src/internal/http.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { createWorld, rejection, sentTokens } from "../support.ts";
import { readSecret } from "../../src/api/secrets.ts";

const enc = new TextEncoder();
const call = {
  what: "reading app/demo/config",
  step: "request" as const,
  method: "GET" as const,
  path: "/v1/secret/app/demo/config?versionId=x",
};

/** The error as a CerberusApiError (the test fails if it is another class). */
function apiError(error: unknown): CerberusApiError {
  assert.ok(error instanceof CerberusApiError, String(error));
  return error;
}

function answer(
  status: number,
  body: string | object,
  headers: Record<string, string> = { "content-type": "application/json" },
): Answer {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const h = new Headers(headers);
  return { status, headers: { get: (name) => h.get(name) }, body: enc.encode(text) };
}

describe("error answers", () => {
  test("current bodies: codes, messages and the error id", () => {
    const error = apiError(cerberusError(
      answer(400, {
        error_id: "id-1",
        errors: [{ code: 99216, message: "The specified IAM principal is not valid." }],
      }),
      call,
    ));
    assert.equal(error.code, "CERBERUS_ERROR");
    assert.equal(error.status, 400);
    assert.equal(error.step, "request");
    assert.deepEqual(error.codes, [99216]);
    assert.equal(error.errorId, "id-1");
    assert.equal(
      error.message,
      "reading app/demo/config: Cerberus answered HTTP 400: 99216 The specified IAM principal is not valid.",
    );
  });

  test("Vault-style string errors, and no errors at all", () => {
    const vault = apiError(cerberusError(answer(403, { errors: ["permission denied"] }), call));
    assert.ok(vault instanceof AccessDeniedError);
    assert.equal(vault.code, "ACCESS_DENIED");
    assert.deepEqual(vault.errors.map((e) => [e.code, e.message]), [[undefined, "permission denied"]]);
    assert.deepEqual(vault.codes, []);
    assert.match(vault.message, /HTTP 403: permission denied$/);
    assert.match(cerberusError(answer(500, {}), call).message, /HTTP 500: no details$/);
  });

  test("404 is a NotFoundError", () => {
    const error = cerberusError(answer(404, ""), call);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.code, "NOT_FOUND");
    assert.match(error.message, /HTTP 404 with an empty body/);
  });

  test("bodies that are not Cerberus errors say what they were", () => {
    assert.match(cerberusError(answer(502, { errors: "nope" }), call).message, /HTTP 502 with an unexpected JSON body/);
    const waf = cerberusError(
      answer(403, "<html>\n  <b>blocked</b>\u001b[2J</html>", { "content-type": "text/html; charset=utf-8" }),
      call,
    );
    assert.ok(waf instanceof UnexpectedAnswerError);
    assert.equal(waf.code, "UNEXPECTED_ANSWER");
    assert.equal(waf.status, 403);
    assert.equal(waf.contentType, "text/html");
    assert.equal(waf.excerpt, "<html> <b>blocked</b> [2J</html>");
    assert.equal(
      waf.message,
      'reading app/demo/config: the answer is not Cerberus JSON (HTTP 403, text/html, 34 bytes: "<html> <b>blocked</b> [2J</html>"); a WAF or proxy in front of Cerberus?',
    );
    assert.match(
      cerberusError(answer(500, "oops", {}), call).message,
      /\(HTTP 500, no content type, 4 bytes: "oops"\)/,
    );
  });

  test("server text is sanitised: control characters, length, at most ten entries", () => {
    const errors = Array.from(
      { length: 12 },
      (_, i) => ({ code: i, message: `line\u001b[31m\r\nnext ${"x".repeat(300)}` }),
    );
    const error = apiError(cerberusError(answer(400, { error_id: "id\n\u0007", errors }), call));
    assert.equal(error.errors.length, 10);
    for (const e of error.errors) {
      // deno-lint-ignore no-control-regex
      assert.ok(!/[\u0000-\u001f]/.test(e.message), e.message);
      assert.ok(e.message.length <= 200);
    }
    assert.equal(error.errorId, "id");
    // deno-lint-ignore no-control-regex
    assert.ok(!/[\u0000-\u001f\u007f]/.test(error.message));
  });

  test("the token is scrubbed from server messages", () => {
    const token = "tok-1234567890-secret";
    const error = apiError(cerberusError(
      answer(401, { errors: [{ code: 99105, message: `token ${token} is invalid` }, `also ${token}`] }),
      { ...call, token },
    ));
    assert.ok(!error.message.includes(token), error.message);
    assert.ok(!JSON.stringify(error.errors).includes(token));
    assert.equal(error.errors[0]!.message, "token [redacted] is invalid");
    assert.equal(error.errors[1]!.message, "also [redacted]");
  });

  test("a redirect names the target's origin only", () => {
    const at = (location?: string) =>
      cerberusError(
        { ...answer(307, ""), headers: { get: (n) => (n === "location" ? (location ?? null) : null) } },
        call,
      ).message;
    assert.match(
      at("https://evil.example:8443/steal?token=x"),
      /redirect \(HTTP 307\) to https:\/\/evil\.example:8443; not followed, so the token goes nowhere else$/,
    );
    assert.match(at(undefined), /to nowhere;/);
    assert.match(at("http://[bad"), /to an invalid location;/);
  });
});

describe("decoding answers", () => {
  const schema = v.object({ data: v.string() });
  test("JSON of the wrong shape is a PayloadError naming the call, its endpoint and the field", () => {
    const failure = (a: Answer) => {
      try {
        decodeAnswer(a, schema, call);
      } catch (error) {
        assert.ok(error instanceof PayloadError);
        assert.equal(error.step, "request");
        return error.message;
      }
      assert.fail("decoded");
    };
    const wrong = failure(answer(200, { data: 12345 }));
    assert.equal(
      wrong,
      "Cerberus's answer to reading app/demo/config (GET /v1/secret/app/demo/config) is invalid: data: expected string, got a number",
    );
    assert.ok(!wrong.includes("12345"), "the value is not echoed");
    assert.deepEqual(decodeAnswer(answer(200, { data: "x" }), schema, call), { data: "x" });
  });

  test("an empty or non-JSON 2xx body is an UnexpectedAnswerError with an excerpt free of the token", () => {
    const token = "tok-1234567890-secret";
    const thrown = (a: Answer) => {
      try {
        decodeAnswer(a, schema, { ...call, token });
      } catch (error) {
        assert.ok(error instanceof UnexpectedAnswerError);
        return error;
      }
      assert.fail("decoded");
    };
    assert.equal(thrown(answer(200, "")).excerpt, "");
    const portal = thrown(answer(200, `<p>hello ${token}</p>`, { "content-type": "text/html" }));
    assert.equal(portal.status, 200);
    assert.equal(portal.excerpt, "<p>hello [redacted]</p>");
    assert.ok(!portal.message.includes(token));
  });
});

describe("sending", () => {
  test("headers, JSON bodies, allowed statuses", async () => {
    const clock = new ManualClock();
    const seen: { url: string; headers: Record<string, string>; body: unknown; method: string }[] = [];
    const session: CerberusSession = {
      http: {
        clock,
        transport: (url, init) => {
          seen.push({ url, headers: init.headers, body: init.body, method: init.method });
          return Promise.resolve(
            new Response(url.endsWith("missing") ? null : "{}", { status: url.endsWith("missing") ? 404 : 200 }),
          );
        },
      },
      cerberus: {
        baseUrl: "https://cerberus.example",
        clientHeader: "cerberus-edge/test",
        timeoutMs: 1000,
        attempts: 1,
        maxFileBytes: 1024,
      },
    };
    await callCerberus(session, {
      ...call,
      method: "POST",
      path: "/v2/auth/iam-principal",
      json: { a: 1 },
      headers: { "X-Extra": "1" },
    });
    const listed = await callCerberus(session, {
      ...call,
      method: "GET",
      path: "/v1/secret/missing",
      token: "tok",
      allow: [404],
    });
    assert.equal(listed.status, 404);
    const error = await rejection(
      callCerberus(session, { ...call, method: "GET", path: "/v1/secret/missing", token: "tok" }),
    );
    assert.ok(error instanceof CerberusApiError);
    assert.deepEqual(seen[0], {
      url: "https://cerberus.example/v2/auth/iam-principal",
      method: "POST",
      headers: {
        "X-Extra": "1",
        "X-Cerberus-Client": "cerberus-edge/test",
        Accept: "application/json",
        "Content-Type": "application/json",
      },
      body: '{"a":1}',
    });
    assert.deepEqual(seen[1], {
      url: "https://cerberus.example/v1/secret/missing",
      method: "GET",
      headers: { "X-Cerberus-Client": "cerberus-edge/test", Accept: "application/json", "X-Cerberus-Token": "tok" },
      body: undefined,
    });
    assert.equal(clock.pending, 0, "every timeout timer is cancelled");
  });

  test("through the client: a server error quoting the token is scrubbed", async () => {
    const { client, stack, sent } = createWorld();
    await readSecret(client, "app/demo/config");
    const [token] = sentTokens(sent);
    stack.faults.inject(
      "cerberus",
      {
        kind: "body",
        status: 403,
        body: JSON.stringify({ error_id: "e", errors: [{ code: 99994, message: `Access denied for token ${token}` }] }),
        headers: { "content-type": "application/json" },
      },
      { path: "/v1/secret/" },
    );
    const error = await rejection(readSecret(client, "app/demo/config"));
    assert.ok(error instanceof CerberusApiError);
    assert.equal(error.status, 403);
    assert.ok(!error.message.includes(token!), error.message);
    assert.match(error.message, /Access denied for token \[redacted\]/);
    assert.equal(error.errors[0]!.message, "Access denied for token [redacted]");
  });
});
