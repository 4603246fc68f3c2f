/**
 * src/aws/container.ts against the emulated container credentials endpoint (ECS task roles,
 * EKS Pod Identity): the endpoint rules, the authorization token, caching, retries, validation.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { containerCredentials, containerEndpoint, hasContainerEndpoint } from "../../src/aws/container.ts";
import { systemClock } from "../../src/clock.ts";
import { AbortedError, AwsError, InvalidInputError, TransportError } from "../../src/errors.ts";
import { startLocalStack } from "../../src/testing/mod.ts";
import { rejection } from "../internal/_helpers.ts";
import { envOf, world } from "./_stack.ts";

const noFiles = (): Promise<string> => Promise.reject(Object.assign(new Error("no files here"), { code: "ENOENT" }));

/** A stack with a container endpoint for the app role, and a credentials source reading it. */
function setup(
  vars: (
    endpoint: { fullUri: string; relativeUri: string; authorizationToken: string | undefined },
  ) => Record<string, string | undefined>,
  options: { requireAuthorization?: boolean; routeAwsHostnames?: boolean } = {},
) {
  const w = world({ routeAwsHostnames: options.routeAwsHostnames ?? false });
  const app = w.stack.defaults.roles.app;
  const endpoint = w.stack.seed.container(app.arn, { requireAuthorization: options.requireAuthorization ?? true });
  const source = containerCredentials(w.http, { env: envOf(vars(endpoint)), readTextFile: noFiles });
  return { ...w, app, endpoint, source };
}

const full = (e: { fullUri: string; authorizationToken: string | undefined }) => ({
  AWS_CONTAINER_CREDENTIALS_FULL_URI: e.fullUri,
  AWS_CONTAINER_AUTHORIZATION_TOKEN: e.authorizationToken,
});

describe("container credentials: the endpoint", () => {
  const endpointOf = (vars: Record<string, string>) => containerEndpoint(envOf(vars));

  it("a relative URI goes to 169.254.170.2 and wins over a full URI", () => {
    assert.equal(
      endpointOf({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc" }),
      "http://169.254.170.2/v2/credentials/abc",
    );
    assert.equal(
      endpointOf({
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc",
        AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:8080/other",
      }),
      "http://169.254.170.2/v2/credentials/abc",
    );
  });

  it("a full URI follows the SDKs' rules: http only to loopback and the container hosts", () => {
    for (
      const ok of [
        "http://127.0.0.1:8080/c",
        "http://localhost/c",
        "http://[::1]:1/c",
        "http://169.254.170.2/v1",
        "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/c",
        "https://creds.example.com/c",
      ]
    ) {
      assert.equal(endpointOf({ AWS_CONTAINER_CREDENTIALS_FULL_URI: ok }), new URL(ok).href, ok);
    }
    for (
      const bad of [
        "http://10.0.0.5/c",
        "http://creds.example.com/c",
        "http://127.0.0.1.evil.example/c",
        "http://169.254.170.24/c",
        "ftp://127.0.0.1/c",
        "nonsense",
        "http://127.0.0.1/c?x=1",
      ]
    ) {
      assert.throws(
        () => endpointOf({ AWS_CONTAINER_CREDENTIALS_FULL_URI: bad }),
        (e: unknown) =>
          e instanceof InvalidInputError && e.field === "AWS_CONTAINER_CREDENTIALS_FULL_URI" &&
          e.step === "credentials",
        bad,
      );
    }
  });

  it("a password in the full URI is refused without being echoed", () => {
    assert.throws(
      () => endpointOf({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://alice:hunter22@127.0.0.1/c" }),
      (e: unknown) => e instanceof InvalidInputError && !e.message.includes("hunter22") && !e.message.includes("alice"),
    );
  });

  it("a relative URI must start with /", () => {
    assert.throws(
      () => endpointOf({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "v2/x" }),
      /AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: must start with \//,
    );
  });

  it("hasContainerEndpoint: either variable, non-empty", () => {
    assert.equal(hasContainerEndpoint(envOf({})), false);
    assert.equal(hasContainerEndpoint(envOf({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "" })), false);
    assert.equal(hasContainerEndpoint(envOf({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/x" })), true);
    assert.equal(hasContainerEndpoint(envOf({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1/x" })), true);
  });
});

describe("container credentials: reading them", () => {
  it("reads sealed credentials and the task role over the relative URI (ECS)", async () => {
    const { source, app, seen, log } = setup((e) => ({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: e.relativeUri }), {
      requireAuthorization: false,
      routeAwsHostnames: true,
    });
    const creds = await source.get();
    assert.equal(creds.roleArn, app.arn);
    assert.match(creds.accessKeyId, /^ASIA/);
    assert.ok(creds.secretAccessKey && creds.sessionToken && creds.expiration instanceof Date);
    assert.ok(!JSON.stringify(creds).includes(creds.secretAccessKey), "sealed");
    assert.equal(seen[0]!.url.origin, "http://169.254.170.2");
    assert.equal(seen[0]!.header("accept"), "application/json");
    assert.equal(seen[0]!.header("authorization"), undefined);
    assert.equal(log("ecs").length, 1);
  });

  it("sends AWS_CONTAINER_AUTHORIZATION_TOKEN (EKS Pod Identity style full URI)", async () => {
    const { source, endpoint, seen } = setup(full);
    await source.get();
    assert.equal(seen[0]!.header("authorization"), endpoint.authorizationToken);
  });

  it("caches the credentials, one request for concurrent callers, until five minutes before they expire", async () => {
    const { clock, source, log } = setup(full);
    const [a, b, c] = await Promise.all([source.get(), source.get(), source.get()]);
    assert.equal(log("ecs").length, 1);
    assert.equal(a, b);
    assert.equal(b, c);
    const expiresAt = a.expiration!.getTime();
    clock.set(expiresAt - 5 * 60_000 - 1);
    assert.equal(await source.get(), a);
    assert.equal(log("ecs").length, 1);
    clock.set(expiresAt - 5 * 60_000);
    const fresh = await source.get();
    assert.equal(log("ecs").length, 2, "refreshed inside the 5-minute window");
    assert.notEqual(fresh.accessKeyId, a.accessKeyId);
  });

  it("credentials without an expiration are kept", async () => {
    const { clock, stack, source, log } = setup(full);
    stack.faults.inject("ecs", {
      kind: "body",
      body: JSON.stringify({ AccessKeyId: "AKIAEXAMPLEEXAMPLE00", SecretAccessKey: "sk" }),
    });
    const creds = await source.get();
    assert.equal(creds.expiration, undefined);
    assert.equal(creds.sessionToken, undefined);
    assert.equal(creds.roleArn, undefined);
    clock.set(clock.now() + 365 * 86_400_000);
    assert.equal(await source.get(), creds);
    assert.equal(log("ecs").length, 1);
  });
});

describe("container credentials: the authorization token", () => {
  it("a token file is read, trimmed and wins over the variable", async () => {
    const w = world();
    const endpoint = w.stack.seed.container(w.stack.defaults.roles.app.arn);
    const reads: string[] = [];
    const source = containerCredentials(w.http, {
      env: envOf({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.fullUri,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: "wrong-token",
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/var/run/token",
      }),
      readTextFile: (path) => {
        reads.push(path);
        return Promise.resolve(`  ${endpoint.authorizationToken}\n`);
      },
    });
    await source.get();
    assert.deepEqual(reads, ["/var/run/token"]);
    assert.equal(w.seen[0]!.header("authorization"), endpoint.authorizationToken);
  });

  it("a token file that cannot be read names the variable, the path and the code, and sends nothing", async () => {
    const w = world();
    const endpoint = w.stack.seed.container(w.stack.defaults.roles.app.arn);
    const source = containerCredentials(w.http, {
      env: envOf({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.fullUri,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/var/run/missing",
      }),
      readTextFile: noFiles,
    });
    const error = await rejection(source.get());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.message, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: cannot read /var/run/missing: ENOENT");
    assert.equal(error.step, "credentials");
    assert.equal(w.seen.length, 0);
  });

  it("an empty token file is refused", async () => {
    const w = world();
    const endpoint = w.stack.seed.container(w.stack.defaults.roles.app.arn);
    const source = containerCredentials(w.http, {
      env: envOf({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.fullUri,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/var/run/token",
      }),
      readTextFile: () => Promise.resolve(" \n"),
    });
    const error = await rejection(source.get());
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.message, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: names an empty file");
    assert.equal(w.seen.length, 0);
  });

  it("a token a header cannot carry is refused without being echoed", async () => {
    for (
      const [name, vars] of [
        ["AWS_CONTAINER_AUTHORIZATION_TOKEN", { AWS_CONTAINER_AUTHORIZATION_TOKEN: "tok3n-secret\r\nX-Injected: 1" }],
        ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", { AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/t" }],
      ] as const
    ) {
      const w = world();
      const endpoint = w.stack.seed.container(w.stack.defaults.roles.app.arn);
      const source = containerCredentials(w.http, {
        env: envOf({ AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.fullUri, ...vars }),
        readTextFile: () => Promise.resolve("tok3n-secret\u0000inside\n"),
      });
      const error = await rejection(source.get());
      assert.ok(error instanceof InvalidInputError, name);
      assert.equal(error.field, name);
      assert.equal(error.message, `${name}: holds characters a header cannot carry`);
      assert.ok(!error.message.includes("tok3n"));
      assert.equal(w.seen.length, 0);
    }
  });

  it("a missing token is a 401 and a wrong one a 403: AwsErrors, not retried", async () => {
    for (const [token, status] of [[undefined, 401], ["wrong-token", 403]] as const) {
      const { source, log } = setup((e) => ({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: e.fullUri,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
      }));
      const error = await rejection(source.get());
      assert.ok(error instanceof AwsError);
      assert.equal(error.service, "container");
      assert.equal(error.status, status);
      assert.equal(error.retryable, false);
      assert.equal(error.message, `the container credentials endpoint answered HTTP ${status}`);
      assert.equal(log("ecs").length, 1);
    }
  });
});

describe("container credentials: failures", () => {
  it("retries network errors and 5xx (3 attempts), then fails with a typed error", async () => {
    const { clock, stack, source, log } = setup(full);
    stack.faults.inject("ecs", { kind: "reset" });
    stack.faults.inject("ecs", { kind: "status", status: 503 }, { times: 2 });
    const error = await rejection(clock.settle(source.get(), 100));
    assert.ok(error instanceof AwsError);
    assert.equal(error.status, 503);
    assert.equal(error.retryable, true);
    assert.deepEqual(log("ecs").map((l) => l.split(" ")[2]), ["0", "503", "503"]);
  });

  it("a network error then an answer: the credentials", async () => {
    const { clock, stack, source, app, log } = setup(full);
    stack.faults.inject("ecs", { kind: "reset" });
    const creds = await clock.settle(source.get(), 100);
    assert.equal(creds.roleArn, app.arn);
    assert.equal(log("ecs").length, 2);
  });

  it("an endpoint that does not answer: three 2-second timeouts, then TIMEOUT", async () => {
    const { clock, stack, source, log, sent } = setup(full);
    stack.faults.inject("ecs", { kind: "hang" }, { times: 3 });
    const pending = rejection(source.get());
    await sent(1);
    await clock.advance(1999);
    assert.equal(log("ecs").length, 1);
    const error = await clock.settle(pending, 500);
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TIMEOUT");
    assert.equal(log("ecs").length, 3);
  });

  it("a failure is not cached: the next get() asks again", async () => {
    const { stack, source, log } = setup(full);
    stack.faults.inject("ecs", { kind: "status", status: 404 });
    assert.ok((await rejection(source.get())) instanceof AwsError);
    assert.ok(await source.get());
    assert.equal(log("ecs").length, 2);
  });

  it("a malformed answer names the field without echoing secrets", async () => {
    const cases: [unknown, RegExp][] = [
      [{ AccessKeyId: "ASIACONTAINER0000000", SecretAccessKey: 7 }, /SecretAccessKey: expected string, got a number/],
      [{ AccessKeyId: "leak-me-short", SecretAccessKey: "leak-me-secret" }, /AccessKeyId: AccessKeyId is malformed/],
      [
        { AccessKeyId: "ASIACONTAINER0000000", SecretAccessKey: "leak-me-secret", Token: "leak me\n" },
        /Token: Token is malformed/,
      ],
      [
        { AccessKeyId: "ASIACONTAINER0000000", SecretAccessKey: "leak-me-secret", Expiration: "leak-me-never" },
        /Expiration: Expiration is not a timestamp/,
      ],
      [["leak-me"], /expected Object, got an array|is missing/],
    ];
    for (const [body, pattern] of cases) {
      const { stack, source } = setup(full);
      stack.faults.inject("ecs", { kind: "body", body: JSON.stringify(body) });
      const error = await rejection(source.get());
      assert.ok(error instanceof AwsError, JSON.stringify(body));
      assert.match(error.message, /^the container credentials is invalid: /);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes("leak"), error.message);
    }
    const { stack, source } = setup(full);
    stack.faults.inject("ecs", { kind: "waf", status: 200 });
    assert.match(
      ((await rejection(source.get())) as Error).message,
      /^the container credentials is not JSON \(.*bytes\)$/,
    );
  });

  it("a caller's abort fails that caller only; the shared request goes on", async () => {
    const { clock, stack, source, log } = setup(full);
    stack.faults.inject("ecs", { kind: "latency", ms: 500 });
    const controller = new AbortController();
    const quitter = rejection(source.get(controller.signal));
    const patient = source.get();
    controller.abort();
    const error = await quitter;
    assert.ok(error instanceof AbortedError);
    assert.equal(error.code, "ABORTED");
    assert.ok((await clock.settle(patient, 100)).accessKeyId);
    assert.equal(log("ecs").length, 1);
  });
});

describe("container credentials over a socket", () => {
  it("reads from the stack served on 127.0.0.1 with the runtime's fetch", async () => {
    const stack = await startLocalStack();
    try {
      const app = stack.defaults!.roles.app;
      const endpoint = stack.seed.container(app.arn);
      assert.match(endpoint.fullUri, /^http:\/\/127\.0\.0\.1:\d+\//);
      const source = containerCredentials(
        { transport: (url, init) => fetch(url, init), clock: systemClock },
        { env: envOf(endpoint.env), readTextFile: noFiles },
      );
      const creds = await source.get();
      assert.equal(creds.roleArn, app.arn);
      assert.match(creds.accessKeyId, /^ASIA/);
    } finally {
      await stack.close();
    }
  });
});
