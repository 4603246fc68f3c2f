/**
 * src/internal/endpoint.ts: which URLs the library will send a request to.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidInputError } from "../../src/errors.ts";
import { endpointUrl } from "../../src/internal/endpoint.ts";

/** The InvalidInputError thrown for `raw`. */
function refusal(raw: unknown, rule: Parameters<typeof endpointUrl>[2] = "loopback", field = "url"): InvalidInputError {
  try {
    endpointUrl(raw, field, rule);
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, String(error));
    return error;
  }
  assert.fail(`${String(raw)} was accepted`);
}

describe("endpointUrl", () => {
  it("accepts https anywhere and strips a trailing slash from the path", () => {
    assert.equal(endpointUrl("https://cerberus.example.com", "url", "loopback").href, "https://cerberus.example.com/");
    assert.equal(
      endpointUrl("https://cerberus.example.com/base/", "url", "loopback").href,
      "https://cerberus.example.com/base",
    );
    assert.equal(endpointUrl("https://cerberus.example.com/base///", "url", "loopback").pathname, "/base");
    assert.equal(endpointUrl(new URL("https://h.example:8443/x"), "url", "loopback").href, "https://h.example:8443/x");
  });

  it("loopback rule: plain http only to localhost, 127.0.0.0/8 and [::1]", () => {
    for (const ok of ["http://localhost:8080", "http://127.0.0.1:1", "http://127.255.0.9/x", "http://[::1]:9000/"]) {
      assert.equal(endpointUrl(ok, "url", "loopback").protocol, "http:", ok);
    }
    for (
      const bad of [
        "http://127.0.0.1.evil.example",
        "http://127.0.0.1.evil.example:8080/x",
        "http://localhost.evil.example",
        "http://evil-127.0.0.1.example",
        "http://10.0.0.5",
        "http://169.254.169.254",
        "http://[::2]",
        "http://0.0.0.0",
        "http://cerberus.example.com",
      ]
    ) {
      const error = refusal(bad);
      assert.match(error.message, /^url: plain http: is not allowed for .*; use https:$/, bad);
    }
  });

  it("names the refused host but nothing else", () => {
    const error = refusal("http://cerberus.example.com:8200/v1/secret/app");
    assert.equal(error.message, "url: plain http: is not allowed for cerberus.example.com; use https:");
  });

  it("never echoes a user name or password, whatever the rule", () => {
    for (const rule of ["loopback", "any", () => true] as const) {
      for (
        const raw of [
          "https://alice:hunter22@cerberus.example.com/",
          "http://alice:hunter22@127.0.0.1:9/",
          "https://hunter22@cerberus.example.com",
          "https://:hunter22@h.example",
        ]
      ) {
        const error = refusal(raw, rule, "CERBERUS_URL");
        assert.equal(error.message, "CERBERUS_URL: must not carry a user name or password");
        assert.equal(error.field, "CERBERUS_URL");
        assert.ok(!error.message.includes("hunter22") && !error.message.includes("alice"));
        assert.equal(error.cause, undefined);
      }
    }
  });

  it("refuses a query or a fragment, even an empty one", () => {
    for (
      const raw of [
        "https://h.example/?token=abc",
        "https://h.example/#x",
        "https://h.example/?",
        "https://h.example/#",
      ]
    ) {
      const error = refusal(raw);
      assert.equal(error.message, "url: must not have a query or fragment");
      assert.ok(!error.message.includes("abc"));
    }
  });

  it("refuses what is not a URL without echoing it, and other schemes by scheme only", () => {
    for (const raw of ["not a url hunter22", "", "::", undefined, null, 42]) {
      assert.equal(refusal(raw).message, "url: is not a valid URL", String(raw));
    }
    assert.equal(refusal("ftp://h.example/x").message, "url: ftp: is not https: or http:");
    assert.equal(refusal("file:///etc/passwd").message, "url: file: is not https: or http:");
  });

  it("rule any allows http anywhere; a function decides by hostname", () => {
    assert.equal(endpointUrl("http://cerberus.internal", "url", "any").host, "cerberus.internal");
    const seen: string[] = [];
    const onlyLinkLocal = (host: string) => {
      seen.push(host);
      return host === "169.254.170.2";
    };
    assert.equal(endpointUrl("http://169.254.170.2/v2", "x", onlyLinkLocal).pathname, "/v2");
    refusal("http://169.254.170.3/v2", onlyLinkLocal);
    assert.equal(
      endpointUrl("https://anything.example", "x", () => false).protocol,
      "https:",
      "https needs no permission",
    );
    assert.ok(seen.includes("169.254.170.2"));
  });

  it("reports the field and the step", () => {
    try {
      endpointUrl("ftp://x", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "any", "metadata");
      assert.fail("accepted");
    } catch (error) {
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.code, "INVALID_INPUT");
      assert.equal(error.field, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
      assert.equal(error.step, "metadata");
    }
    assert.equal(refusal("ftp://x").step, "config");
  });
});
