/**
 * src/aws/endpoints.ts: region names, and the endpoints of the services the library signs for
 * (https, or plain http to this machine only).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkRegion, serviceEndpoint } from "../../src/aws/endpoints.ts";
import { InvalidInputError } from "../../src/errors.ts";
import { envOf } from "./_stack.ts";

const none = () => undefined;

describe("checkRegion", () => {
  it("accepts AWS region names of every partition", () => {
    for (
      const region of [
        "us-west-2",
        "eu-central-1",
        "ap-southeast-5",
        "me-central-1",
        "cn-north-1",
        "us-gov-west-1",
        "us-isob-east-1",
        "il-central-1",
      ]
    ) {
      assert.equal(checkRegion(region, "AWS_REGION"), region);
    }
  });

  it("refuses anything else, naming the field and showing the value sanitised and bounded", () => {
    for (
      const bad of [
        "US-WEST-2",
        "us-west",
        "uswest2",
        "us-west-2 ",
        " us-west-2",
        "us-west-2\n",
        "us-west-123",
        "../us-west-2",
        "",
        "kms.us-west-2.amazonaws.com",
      ]
    ) {
      assert.throws(
        () => checkRegion(bad, "AWS_REGION"),
        (e: unknown) => e instanceof InvalidInputError && e.field === "AWS_REGION" && e.step === "config",
        JSON.stringify(bad),
      );
    }
    for (const bad of [42, undefined, null, ["us-west-2"]]) {
      assert.throws(() => checkRegion(bad, "kmsAuth.region"), InvalidInputError);
    }
    try {
      checkRegion(`us-west-2\x1b[2J${"x".repeat(100)}`, "AWS_REGION", "cerberus-auth");
      assert.fail("accepted");
    } catch (error) {
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.step, "cerberus-auth");
      assert.ok(!error.message.includes("\x1b"));
      assert.ok(error.message.length < 140, error.message);
      assert.match(error.message, /^AWS_REGION: "us-west-2 \[2Jx+…" is not an AWS region name like us-west-2$/);
    }
  });
});

describe("serviceEndpoint", () => {
  it("the regional endpoint, by partition", () => {
    assert.equal(serviceEndpoint("kms", "us-west-2", undefined, none), "https://kms.us-west-2.amazonaws.com/");
    assert.equal(serviceEndpoint("kms", "cn-north-1", undefined, none), "https://kms.cn-north-1.amazonaws.com.cn/");
    assert.equal(serviceEndpoint("kms", "us-gov-west-1", undefined, none), "https://kms.us-gov-west-1.amazonaws.com/");
    assert.equal(serviceEndpoint("sts", "eu-west-1", undefined, none), "https://sts.eu-west-1.amazonaws.com/");
  });

  it("the explicit one, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL", () => {
    const env = envOf({
      AWS_ENDPOINT_URL: "http://127.0.0.1:1",
      AWS_ENDPOINT_URL_KMS: "http://127.0.0.1:2/",
      AWS_ENDPOINT_URL_STS: "https://sts.internal.example/",
    });
    assert.equal(serviceEndpoint("kms", "us-west-2", "http://127.0.0.1:3", env), "http://127.0.0.1:3/");
    assert.equal(serviceEndpoint("kms", "us-west-2", undefined, env), "http://127.0.0.1:2/");
    assert.equal(serviceEndpoint("sts", "us-west-2", undefined, env), "https://sts.internal.example/");
    assert.equal(
      serviceEndpoint("kms", "us-west-2", undefined, envOf({ AWS_ENDPOINT_URL: "http://127.0.0.1:1" })),
      "http://127.0.0.1:1/",
    );
    assert.equal(
      serviceEndpoint("kms", "us-west-2", undefined, envOf({ AWS_ENDPOINT_URL_KMS: "" })),
      "https://kms.us-west-2.amazonaws.com/",
      "an empty variable counts as unset",
    );
  });

  it("keeps a path prefix and ends with exactly one slash", () => {
    assert.equal(serviceEndpoint("kms", "us-west-2", "http://localhost:4566/kms", none), "http://localhost:4566/kms/");
    assert.equal(
      serviceEndpoint("kms", "us-west-2", "http://localhost:4566/kms//", none),
      "http://localhost:4566/kms/",
    );
    assert.equal(serviceEndpoint("kms", "us-west-2", "http://[::1]:4566", none), "http://[::1]:4566/");
  });

  it("signed requests go over https, or plain http to this machine only", () => {
    const refused = (raw: string, from?: "AWS_ENDPOINT_URL_KMS" | "AWS_ENDPOINT_URL") => {
      try {
        serviceEndpoint("kms", "us-west-2", from ? undefined : raw, from ? envOf({ [from]: raw }) : none);
      } catch (error) {
        assert.ok(error instanceof InvalidInputError);
        return error;
      }
      assert.fail(`${raw} accepted`);
    };
    assert.match(
      refused("http://kms.us-west-2.amazonaws.com").message,
      /^kmsEndpoint: plain http: is not allowed for kms\.us-west-2\.amazonaws\.com; use https:$/,
    );
    assert.equal(refused("http://127.0.0.1.evil.example").field, "kmsEndpoint");
    assert.equal(refused("http://10.0.0.1", "AWS_ENDPOINT_URL_KMS").field, "AWS_ENDPOINT_URL_KMS");
    assert.equal(refused("http://10.0.0.1", "AWS_ENDPOINT_URL").field, "AWS_ENDPOINT_URL");
    assert.equal(refused("ftp://x").message, "kmsEndpoint: ftp: is not https: or http:");
    assert.equal(refused("::").message, "kmsEndpoint: is not a valid URL");
    assert.equal(
      refused("https://kms.example/?X-Amz-Security-Token=abc").message,
      "kmsEndpoint: must not have a query or fragment",
    );
    const withPassword = refused("https://AKIA:s3cret@kms.example/");
    assert.ok(!withPassword.message.includes("s3cret") && !withPassword.message.includes("AKIA"));
  });
});
