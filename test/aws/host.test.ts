/**
 * src/aws/host.ts: what an AWS host tells about itself — on EC2 the principals (with path-variant
 * ARNs), the region and the role credentials from instance metadata; on ECS the task role from
 * the container credentials endpoint — and the IMDS client kept for the life of a client.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kmsAuth } from "../../src/auth/kms-auth.ts";
import type { AuthContext, ClientState } from "../../src/auth/provider.ts";
import { awsHost } from "../../src/aws/host.ts";
import { createCerberusClient } from "../../src/client/client.ts";
import { AuthenticationError, AwsError, InvalidInputError } from "../../src/errors.ts";
import type { CerberusEvent } from "../../src/events.ts";
import type { RuntimeEnvironment } from "../../src/runtime/types.ts";
import { rejection } from "../internal/_helpers.ts";
import { envOf, type World, world } from "./_stack.ts";
import { readSecret } from "../../src/api/secrets.ts";

const ACCOUNT = "111122223333";
const arn = (path: string) => `arn:aws:iam::${ACCOUNT}:role/${path}`;

/** An authentication context over the stack, as the client builds one. */
function contextOf(w: World, vars: Record<string, string | undefined>, state: ClientState = { skew: { offsetMs: 0 } }) {
  const events: CerberusEvent[] = [];
  const context: AuthContext = {
    http: w.http,
    cerberus: { baseUrl: w.stack.cerberus, clientHeader: "test", timeoutMs: 10_000, attempts: 3, maxFileBytes: 1024 },
    env: envOf(vars),
    readTextFile: () => Promise.reject(Object.assign(new Error("no files"), { code: "ENOENT" })),
    host: awsHost,
    state,
    onEvent: (e) => events.push(e),
  };
  return { context, events, state };
}

const ec2 = (w: World) => ({ AWS_EC2_METADATA_SERVICE_ENDPOINT: w.stack.imds });

describe("awsHost on EC2", () => {
  it("lists each role with its path-variant ARN first, when the instance profile has a path", async () => {
    const w = world();
    const { context, events } = contextOf(w, ec2(w));
    const principals = await awsHost.principals(context, true);
    assert.deepEqual(principals.map((p) => [p.principalArn, p.roleName, p.accountId]), [
      [arn("team-a/base-role"), "base-role", ACCOUNT],
      [arn("base-role"), "base-role", ACCOUNT],
      [arn("team-a/app-role"), "app-role", ACCOUNT],
      [arn("app-role"), "app-role", ACCOUNT],
    ]);
    assert.deepEqual(events, [
      { type: "metadata.account", accountId: ACCOUNT, source: "iam-info" },
      {
        type: "metadata.roles",
        roles: ["base-role", "app-role"],
        instanceProfileArn: `arn:aws:iam::${ACCOUNT}:instance-profile/team-a/app-profile`,
      },
    ]);
  });

  it("without path variants (KMS auth v1), or with a profile at /, one ARN per role", async () => {
    const w = world();
    const { context } = contextOf(w, ec2(w));
    assert.deepEqual((await awsHost.principals(context, false)).map((p) => p.principalArn), [
      arn("base-role"),
      arn("app-role"),
    ]);
    w.stack.seed.instance({ profilePath: "/" });
    assert.deepEqual((await awsHost.principals(context, true)).map((p) => p.principalArn), [
      arn("base-role"),
      arn("app-role"),
    ]);
  });

  it("a nested profile path gives the nested variant", async () => {
    const w = world();
    w.stack.seed.instance({ profilePath: "/org/team-b/" });
    const { context } = contextOf(w, ec2(w));
    assert.deepEqual((await awsHost.principals(context, true)).map((p) => p.principalArn).slice(0, 2), [
      arn("org/team-b/base-role"),
      arn("base-role"),
    ]);
  });

  it("the ARNs of one role share one credentials request, made only when asked", async () => {
    const w = world();
    const { context } = contextOf(w, ec2(w));
    const principals = await awsHost.principals(context, true);
    const credentialGets = () => w.log("imds").filter((l) => /security-credentials\/\S+ /.test(l));
    assert.equal(credentialGets().length, 0, "no credentials read before they are needed");
    const [pathVariant, plain] = principals.filter((p) => p.roleName === "app-role");
    const a = await pathVariant!.credentials();
    const b = await plain!.credentials();
    assert.equal(a, b);
    assert.deepEqual(credentialGets(), ["GET /latest/meta-data/iam/security-credentials/app-role 200"]);
    assert.match(a.accessKeyId, /^ASIA/);
  });

  it("the region comes from the identity document", async () => {
    const w = world({ region: "eu-central-1" });
    const { context } = contextOf(w, ec2(w));
    assert.equal(await awsHost.region(context), "eu-central-1");
  });

  it("metadata that cannot be read is an AuthenticationError that says what to do off EC2", async () => {
    const w = world();
    w.stack.faults.inject("imds", { kind: "status", status: 404 }, { path: "/latest/meta-data/iam/info" });
    const { context } = contextOf(w, ec2(w));
    const error = await rejection(awsHost.principals(context, true));
    assert.ok(error instanceof AuthenticationError);
    assert.match(
      error.message,
      /^could not discover the instance's IAM roles from instance metadata \(.*HTTP 404.*\); on a host that is not EC2 pass kmsAuth\(\{ principalArn, credentials \}\)$/,
    );
    assert.ok(error.cause instanceof AwsError);
  });

  it("metadata that times out once on EC2 is asked again, never STS (which would name the instance's first role)", async () => {
    const w = world();
    w.stack.faults.inject("imds", { kind: "hang" }, { path: "/latest/meta-data/iam/info" });
    const { context } = contextOf(w, { ...ec2(w), AWS_ENDPOINT_URL_STS: w.stack.sts });
    const principals = await w.clock.settle(awsHost.principals(context, true), 1000);
    assert.deepEqual(principals.map((p) => p.principalArn), [
      arn("team-a/base-role"),
      arn("base-role"),
      arn("team-a/app-role"),
      arn("app-role"),
    ]);
    assert.ok(principals.every((p) => !p.fromCaller));
    assert.deepEqual(w.log("sts"), [], "no GetCallerIdentity");
    assert.equal(w.log("imds").filter((line) => line.includes("/iam/info")).length, 2);
  });

  it("metadata that times out twice while the instance's credentials come through falls back to STS", async () => {
    const w = world();
    w.stack.faults.inject("imds", { kind: "hang" }, { path: "/latest/meta-data/iam/info", times: 2 });
    const { context } = contextOf(w, { ...ec2(w), AWS_ENDPOINT_URL_STS: w.stack.sts, AWS_REGION: "us-west-2" });
    const principals = await w.clock.settle(awsHost.principals(context, true), 1000);
    assert.deepEqual(principals.map((p) => [p.principalArn, p.fromCaller]), [[arn("base-role"), true]]);
    assert.equal(w.log("sts").length, 1, "one GetCallerIdentity");
    assert.equal(w.log("imds").filter((line) => line.includes("/iam/info")).length, 2);
  });

  it("metadata that fails for another reason than a timeout is not asked again", async () => {
    const w = world();
    w.stack.faults.inject("imds", { kind: "reset" }, { path: "/latest/meta-data/iam/info" });
    const { context } = contextOf(w, { ...ec2(w), AWS_ENDPOINT_URL_STS: w.stack.sts, AWS_REGION: "us-west-2" });
    const principals = await w.clock.settle(awsHost.principals(context, true), 1000);
    assert.ok(principals.every((p) => p.fromCaller));
    assert.equal(w.log("imds").filter((line) => line.includes("/iam/info")).length, 1);
  });

  it("off EC2 with keys, a metadata service that does not answer sends the principal question to STS", async () => {
    const w = world();
    w.stack.faults.inject("imds", { kind: "hang" }, { times: 100 });
    const keys = w.stack.seed.roleCredentials(arn("app-role"));
    const { context } = contextOf(w, {
      ...ec2(w),
      AWS_ENDPOINT_URL_STS: w.stack.sts,
      AWS_REGION: "us-west-2",
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_SESSION_TOKEN: keys.sessionToken,
    });
    const principals = await w.clock.settle(awsHost.principals(context, true), 1000);
    assert.deepEqual(principals.map((p) => [p.principalArn, p.fromCaller]), [[arn("app-role"), true]]);
    assert.equal(w.log("sts").length, 1);
  });

  it("on EC2 with no keys, web identity or container, the host vends the instance role's credentials", async () => {
    const w = world();
    const credentials = await awsHost.credentials(contextOf(w, ec2(w)).context);
    assert.match(credentials?.accessKeyId ?? "", /^ASIA/);
    assert.ok(credentials?.expiration instanceof Date);
  });

  it("with instance metadata disabled, the host vends none", async () => {
    const w = world();
    const { context } = contextOf(w, { ...ec2(w), AWS_EC2_METADATA_DISABLED: "true" });
    assert.equal(await awsHost.credentials(context), undefined);
  });

  it("half a key pair is a broken source: an InvalidInputError naming the missing variable, not a skip", async () => {
    const w = world();
    for (
      const [vars, missing] of [
        [{ AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE" }, "AWS_SECRET_ACCESS_KEY"],
        [{ AWS_SECRET_ACCESS_KEY: "never-shown-secret" }, "AWS_ACCESS_KEY_ID"],
      ] as const
    ) {
      const { context } = contextOf(w, { ...ec2(w), ...vars });
      const error = await awsHost.credentials(context).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.equal(error.field, missing);
      assert.equal(error.step, "credentials");
      assert.ok(!error.message.includes("never-shown-secret"));
    }
  });
});

describe("awsHost on ECS", () => {
  function ecs(options: { path?: string } = {}) {
    const w = world();
    const role = w.stack.seed.role({
      name: "task-role",
      accountId: ACCOUNT,
      ...(options.path ? { path: options.path } : {}),
    });
    const endpoint = w.stack.seed.container(role.arn);
    const { context, state } = contextOf(w, { ...ec2(w), ...endpoint.env });
    return { w, role, endpoint, context, state };
  }

  it("the task role named by the container endpoint is the one principal; no instance metadata is read", async () => {
    const { w, role, context } = ecs();
    const principals = await awsHost.principals(context, true);
    assert.deepEqual(principals.map((p) => [p.principalArn, p.roleName, p.accountId]), [[
      role.arn,
      "task-role",
      ACCOUNT,
    ]]);
    const creds = await principals[0]!.credentials();
    assert.match(creds.accessKeyId, /^ASIA/);
    assert.equal(w.log("imds").length, 0);
    assert.equal(w.log("ecs").length, 1, "one request for the role and its credentials");
  });

  it("a task role with a path keeps it in the ARN; its name is the last segment", async () => {
    const { role, context } = ecs({ path: "svc/batch/" });
    assert.equal(role.arn, arn("svc/batch/task-role"));
    const [principal] = await awsHost.principals(context, true);
    assert.equal(principal?.principalArn, role.arn);
    assert.equal(principal?.roleName, "task-role");
  });

  it("vends the container credentials for a named principal, cached in the client's state", async () => {
    const { w, context, state } = ecs();
    const a = await awsHost.credentials(context);
    const b = await awsHost.credentials(context);
    assert.ok(a && a === b);
    assert.ok(state.container);
    assert.equal(w.log("ecs").length, 1);
  });

  it("there is no region on ECS without metadata", async () => {
    const { w, context } = ecs();
    assert.equal(await awsHost.region(context), undefined);
    assert.equal(w.log("imds").length, 0);
  });

  it("an endpoint that names no role (EKS Pod Identity) asks for principalArn", async () => {
    const { w, context } = ecs();
    w.stack.faults.inject("ecs", {
      kind: "body",
      body: JSON.stringify({ AccessKeyId: "ASIAEXAMPLEEXAMPLE01", SecretAccessKey: "sk", Token: "tok" }),
    });
    const error = await rejection(awsHost.principals(context, true));
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "kmsAuth.principalArn");
    assert.match(error.message, /names no IAM role/);
  });

  it("an endpoint that fails is an AuthenticationError with the reason", async () => {
    const { w, context } = ecs();
    w.stack.faults.inject("ecs", { kind: "status", status: 403 });
    const error = await rejection(awsHost.principals(context, true));
    assert.ok(error instanceof AuthenticationError);
    assert.match(
      error.message,
      /^could not read the container credentials \(the container credentials endpoint answered HTTP 403\)$/,
    );
  });
});

describe("the IMDS client lives as long as the Cerberus client", () => {
  it("two authentications of one client take one IMDSv2 session token", async () => {
    const w = world();
    const runtime: RuntimeEnvironment = {
      name: "test",
      env: () => undefined,
      readTextFile: () => Promise.reject(new Error("no files")),
      transport: w.http.transport,
      aws: awsHost,
    };
    const events: CerberusEvent[] = [];
    const client = createCerberusClient({
      url: w.stack.cerberus,
      auth: kmsAuth(),
      env: w.stack.env,
      clock: w.clock,
      runtime,
      onEvent: (e) => events.push(e),
    });
    const path = w.stack.defaults.secretPath;
    assert.deepEqual(await readSecret(client, path), w.stack.defaults.secret);
    // Cerberus rejects the token once: the client authenticates again.
    w.stack.faults.inject("cerberus", { kind: "cerberus-error", code: 99105 }, { path: "/v1/secret/" });
    assert.deepEqual(await readSecret(client, path), w.stack.defaults.secret);
    assert.equal(events.filter((e) => e.type === "auth.success").length, 2, "authenticated twice");
    assert.equal(w.log("cerberus").filter((l) => l === "POST /v2/auth/iam-principal 200").length, 2);
    assert.deepEqual(
      w.log("imds").filter((l) => l.startsWith("PUT")),
      ["PUT /latest/api/token 200"],
      "one session token for both",
    );
    const tokens = new Set(
      w.seen.filter((s) => s.init.method === "GET" && s.url.origin === new URL(w.stack.imds).origin).map((s) =>
        s.header("x-aws-ec2-metadata-token")
      ),
    );
    assert.equal(tokens.size, 1);
  });

  it("and remember an IMDSv1 fallback across authentications", async () => {
    const w = world();
    w.stack.faults.inject("imds", { kind: "status", status: 403 }, { method: "PUT", times: Infinity });
    const state: ClientState = { skew: { offsetMs: 0 } };
    const first = contextOf(w, ec2(w), state);
    await awsHost.principals(first.context, true);
    const second = contextOf(w, ec2(w), state);
    await awsHost.principals(second.context, true);
    assert.equal(w.log("imds").filter((l) => l.startsWith("PUT")).length, 1);
    assert.equal(first.events.filter((e) => e.type === "metadata.fallback-v1").length, 1);
    assert.equal(second.events.filter((e) => e.type === "metadata.fallback-v1").length, 0);
  });
});
