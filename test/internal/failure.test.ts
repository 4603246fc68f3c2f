/**
 * src/internal/failure.ts and src/internal/events.ts: foreign errors kept without their text,
 * one-line descriptions of failures, and listeners that cannot break a flow.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AuthenticationError,
  AwsError,
  CerberusApiError,
  CerberusEdgeError,
  InvalidInputError,
} from "../../src/errors.ts";
import type { CerberusEvent } from "../../src/events.ts";
import { emit } from "../../src/internal/events.ts";
import { asLibraryError, describeError, foreignCause } from "../../src/internal/failure.ts";

describe("foreignCause", () => {
  it("keeps the name and the code, withholds the message", () => {
    const stand = foreignCause(
      Object.assign(new TypeError("Invalid header value 's3cret'"), { code: "ERR_INVALID_CHAR" }),
    );
    assert.ok(stand instanceof Error);
    assert.equal(stand.name, "TypeError");
    assert.equal((stand as Error & { code?: string }).code, "ERR_INVALID_CHAR");
    assert.equal(stand.message, "TypeError (ERR_INVALID_CHAR); message withheld");
    assert.ok(!String(stand.stack).includes("s3cret"));
  });

  it("takes the code from the cause (fetch's TypeError), and handles non-errors", () => {
    const stand = foreignCause(new TypeError("fetch failed", { cause: { code: "ECONNRESET" } }));
    assert.equal((stand as Error & { code?: string }).code, "ECONNRESET");
    assert.equal(foreignCause(undefined), undefined);
    assert.equal(foreignCause("s3cret")?.message, "string; message withheld");
  });
});

describe("asLibraryError", () => {
  it("passes library errors through and wraps anything else without its text", () => {
    const own = new InvalidInputError("bad", { field: "x" });
    assert.equal(asLibraryError(own, "config", "reading"), own);
    const wrapped = asLibraryError(new RangeError("s3cret"), "credentials", "the credentials function");
    assert.ok(wrapped instanceof CerberusEdgeError);
    assert.equal(wrapped.code, "INTERNAL");
    assert.equal(wrapped.step, "credentials");
    assert.equal(wrapped.message, "the credentials function failed unexpectedly (RangeError)");
    assert.ok(!JSON.stringify([wrapped.message, (wrapped.cause as Error).message]).includes("s3cret"));
  });
});

describe("describeError", () => {
  it("one line per kind of failure", () => {
    const api = new CerberusApiError("x", {
      step: "cerberus-auth",
      status: 400,
      errors: [{ code: 99216, message: "The specified IAM principal is not valid." }, { message: "plain" }],
    });
    assert.equal(describeError(api), "Cerberus HTTP 400: 99216 The specified IAM principal is not valid.; plain");
    assert.equal(describeError(new CerberusApiError("x", { step: "request", status: 503 })), "Cerberus HTTP 503");
    assert.equal(
      describeError(
        new AwsError("KMS said no", {
          step: "kms-decrypt",
          service: "kms",
          status: 400,
          awsType: "AccessDeniedException",
        }),
      ),
      "KMS AccessDeniedException (HTTP 400)",
    );
    assert.equal(
      describeError(new AwsError("IMDS answered 404", { step: "metadata", service: "imds", status: 404 })),
      "IMDS answered 404",
    );
    assert.equal(describeError(new AuthenticationError("none worked", {})), "none worked");
    assert.equal(describeError(new Error("s3cret")), "unexpected error");
  });
});

describe("emit", () => {
  it("delivers the event, swallows what a listener throws, and tolerates no listener", () => {
    const seen: CerberusEvent[] = [];
    const event: CerberusEvent = { type: "token.refresh", reason: "expiring" };
    emit((e) => seen.push(e), event);
    assert.deepEqual(seen, [event]);
    assert.doesNotThrow(() =>
      emit(() => {
        throw new Error("listener bug");
      }, event)
    );
    assert.doesNotThrow(() => emit(undefined, event));
  });
});
