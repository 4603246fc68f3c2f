/**
 * Property tests (fast-check) on random and hostile input for the code that stands between the
 * network or the caller and a request: secret paths, header values, endpoint URLs, payload and
 * error-body parsing, and the sanitiser. Each property says what must hold for every input: a
 * typed error or a safe result, never a foreign exception, never a secret echoed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { tokenFromPayload, tokenFromPlaintext } from "../src/auth/token.ts";
import { tokenAuth } from "../src/auth/token-auth.ts";
import { encodeSecretPath } from "../src/client/paths.ts";
import { cerberusError, decodeAnswer } from "../src/client/request.ts";
import {
  CerberusApiError,
  CerberusEdgeError,
  InvalidInputError,
  PayloadError,
  UnexpectedAnswerError,
} from "../src/errors.ts";
import { endpointUrl } from "../src/internal/endpoint.ts";
import type { Answer } from "../src/internal/http.ts";
import { hasControl, isHeaderSafe, isLoopbackHost, sanitize } from "../src/internal/text.ts";
import * as v from "valibot";
import { thrown } from "./internal/_helpers.ts";

const RUNS = { numRuns: 500 };
const hostile = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
  fc.constantFrom(
    "..",
    ".",
    "/",
    "//",
    "a/../b",
    "a/./b",
    "\\",
    "a\\b",
    "%2e%2e",
    "\u0000",
    "\r\n",
    "\u001b[2J",
    "\ud800",
  ),
);

describe("properties: secret paths", () => {
  test("any input is either refused with an InvalidInputError or encoded so that it decodes back", () => {
    fc.assert(
      fc.property(fc.array(hostile, { maxLength: 5 }).map((parts) => parts.join("/")), (path) => {
        let encoded: string;
        try {
          encoded = encodeSecretPath(path, { minSegments: 1, folder: true });
        } catch (error) {
          assert.ok(error instanceof InvalidInputError, String(error));
          assert.ok(!hasControl(error.message), "the message is one clean line");
          return;
        }
        assert.ok(!hasControl(encoded) && !/[ ?#\\]/.test(encoded), `no control, space, ?, # or \\ in ${encoded}`);
        const segments = encoded.replace(/\/$/, "").split("/");
        for (const segment of segments) assert.ok(segment !== "" && segment !== "." && segment !== "..");
        const original = path.replace(/^\//, "").replace(/\/$/, "");
        assert.equal(segments.map(decodeURIComponent).join("/"), original);
      }),
      RUNS,
    );
  });
});

describe("properties: header values", () => {
  test("a value the library calls header-safe goes into a header unchanged; a pasted token is that or refused", () => {
    fc.assert(
      fc.property(hostile, (value) => {
        if (isHeaderSafe(value)) {
          assert.equal(new Headers({ "x-test": value }).get("x-test"), value);
          assert.ok(!/\s/.test(value) && !hasControl(value));
        }
        const error = thrown(() => tokenAuth(value));
        if (error !== undefined) {
          assert.ok(error instanceof InvalidInputError);
          assert.ok(!error.message.includes(value) || value.length < 4, "the refused token is not echoed");
        } else assert.ok(isHeaderSafe(value));
      }),
      RUNS,
    );
  });
});

describe("properties: endpoint URLs", () => {
  test("any string is refused with an InvalidInputError or becomes an https: URL, or http: to loopback, without user info", () => {
    const urlish = fc.oneof(
      hostile,
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.tuple(fc.constantFrom("http://", "https://", "ftp://", "HTTP://"), fc.domain(), fc.string()).map(([a, b, c]) =>
        a + b + c
      ),
      fc.tuple(fc.constantFrom("http://", "https://"), fc.string(), fc.constantFrom("@", ":"), fc.domain()).map(
        (parts) => parts.join(""),
      ),
    );
    fc.assert(
      fc.property(urlish, (raw) => {
        let url: URL;
        try {
          url = endpointUrl(raw, "CERBERUS_URL", "loopback");
        } catch (error) {
          assert.ok(error instanceof InvalidInputError, String(error));
          assert.ok(!hasControl(error.message));
          return;
        }
        assert.ok(url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname)), url.href);
        assert.equal(url.username, "");
        assert.equal(url.password, "");
        assert.equal(url.search, "");
        assert.equal(url.hash, "");
      }),
      RUNS,
    );
  });

  test("a host that only starts or ends like loopback is never loopback", () => {
    fc.assert(
      fc.property(fc.domain(), (domain) => {
        for (
          const host of [
            `127.0.0.1.${domain}`,
            `localhost.${domain}`,
            `${domain}.127.0.0.1`,
            `evil-127.0.0.1.${domain}`,
          ]
        ) {
          assert.equal(isLoopbackHost(host), false, host);
          assert.ok(thrown(() => endpointUrl(`http://${host}/`, "url", "loopback")) instanceof InvalidInputError);
        }
      }),
      RUNS,
    );
  });
});

describe("properties: payloads and error bodies from the network", () => {
  const facts = { method: "kms", principal: "arn:aws:iam::111122223333:role/app", startedAt: 0 };

  test("any JSON value as an auth payload gives a token with a lease of 1 s to a year, or a PayloadError", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({
            client_token: fc.oneof(fc.string(), fc.integer()),
            lease_duration: fc.oneof(fc.integer(), fc.double(), fc.string()),
            policies: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
            metadata: fc.jsonValue(),
          }, { requiredKeys: [] }),
        ),
        (payload) => {
          try {
            const token = tokenFromPayload(payload, facts, "auth-payload", "the payload");
            assert.ok(token.info.leaseDurationSeconds >= 1 && token.info.leaseDurationSeconds <= 31_536_000);
            assert.ok(isHeaderSafe(token.reveal()));
            assert.ok(Number.isFinite(token.info.expiresAt.getTime()));
          } catch (error) {
            assert.ok(error instanceof PayloadError, String(error));
          }
        },
      ),
      RUNS,
    );
  });

  test("any bytes as a decrypted payload are a token or a PayloadError that never echoes them", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          tokenFromPlaintext(bytes, facts);
        } catch (error) {
          assert.ok(error instanceof PayloadError, String(error));
        }
      }),
      RUNS,
    );
  });

  test("any answer to a call decodes, or is a PayloadError or an UnexpectedAnswerError", () => {
    const call = { what: "reading app/demo/x", step: "request" as const, method: "GET" as const, path: "/v1/secret/x" };
    const schema = v.object({ data: v.record(v.string(), v.string()) });
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array(), fc.jsonValue().map((j) => new TextEncoder().encode(JSON.stringify(j)))),
        (body) => {
          const answer: Answer = { status: 200, headers: { get: () => null }, body };
          const error = thrown(() => decodeAnswer(answer, schema, call));
          assert.ok(
            error === undefined || error instanceof PayloadError || error instanceof UnexpectedAnswerError,
            String(error),
          );
        },
      ),
      RUNS,
    );
  });

  test("any error answer is a typed error whose message is one line without the token", () => {
    const token = "tok-0123456789-secret";
    const bodyWithToken = fc.oneof(
      fc.jsonValue().map((j) => JSON.stringify(j)),
      fc.string(),
      fc.array(fc.record({ code: fc.oneof(fc.integer(), fc.string()), message: fc.string() })).map((errors) =>
        JSON.stringify({
          error_id: `id ${token}`,
          errors: errors.map((e) => ({ ...e, message: `${e.message} ${token}` })),
        })
      ),
      fc.string().map((s) => `<html>${s} ${token}</html>`),
    );
    fc.assert(
      fc.property(fc.integer({ min: 300, max: 599 }), bodyWithToken, (status, text) => {
        const answer: Answer = {
          status,
          headers: { get: (name) => (name === "location" ? `https://x.example/?t=${token}` : null) },
          body: new TextEncoder().encode(text),
        };
        const error = cerberusError(answer, { what: "reading app/demo/x", step: "request", token });
        assert.ok(error instanceof CerberusApiError || error instanceof UnexpectedAnswerError);
        assert.ok(error instanceof CerberusEdgeError);
        assert.ok(!hasControl(error.message), error.message);
        assert.ok(!JSON.stringify({ ...error, message: error.message }).includes(token), error.message);
      }),
      RUNS,
    );
  });
});

describe("properties: the sanitiser", () => {
  test("one line, at most `max` characters, no secret of four or more characters", () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 300 }), fc.array(fc.string({ minLength: 4 }), { maxLength: 3 }), (
        text,
        max,
        secrets,
      ) => {
        const out = sanitize(text, max, secrets);
        assert.ok(!hasControl(out));
        assert.ok(out.length <= max);
        for (const secret of secrets) {
          if (!hasControl(secret) && secret.trim() === secret) assert.ok(!out.includes(secret), `${secret} in ${out}`);
        }
      }),
      RUNS,
    );
  });
});
