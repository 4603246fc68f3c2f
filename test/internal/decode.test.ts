/**
 * src/internal/decode.ts: bytes → text → JSON → schema, with failures that name the field and
 * the problem but never echo a value.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as v from "valibot";
import { check, decodeJson, isRecord, kindOf, matching, parseJson, text } from "../../src/internal/decode.ts";
import { bytes } from "./_helpers.ts";

const SECRET = "s3cret-value-that-must-not-show";

const Schema = v.object({
  id: matching(/^\d{12}$/, "id is not 12 digits"),
  data: v.object({ keys: v.array(v.string()) }),
  mail: v.optional(v.pipe(v.string(), v.email())),
  kind: v.optional(v.picklist(["a", "b"])),
});

/** Decodes and returns the problem text (the message `fail` was given). */
function problemOf(body: Uint8Array, schema: v.GenericSchema = Schema, contentType?: string | null): string {
  let problem = "";
  assert.throws(() =>
    decodeJson(body, schema, (p) => {
      problem = p;
      return new Error(p);
    }, contentType)
  );
  return problem;
}

describe("decodeJson", () => {
  it("returns the validated value", () => {
    const value = decodeJson(
      bytes(JSON.stringify({ id: "123456789012", data: { keys: ["a", "b/"] } })),
      Schema,
      (p) => new Error(p),
    );
    assert.deepEqual(value, { id: "123456789012", data: { keys: ["a", "b/"] } });
  });

  it("an empty body is empty; a body that is not JSON names its content type and size only", () => {
    assert.equal(problemOf(new Uint8Array(0)), "is empty");
    const html = `<html>${SECRET}</html>`;
    assert.equal(
      problemOf(bytes(html), Schema, "text/html; charset=utf-8"),
      `is not JSON (text/html, ${html.length} bytes)`,
    );
    assert.equal(problemOf(bytes(SECRET), Schema, null), `is not JSON (no content type, ${SECRET.length} bytes)`);
  });

  it("a value of the wrong type names the path, the expected type and the kind of value only", () => {
    const problem = problemOf(bytes(JSON.stringify({ id: "123456789012", data: { keys: SECRET } })));
    assert.match(problem, /^is invalid: data\.keys: expected Array, got a string$/);
  });

  it("a missing field is named as missing", () => {
    assert.equal(problemOf(bytes(JSON.stringify({ data: { keys: [] } }))), "is invalid: id is missing");
  });

  it("a field failing our own check gives our message, without the value", () => {
    const problem = problemOf(bytes(JSON.stringify({ id: SECRET, data: { keys: [] } })));
    assert.equal(problem, "is invalid: id: id is not 12 digits");
  });

  it("a field failing a library check (whose default message quotes the input) gives no value", () => {
    const problem = problemOf(bytes(JSON.stringify({ id: "123456789012", data: { keys: [] }, mail: SECRET })));
    assert.equal(problem, "is invalid: mail failed its email check");
    const picked = problemOf(bytes(JSON.stringify({ id: "123456789012", data: { keys: [] }, kind: SECRET })));
    assert.ok(!picked.includes(SECRET), picked);
    assert.match(picked, /^is invalid: kind: expected /);
  });

  it("no problem ever contains a value, whatever the body", () => {
    const bodies: unknown[] = [
      SECRET,
      [SECRET],
      { id: SECRET },
      { id: 123456789012, data: SECRET },
      { id: "123456789012", data: { keys: [SECRET, 7] } },
      { id: [SECRET], data: { keys: { [SECRET]: SECRET } }, mail: SECRET, kind: SECRET },
      null,
    ];
    for (const body of bodies) {
      const problem = problemOf(bytes(JSON.stringify(body)));
      assert.ok(!problem.includes(SECRET) && !problem.includes("s3cret"), problem);
    }
  });

  it("lists at most three problems", () => {
    const problem = problemOf(
      bytes(JSON.stringify({ a: 1 })),
      v.object({ a: v.string(), b: v.string(), c: v.string(), d: v.string() }),
    );
    assert.equal(problem.split("; ").length, 3);
    assert.match(problem, /^is invalid: a: expected string, got a number; b is missing; c is missing$/);
  });

  it("a problem at the root is named (root)", () => {
    assert.equal(problemOf(bytes("7"), v.object({})), "is invalid: (root): expected Object, got a number");
  });
});

describe("decode helpers", () => {
  it("kindOf describes without showing", () => {
    assert.equal(kindOf(null), "null");
    assert.equal(kindOf([SECRET]), "an array");
    assert.equal(kindOf({ SECRET }), "an object");
    assert.equal(kindOf(SECRET), "a string");
    assert.equal(kindOf(42), "a number");
    assert.equal(kindOf(true), "a boolean");
    assert.equal(kindOf(undefined), "nothing");
    assert.equal(kindOf(10n), "a bigint");
  });

  it("isRecord: objects only, not arrays or null", () => {
    assert.equal(isRecord({}), true);
    assert.equal(isRecord(Object.create(null)), true);
    assert.equal(isRecord([]), false);
    assert.equal(isRecord(null), false);
    assert.equal(isRecord("x"), false);
  });

  it("parseJson drops the parser's message (it may quote the text)", () => {
    assert.deepEqual(parseJson('{"a":1}'), { value: { a: 1 } });
    assert.deepEqual(parseJson("null"), { value: null });
    assert.equal(parseJson(`{"token": ${SECRET}`), undefined);
  });

  it("text decodes UTF-8, replacing malformed sequences", () => {
    assert.equal(text(bytes("grüße ✓")), "grüße ✓");
    assert.equal(text(new Uint8Array([0x61, 0xff, 0x62])), "a\uFFFDb");
  });

  it("check returns the value or one line of problems", () => {
    assert.deepEqual(check(v.string(), "x"), { ok: true, value: "x" });
    const failed = check(matching(/^a+$/, "name is not all a's"), SECRET);
    assert.deepEqual(failed, { ok: false, problem: "(root): name is not all a's" });
  });
});
