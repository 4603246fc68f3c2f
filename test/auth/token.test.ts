/** The token and its auth payload: parsing, limits, and a value that stays out of logs. */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, test } from "node:test";
import { CerberusToken, type TokenFacts, tokenFromPayload, tokenFromPlaintext } from "../../src/auth/token.ts";
import { PayloadError } from "../../src/errors.ts";
import { tokenAt } from "../support.ts";

const facts: TokenFacts = {
  method: "kms",
  principal: "arn:aws:iam::111122223333:role/app-role",
  region: "us-west-2",
  startedAt: Date.UTC(2026, 10, 29, 12),
};
const enc = new TextEncoder();
const parse = (value: unknown) => tokenFromPayload(value, facts, "auth-payload", "the payload");

/** The PayloadError `tokenFromPayload` threw for `value`. */
function refusal(value: unknown): PayloadError {
  try {
    parse(value);
  } catch (error) {
    assert.ok(error instanceof PayloadError, String(error));
    assert.equal(error.step, "auth-payload");
    return error;
  }
  assert.fail("accepted");
}

describe("auth payload", () => {
  test("a full payload: the lease counts from when authentication started", () => {
    const token = parse({
      client_token: "tok-abc",
      policies: ["read"],
      metadata: { username: "u", is_admin: "false" },
      lease_duration: 3600,
      renewable: false,
    });
    assert.equal(token.reveal(), "tok-abc");
    assert.deepEqual({ ...token.info }, {
      method: "kms",
      principal: facts.principal,
      region: "us-west-2",
      policies: ["read"],
      metadata: { username: "u", is_admin: "false" },
      leaseDurationSeconds: 3600,
      issuedAt: new Date(facts.startedAt),
      expiresAt: new Date(facts.startedAt + 3600_000),
      renewable: false,
    });
    assert.ok(Object.isFrozen(token.info));
  });

  test("optional fields default; null ones too", () => {
    const token = parse({ client_token: "t", lease_duration: 60, policies: null, metadata: null, renewable: null });
    assert.deepEqual(token.info.policies, []);
    assert.deepEqual(token.info.metadata, {});
    assert.equal(token.info.renewable, false);
  });

  test("the server's truncated form is accepted", () => {
    const token = parse({
      client_token: "t",
      policies: ["_truncated"],
      metadata: { _truncated: "true" },
      lease_duration: 3600,
    });
    assert.deepEqual(token.info.policies, ["_truncated"]);
    assert.deepEqual(token.info.metadata, { _truncated: "true" });
  });

  test("metadata values become sanitised strings; null values are dropped", () => {
    const token = parse({
      client_token: "t",
      lease_duration: 1,
      metadata: { n: 1, b: true, o: { a: 1 }, gone: null, "k\ney": "v\u001b[2J" },
    });
    assert.deepEqual(token.info.metadata, { n: "1", b: "true", o: '{"a":1}', "k ey": "v [2J" });
  });

  test("lease_duration: a whole number of seconds from 1 to a year (0 would re-authenticate on every call)", () => {
    assert.equal(parse({ client_token: "t", lease_duration: 1 }).info.leaseDurationSeconds, 1);
    assert.equal(parse({ client_token: "t", lease_duration: 31_536_000 }).info.leaseDurationSeconds, 31_536_000);
    for (const lease of [0, 31_536_001, -1, 1.5, 1e13, Number.MAX_SAFE_INTEGER]) {
      assert.match(
        refusal({ client_token: "t", lease_duration: lease }).message,
        /lease_duration: lease_duration is not a whole number of seconds from 1 to a year/,
      );
    }
    // Wrong type or missing: the message names the field (its wording is the decoder's), never the value.
    const wrongType = refusal({ client_token: "t", lease_duration: "soon-ish" }).message;
    assert.match(wrongType, /^the payload is invalid: lease_duration/);
    assert.ok(!wrongType.includes("soon-ish"));
    assert.match(refusal({ client_token: "t" }).message, /^the payload is invalid: lease_duration/);
  });

  test("client_token must be visible ASCII, and is never quoted", () => {
    assert.match(refusal({ lease_duration: 1 }).message, /^the payload is invalid: client_token/);
    for (const bad of ["", "has space-secret", "new\nline-secret", "ünicode-secret"]) {
      const error = refusal({ client_token: bad, lease_duration: 1 });
      assert.match(error.message, /client_token: client_token is empty or has characters a header cannot carry/);
      if (bad) assert.ok(!error.message.includes(bad.slice(-6)), error.message);
    }
    assert.ok(!refusal({ client_token: 42, lease_duration: 1 }).message.includes("42"));
  });

  test("anything but an object is refused by kind", () => {
    assert.equal(refusal([]).message, "the payload is an array, not a JSON object");
    assert.equal(refusal(null).message, "the payload is null, not a JSON object");
    assert.equal(refusal("tok").message, "the payload is a string, not a JSON object");
  });

  test("a decrypted payload must be UTF-8 JSON", () => {
    assert.equal(
      tokenFromPlaintext(enc.encode('{"client_token":"t","lease_duration":5}'), facts).info.leaseDurationSeconds,
      5,
    );
    assert.throws(
      () => tokenFromPlaintext(new Uint8Array([0xff, 0xfe, 0x00]), facts),
      /the decrypted auth payload is not UTF-8 text/,
    );
    assert.throws(
      () => tokenFromPlaintext(enc.encode("client_token=secret-ish"), facts),
      (e: unknown) =>
        e instanceof PayloadError && e.step === "auth-payload" &&
        e.message === "the decrypted auth payload is not JSON (23 bytes)",
    );
    assert.throws(
      () => tokenFromPlaintext(enc.encode("[]"), facts),
      /the decrypted auth payload is an array, not a JSON object/,
    );
  });
});

describe("a token's value stays out of logs", () => {
  test("inspect, JSON and strings show no value; reveal does", () => {
    const token = new CerberusToken("super-secret-token", { ...tokenAt(0, 1).info, principal: "arn:p" });
    const shown = [
      inspect(token),
      JSON.stringify(token),
      String(token),
      `${token}`,
      inspect({ nested: { token } }, { depth: 5 }),
      inspect([token], { showHidden: true }),
    ];
    for (const text of shown) assert.ok(!text.includes("super-secret-token"), text);
    assert.equal(String(token), "[CerberusToken arn:p]");
    assert.equal(JSON.parse(JSON.stringify(token)).token, "[redacted]");
    assert.equal(token.reveal(), "super-secret-token");
  });
});
