/** Secret paths: checked, then percent-encoded segment by segment. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeSecretPath } from "../../src/client/paths.ts";
import { InvalidInputError } from "../../src/errors.ts";

/** What `encodeSecretPath` threw. */
function refusal(path: unknown, rules: Parameters<typeof encodeSecretPath>[1] = { minSegments: 3 }): InvalidInputError {
  try {
    encodeSecretPath(path, rules);
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, String(error));
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(path)}`);
}

describe("secret paths", () => {
  test("valid paths are encoded per segment", () => {
    assert.equal(encodeSecretPath("app/demo/config", { minSegments: 3 }), "app/demo/config");
    assert.equal(encodeSecretPath("/app/demo/a b/ü", { minSegments: 3 }), "app/demo/a%20b/%C3%BC");
    assert.equal(encodeSecretPath("app/demo/with space?#", { minSegments: 3 }), "app/demo/with%20space%3F%23");
    assert.equal(encodeSecretPath("app/demo/", { folder: true }), "app/demo/");
    assert.equal(
      encodeSecretPath("app/dé mo/", { folder: true }),
      "app/d%C3%A9%20mo/",
      "an encoded folder keeps its /",
    );
    assert.equal(encodeSecretPath("app/demo"), "app/demo");
  });

  for (
    const [path, message] of [
      ["", /is empty/],
      ["/", /is empty/],
      ["app/../etc/passwd", /contains a "\.\." segment/],
      ["app/./demo/x", /contains a "\." segment/],
      ["app//demo", /empty segment at position 2/],
      ["app/demo/x\u0000y", /control character/],
      ["app/demo/x\ny", /control character/],
      ["app/demo/x\u007fy", /control character/],
      ["app/demo/x\u0085y", /control character/],
      ["app/demo/x\u2028y", /control character/],
      ["app\\demo\\x", /backslash/],
      ["app", /needs at least 3 segments: <category>\/<sdb>\/<name>/],
      ["app/demo/config/", /ends with "\/"; name a secret, not a folder/],
      ["app/demo/\ud800", /not well-formed Unicode \(a lone surrogate\)/],
    ] as const
  ) {
    test(`refuses ${JSON.stringify(path)}`, () => {
      const error = refusal(path);
      assert.equal(error.field, "path");
      assert.equal(error.code, "INVALID_INPUT");
      assert.equal(error.step, "config");
      assert.match(error.message, /^path: /);
      assert.match(error.message, message);
    });
  }

  test("two segments are enough for a listing, not for a secret", () => {
    assert.match(refusal("app", { folder: true }).message, /needs at least 2 segments: <category>\/<sdb>$/);
    assert.match(refusal("app/demo").message, /needs at least 3 segments/);
  });

  test("non-strings are a typed error naming what they were", () => {
    assert.match(refusal(42).message, /path: must be a string, got number/);
    assert.match(refusal(null).message, /got null/);
    assert.match(refusal(undefined).message, /got undefined/);
  });

  test("the field name can be changed; echoed paths are sanitised and shortened", () => {
    assert.equal(refusal("a/../b", { field: "file" }).field, "file");
    const long = refusal(`app/${"x".repeat(300)}/`, { minSegments: 3 });
    assert.ok(long.message.length < 200, long.message);
    assert.match(long.message, /…"/);
  });
});
