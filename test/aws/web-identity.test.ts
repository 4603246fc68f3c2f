/** Web identity credentials (AssumeRoleWithWebIdentity) against the in-memory stack's STS. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stsAuth } from "../../src/auth/sts-auth.ts";
import { awsHost } from "../../src/aws/host.ts";
import { hasWebIdentity, webIdentityCredentials } from "../../src/aws/web-identity.ts";
import { createCerberusClient } from "../../src/client/client.ts";
import { AwsError, InvalidInputError } from "../../src/errors.ts";
import { world } from "./_stack.ts";
import { readSecret } from "../../src/api/secrets.ts";

const FILE = "/var/run/secrets/eks/token";

function setting(w: ReturnType<typeof world>, overrides: Record<string, string | undefined> = {}) {
  const vars: Record<string, string | undefined> = {
    AWS_WEB_IDENTITY_TOKEN_FILE: FILE,
    AWS_ROLE_ARN: w.stack.defaults.roles.app.arn,
    AWS_ROLE_SESSION_NAME: "test-session",
    AWS_REGION: "us-west-2",
    AWS_ENDPOINT_URL_STS: w.stack.sts,
    ...overrides,
  };
  return {
    env: (name: string) => vars[name],
    readTextFile: (path: string) =>
      path === FILE
        ? Promise.resolve(`${w.stack.defaults.webIdentityToken}\n`)
        : Promise.reject(Object.assign(new Error("no such file"), { code: "ENOENT" })),
  };
}

describe("web identity credentials", () => {
  it("exchanges the token once for sealed temporary credentials, cached until they near expiry", async () => {
    const w = world();
    const source = webIdentityCredentials(w.http, setting(w));
    const credentials = await source.get();
    assert.match(credentials.accessKeyId, /^ASIA/);
    assert.ok(credentials.sessionToken);
    assert.ok(credentials.expiration instanceof Date);
    assert.ok(!JSON.stringify(credentials).includes(credentials.secretAccessKey));
    assert.equal(await source.get(), credentials);
    assert.deepEqual(w.log("sts"), ["POST / 200"]);
    const sent = w.seen.find((s) => s.url.origin === new URL(w.stack.sts).origin)!;
    assert.equal(sent.header("authorization"), undefined, "the call is unsigned");
    assert.match(sent.text(), /Action=AssumeRoleWithWebIdentity/);
  });

  it("signs STS auth with them, through the host's chain", async () => {
    const w = world();
    const where = setting(w);
    const env: Record<string, string> = {};
    for (const name of ["AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_REGION", "AWS_ENDPOINT_URL_STS"]) {
      env[name] = where.env(name)!;
    }
    const client = createCerberusClient({
      url: w.stack.cerberus,
      auth: stsAuth(),
      env,
      transport: w.http.transport,
      clock: w.clock,
      runtime: {
        name: "test",
        env: () => undefined,
        readTextFile: where.readTextFile,
        transport: w.http.transport,
        aws: awsHost,
      },
    });
    assert.deepEqual(await readSecret(client, w.stack.defaults.secretPath), w.stack.defaults.secret);
    assert.equal((await client.whoami()).method, "sts");
  });

  it("is configured only by both the token file and the role ARN", () => {
    assert.equal(hasWebIdentity((n) => ({ AWS_WEB_IDENTITY_TOKEN_FILE: FILE })[n]), false);
    assert.equal(hasWebIdentity((n) => ({ AWS_WEB_IDENTITY_TOKEN_FILE: FILE, AWS_ROLE_ARN: "x" })[n]), true);
  });

  it("STS refusing the token is an AwsError naming STS and the role, never the token", async () => {
    const w = world();
    const where = setting(w);
    const refused = { ...where, readTextFile: () => Promise.resolve("an-unknown-web-identity-token-value") };
    const error = await webIdentityCredentials(w.http, refused).get().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AwsError, String(error));
    assert.equal(error.service, "sts");
    assert.match(error.message, /STS refused the web identity token for arn:aws:iam::/);
    assert.ok(!error.message.includes("an-unknown-web-identity-token-value"));
  });

  it("an unreadable token file, a malformed role ARN or no region: an InvalidInputError naming the variable", async () => {
    const w = world();
    const cases: [Record<string, string | undefined>, string][] = [
      [{ AWS_WEB_IDENTITY_TOKEN_FILE: "/nowhere" }, "AWS_WEB_IDENTITY_TOKEN_FILE"],
      [{ AWS_ROLE_ARN: "arn:aws:iam::1:user/x" }, "AWS_ROLE_ARN"],
      [{ AWS_REGION: undefined }, "AWS_REGION"],
    ];
    for (const [overrides, field] of cases) {
      const error = await webIdentityCredentials(w.http, setting(w, overrides)).get().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof InvalidInputError, `${field}: ${String(error)}`);
      assert.equal(error.field, field);
    }
  });

  it("an STS endpoint that answers HTML is an AwsError, not a crash", async () => {
    const w = world();
    w.stack.faults.inject("sts", { kind: "waf", status: 200 });
    const error = await webIdentityCredentials(w.http, setting(w)).get().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AwsError, String(error));
    assert.match(error.message, /is not JSON \(text\/html/);
  });
});
