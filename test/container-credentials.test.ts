import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { containerCredentialsSource, containerCredentialsUrl } from "../src/aws/container-credentials.ts";
import { InvalidInputError, MetadataError } from "../src/errors.ts";
import { FakeClock, settle } from "./helpers/fake-clock.ts";
import { json } from "./helpers/fake-world.ts";
import { rejection } from "./helpers/setup.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

describe("container credentials endpoint", () => {
  test("relative URI goes to 169.254.170.2; full URI is checked like the SDKs do", () => {
    assert.equal(containerCredentialsUrl(env({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc" })).href, "http://169.254.170.2/v2/credentials/abc");
    for (const ok of ["http://127.0.0.1:8080/c", "http://localhost/c", "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/c", "https://creds.example.com/c"]) {
      assert.equal(containerCredentialsUrl(env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: ok })).href, new URL(ok).href);
    }
    for (const bad of ["http://10.0.0.5/c", "http://creds.example.com/c", "ftp://127.0.0.1/c", "nonsense"]) {
      assert.throws(() => containerCredentialsUrl(env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: bad })), InvalidInputError, bad);
    }
    assert.throws(() => containerCredentialsUrl(env({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "v2/x" })), /must start with \//);
  });

  test("sends the token from the token file (over the variable), caches until near expiry", async () => {
    const clock = new FakeClock();
    const seen: Request[] = [];
    const source = containerCredentialsSource({
      env: env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:1/creds", AWS_CONTAINER_AUTHORIZATION_TOKEN: "from-var", AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/token" }),
      readTextFile: async (path) => (path === "/token" ? "from-file\n" : ""),
      clock,
      transport: async (req) => {
        seen.push(req);
        return json(200, { AccessKeyId: "ASIACONTAINER00000", SecretAccessKey: "sk", Token: "st", Expiration: new Date(clock.now() + 3600_000).toISOString(), RoleArn: "arn:aws:iam::111122223333:role/task" });
      },
    });
    const [a, b] = await Promise.all([source(), source()]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.headers.get("authorization"), "from-file");
    assert.equal(a, b);
    assert.equal(a.roleArn, "arn:aws:iam::111122223333:role/task");
    clock.set(clock.now() + 56 * 60_000);
    await source();
    assert.equal(seen.length, 2, "refreshed inside the 5-minute window");
  });

  test("retries 5xx and network errors, then fails with a typed error", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const source = containerCredentialsSource({
      env: env({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/x" }),
      readTextFile: async () => "",
      clock,
      transport: async () => {
        calls++;
        if (calls === 1) throw new TypeError("fetch failed");
        return json(503, {});
      },
    });
    const error = await settle(rejection(source()), clock);
    assert.ok(error instanceof MetadataError);
    assert.equal(calls, 3);
  });

  test("a malformed answer names the field without echoing secrets", async () => {
    const source = containerCredentialsSource({
      env: env({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/x" }),
      readTextFile: async () => "",
      clock: new FakeClock(),
      transport: async () => json(200, { AccessKeyId: "ASIACONTAINER00000", SecretAccessKey: 7 }),
    });
    const error = await rejection(source());
    assert.match((error as Error).message, /SecretAccessKey: expected string, got a number/);
  });
});
