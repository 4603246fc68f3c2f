/**
 * src/internal/text.ts: the sanitiser for foreign text, header-safe values, loopback hosts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isHeaderSafe, isLoopbackHost, sanitize } from "../../src/internal/text.ts";

describe("sanitize", () => {
  it("turns control characters (ESC, CR, LF, NUL, DEL, C1, line separators) into one space", () => {
    assert.equal(sanitize("a\x1b[31mred\x1b[0m"), "a [31mred [0m");
    assert.equal(sanitize("line1\r\nX-Injected: yes"), "line1 X-Injected: yes");
    assert.equal(sanitize("a\x00b\x7fc\x9bd\u2028e\u2029f\tg"), "a b c d e f g");
    assert.equal(sanitize("\n\n  padded \r\n"), "padded");
    const out = sanitize("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x1f\x7f\x80\x9f");
    assert.equal(out, "");
  });

  it("keeps printable Unicode", () => {
    assert.equal(sanitize("grüße ✓ 日本"), "grüße ✓ 日本");
  });

  it("bounds the length (an ellipsis included)", () => {
    assert.equal(sanitize("x".repeat(500)).length, 200);
    assert.ok(sanitize("x".repeat(500)).endsWith("…"));
    assert.equal(sanitize("abcdef", 4), "abc…");
    assert.equal(sanitize("abcd", 4), "abcd");
  });

  it("redacts secrets before bounding, so no prefix of a secret survives", () => {
    const secret = "tok-0123456789abcdef";
    assert.equal(sanitize(`bad token ${secret} given`, 200, [secret]), "bad token [redacted] given");
    assert.equal(sanitize(`${secret}${secret}`, 200, [secret]), "[redacted][redacted]");
    const cut = sanitize(`${"x".repeat(15)}${secret}`, 20, [secret]);
    assert.ok(!cut.includes("tok-"), cut);
  });

  it("ignores missing and very short secrets (they would redact ordinary words); four characters count", () => {
    assert.equal(sanitize("a b abc", 200, [undefined, "", "a", "abc"]), "a b abc");
    assert.equal(sanitize("key abcd here", 200, ["abcd"]), "key [redacted] here");
  });

  it("stringifies anything", () => {
    assert.equal(sanitize(42), "42");
    assert.equal(sanitize(null), "null");
    assert.equal(sanitize(undefined), "undefined");
    assert.equal(sanitize({ toString: () => "obj\nline" }), "obj line");
  });
});

describe("isHeaderSafe", () => {
  it("accepts visible ASCII without spaces", () => {
    assert.equal(isHeaderSafe("AKIAIOSFODNN7EXAMPLE"), true);
    assert.equal(isHeaderSafe("a+b/c=d~!"), true);
  });

  it("refuses the empty string, spaces, controls, non-ASCII and non-strings", () => {
    for (const bad of ["", " ", "a b", "a\r\nb", "tok\n", "\x00", "é", "✓", "a\tb", "\x7f"]) {
      assert.equal(isHeaderSafe(bad), false, JSON.stringify(bad));
    }
    for (const bad of [undefined, null, 42, ["a"], { a: 1 }]) assert.equal(isHeaderSafe(bad), false);
  });
});

describe("isLoopbackHost (anchored)", () => {
  it("accepts localhost, 127.0.0.0/8 and [::1]", () => {
    for (
      const host of [
        "localhost",
        "127.0.0.1",
        "127.0.0.0",
        "127.255.255.255",
        "127.1.2.3",
        "127.12.34.56",
        "127.200.201.249",
        "127.99.100.199",
        "[::1]",
      ]
    ) {
      assert.equal(isLoopbackHost(host), true, host);
    }
  });

  it("refuses look-alikes and everything else", () => {
    for (
      const host of [
        "127.0.0.1.evil.example",
        "127.0.0.1.",
        "evil127.0.0.1",
        "x.127.0.0.1",
        "localhost.evil.example",
        "evil-localhost",
        "127.256.0.1",
        "127.0.0",
        "128.0.0.1",
        "0.0.0.0",
        "10.0.0.1",
        "169.254.169.254",
        "::1",
        "[::2]",
        "[::ffff:127.0.0.1]",
        "",
      ]
    ) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });

  it("agrees with how URL parses the hosts a user may write", () => {
    const loop = (raw: string) => isLoopbackHost(new URL(raw).hostname);
    assert.equal(loop("http://LOCALHOST:8080"), true);
    assert.equal(loop("http://127.1/"), true, "URL normalises 127.1 to 127.0.0.1");
    assert.equal(loop("http://0x7f000001/"), true, "URL normalises hex to 127.0.0.1");
    assert.equal(loop("http://[0:0:0:0:0:0:0:1]/"), true, "URL compresses to [::1]");
    assert.equal(loop("http://127.0.0.1.evil.example/"), false);
    assert.equal(loop("http://127.0.0.1%2eevil.example/"), false);
  });
});
