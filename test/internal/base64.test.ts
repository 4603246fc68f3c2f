/**
 * src/internal/base64.ts: strict, canonical base64 for payloads that cross the network.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeBase64, isBase64 } from "../../src/internal/base64.ts";
import { bytes, utf8 } from "./_helpers.ts";

describe("base64", () => {
  it("accepts canonical padded standard base64", () => {
    for (const ok of ["aGVsbG8=", "aGk=", "YWJj", "+/+/", "AAAA"]) assert.equal(isBase64(ok), true, ok);
  });

  it("refuses empty, unpadded, url-safe, whitespace and junk", () => {
    for (
      const bad of ["", "aGVsbG8", "aGk", "-_-_", "aGVs bG8=", "aGVsbG8=\n", "aGVsbG8==", "a===", "====", "not base64!"]
    ) {
      assert.equal(isBase64(bad), false, JSON.stringify(bad));
    }
  });

  it("decodes every byte value", async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.deepEqual(await decodeBase64(btoa(String.fromCharCode(...all))), all);
    assert.equal(utf8(await decodeBase64("aGVsbG8=")), "hello");
    assert.deepEqual(await decodeBase64("AAAA"), bytes("\0\0\0"));
  });
});
