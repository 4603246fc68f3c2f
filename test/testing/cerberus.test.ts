/**
 * The Cerberus API of the local stack: user auth with MFA, refresh and logout, secrets with
 * versions, secure files, and the SDB, category and role endpoints.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cerberus,
  type CerberusToken,
  codes,
  type Json,
  json,
  memoryStack,
  type SecretRead,
  stsIdentityHeaders,
  stsLogin,
  type UserAuth,
  userToken,
} from "./helpers.ts";

/** A secret listing. */
type SecretList = { data: { keys: string[] } };
/** A version summary of a secret. */
type VersionSummary = { id: string; action: string; type: string; path: string; sdbox_id: string };
/** A page of a secret's versions. */
type SecretVersions = {
  total_version_count: number;
  has_next: boolean;
  next_offset: number;
  secure_data_version_summaries: VersionSummary[];
};
/** A page of secure file summaries. */
type FileListing = { total_file_count: number; secure_file_summaries: Json[] };
/** A safe deposit box. */
type Sdb = { id: string; path: string; iam_principal_permissions: { iam_principal_arn: string; role_id: string }[] };

describe("user auth", () => {
  const basic = (user: string, password: string) => ({ authorization: `Basic ${btoa(`${user}:${password}`)}` });

  it("logs in with Basic credentials and refuses bad ones", async () => {
    const stack = memoryStack();
    const u = stack.defaults.user;
    const ok = await json<UserAuth>(
      await stack.transport(new Request(`${stack.cerberus}/v2/auth/user`, { headers: basic(u.username, u.password) })),
    );
    assert.equal(ok["status"], "success");
    const token = ok["data"]["client_token"];
    assert.equal(token["renewable"], true);
    assert.equal(token["metadata"]["username"], u.username);
    assert.equal(token["metadata"]["groups"], "demo-owners");
    assert.equal(token["metadata"]["refresh_count"], "0");
    assert.equal(token["metadata"]["max_refresh_count"], "24");
    const wrong = await stack.transport(
      new Request(`${stack.cerberus}/v2/auth/user`, { headers: basic(u.username, "nope") }),
    );
    assert.equal(wrong.status, 401);
    assert.deepEqual(codes(await json(wrong)), [99239]);
    const malformed = await stack.transport(
      new Request(`${stack.cerberus}/v2/auth/user`, { headers: { authorization: "Bearer x" } }),
    );
    assert.deepEqual(codes(await json(malformed)), [99106]);
  });

  it("requires MFA for users with devices: codes, triggered devices and push", async () => {
    const stack = memoryStack();
    const seeded = stack.seed.user({
      username: "mfa@local.test",
      password: "pw",
      groups: ["demo-owners"],
      mfa: [{ kind: "totp", otp: "654321" }, { kind: "sms", otp: "111222" }, { kind: "push" }, {
        kind: "push",
        pushAnswer: "reject",
      }],
    });
    const [totp, sms, push, rejecting] = seeded.devices;
    const start = async () => {
      const body = await json<UserAuth>(
        await stack.transport(
          new Request(`${stack.cerberus}/v2/auth/user`, { headers: basic("mfa@local.test", "pw") }),
        ),
      );
      assert.equal(body["status"], "mfa_req");
      return body["data"];
    };
    const check = (payload: Json) =>
      stack.transport(
        new Request(`${stack.cerberus}/v2/auth/mfa_check`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(payload),
        }),
      );
    const data = await start();
    assert.deepEqual(
      data["devices"].map((dev: Json) => [dev["name"], dev["requires_trigger"], dev["is_push"]]),
      [["Google Authenticator", false, false], ["Okta Text Message Code", true, false], [
        "Okta Verify Push",
        true,
        true,
      ], ["Okta Verify Push", true, true]],
    );
    const wrong = await check({ state_token: data["state_token"], device_id: totp?.id, otp_token: "000000" });
    assert.deepEqual(codes(await json(wrong)), [99243]);
    const right = await json<UserAuth>(
      await check({ state_token: data["state_token"], device_id: totp?.id, otp_token: "654321" }),
    );
    assert.equal(right["status"], "success");
    assert.equal(typeof right["data"]["client_token"]["client_token"], "string");

    const second = await start();
    const early = await check({ state_token: second["state_token"], device_id: sms?.id, otp_token: "111222" });
    assert.deepEqual(codes(await json(early)), [99243], "a code before the trigger is refused");
    const challenge = await json(await check({ state_token: second["state_token"], device_id: sms?.id }));
    assert.equal(challenge["status"], "mfa_challenge");
    const viaSms = await json(
      await check({ state_token: second["state_token"], device_id: sms?.id, otp_token: "111222" }),
    );
    assert.equal(viaSms["status"], "success");

    const third = await start();
    assert.equal(
      (await json(await check({ state_token: third["state_token"], device_id: push?.id })))["status"],
      "success",
    );
    const fourth = await start();
    assert.deepEqual(
      codes(await json(await check({ state_token: fourth["state_token"], device_id: rejecting?.id, is_push: true }))),
      [99249],
    );
  });

  it("refreshes user tokens up to the limit, revoking the old ones", async () => {
    const stack = memoryStack({ cerberus: { maxRefreshCount: 2 } });
    let token = await userToken(stack);
    for (let i = 1; i <= 2; i++) {
      const response = await cerberus(stack, "/v2/auth/user/refresh", token);
      const body = await json<UserAuth>(response);
      assert.equal(body["status"], "success");
      assert.equal(body["data"]["client_token"]["metadata"]["refresh_count"], String(i));
      assert.equal(
        (await cerberus(stack, "/v2/safe-deposit-box", token)).status,
        401,
        "the refreshed token is revoked",
      );
      token = body["data"]["client_token"]["client_token"];
    }
    const limit = await cerberus(stack, "/v2/auth/user/refresh", token);
    assert.equal(limit.status, 403);
    assert.deepEqual(codes(await json(limit)), [99230]);
  });

  it("refuses to refresh IAM tokens", async () => {
    const stack = memoryStack();
    const creds = stack.seed.roleCredentials(stack.defaults.roles.app.arn);
    const iamToken =
      (await json<CerberusToken>(await stsLogin(stack, await stsIdentityHeaders(creds))))["client_token"];
    const response = await cerberus(stack, "/v2/auth/user/refresh", iamToken);
    assert.equal(response.status, 403);
    assert.deepEqual(codes(await json(response)), [99231]);
  });

  it("revokes tokens on logout and expires them after their lease", async () => {
    const stack = memoryStack();
    const token = await userToken(stack);
    const legacy = await stack.transport(
      new Request(`${stack.cerberus}/v1/secret/app/demo/config`, { headers: { "x-vault-token": token } }),
    );
    assert.equal(legacy.status, 200);
    assert.equal((await cerberus(stack, "/v1/auth", token, { method: "DELETE" })).status, 204);
    const after = await cerberus(stack, "/v1/secret/app/demo/config", token);
    assert.equal(after.status, 401);
    assert.deepEqual(codes(await json(after)), [99105]);

    const second = await userToken(stack);
    stack.clock.advance(3_599_000);
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/config", second)).status, 200);
    stack.clock.advance(2_000);
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secret/app/demo/config", second))), [99105]);
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secret/app/demo/config", undefined))), [99105]);
  });
});

describe("secrets", () => {
  const stack = memoryStack();
  const d = stack.defaults;

  async function appToken(): Promise<string> {
    const creds = stack.seed.roleCredentials(d.roles.app.arn);
    return (await json<CerberusToken>(await stsLogin(stack, await stsIdentityHeaders(creds))))["client_token"];
  }

  const write = (token: string, path: string, data: unknown, method = "POST") =>
    cerberus(stack, `/v1/secret/${path}`, token, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(data),
    });

  it("enforces the SDB roles of IAM principals", async () => {
    const token = await appToken();
    assert.equal((await cerberus(stack, `/v1/secret/${d.secretPath}`, token)).status, 200);
    const denied = await write(token, d.secretPath, { a: "b" });
    assert.equal(denied.status, 403);
    assert.deepEqual(codes(await json(denied)), [99994]);
    stack.seed.sdb({ name: "other", iamPrincipals: {} });
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secret/app/other/x", token))), [99994]);
    assert.deepEqual(codes(await json(await cerberus(stack, "/v1/secret/app/missing/x", token))), [99994]);
  });

  it("enforces the SDB roles of user groups", async () => {
    const local = memoryStack();
    local.seed.user({ username: "reader@local.test", password: "pw", groups: ["readers"] });
    local.seed.user({ username: "writer@local.test", password: "pw", groups: ["writers"] });
    local.seed.sdb({
      name: "team",
      owner: "team-owners",
      userGroups: { readers: "read", writers: "write" },
      secrets: { s: { k: "v" } },
    });
    const reader = await userToken(local, "reader@local.test", "pw");
    const writer = await userToken(local, "writer@local.test", "pw");
    const put = (token: string) =>
      cerberus(local, "/v1/secret/app/team/s", token, { method: "POST", body: JSON.stringify({ k: "w" }) });
    assert.equal((await cerberus(local, "/v1/secret/app/team/s", reader)).status, 200);
    assert.equal((await put(reader)).status, 403);
    assert.equal((await put(writer)).status, 204);
    assert.equal((await cerberus(local, "/v1/secret/app/demo/config", reader)).status, 403);
  });

  it("replaces every key on write, lists folders, and answers 404 with an empty body", async () => {
    const token = await userToken(stack);
    assert.equal((await write(token, "app/demo/svc/db", { user: "a", password: "b" })).status, 204);
    assert.equal((await write(token, "app/demo/svc/db", { user: "c" }, "PUT")).status, 204);
    assert.deepEqual((await json(await cerberus(stack, "/v1/secret/app/demo/svc/db", token)))["data"], { user: "c" });
    await write(token, "app/demo/svc/deep/x", { k: "v" });
    const list = await json<SecretList>(await cerberus(stack, "/v1/secret/app/demo/svc/?list=true", token));
    assert.deepEqual(list["data"]["keys"], ["db", "deep/"]);
    const root = await json<SecretList>(await cerberus(stack, "/v1/secret/app/demo?list=true", token));
    assert.deepEqual(root["data"]["keys"], ["config", "svc/"]);
    const empty = await cerberus(stack, "/v1/secret/app/demo/nothing/?list=true", token);
    assert.equal(empty.status, 404);
    assert.equal(await empty.text(), "");
    const missing = await cerberus(stack, "/v1/secret/app/demo/nope", token);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), "");
    const notObject = await cerberus(stack, "/v1/secret/app/demo/svc/db", token, { method: "POST", body: "[1,2]" });
    assert.deepEqual(codes(await json(notObject)), [99001]);
  });

  it("keeps versions: listing, reading an old one, and the SDB's version paths", async () => {
    const token = await userToken(stack);
    await write(token, "app/demo/versioned", { n: "1" });
    await write(token, "app/demo/versioned", { n: "2" });
    const versions = await json<SecretVersions>(
      await cerberus(stack, "/v1/secret-versions/app/demo/versioned?limit=10&offset=0", token),
    );
    assert.equal(versions["total_version_count"], 2);
    assert.equal(versions["has_next"], false);
    const [current, previous] = versions["secure_data_version_summaries"] as [VersionSummary, VersionSummary];
    assert.equal(current["id"], "CURRENT");
    assert.equal(current["action"], "UPDATE");
    assert.equal(previous["action"], "UPDATE");
    assert.equal(previous["type"], "OBJECT");
    assert.equal(previous["path"], "app/demo/versioned");
    assert.equal(previous["sdbox_id"], d.sdb.id);
    const old = await json<SecretRead>(
      await cerberus(stack, `/v1/secret/app/demo/versioned?versionId=${previous["id"]}`, token),
    );
    assert.deepEqual(old["data"], { n: "1" });
    assert.equal(old["metadata"]["version_id"], previous["id"]);
    assert.equal(old["metadata"]["action"], "UPDATE");
    const paged = await json(await cerberus(stack, "/v1/secret-versions/app/demo/versioned?limit=1", token));
    assert.equal(paged["has_next"], true);
    assert.equal(paged["next_offset"], 1);
    assert.deepEqual(
      codes(await json(await cerberus(stack, "/v1/secret-versions/app/demo/versioned?limit=x", token))),
      [99224],
    );
    const paths = await json(await cerberus(stack, `/v1/sdb-secret-version-paths/${d.sdb.id}`, token));
    assert.ok((paths as unknown as string[]).includes("app/demo/versioned"));
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/versioned", token, { method: "DELETE" })).status, 204);
    assert.equal((await cerberus(stack, "/v1/secret/app/demo/versioned", token)).status, 404);
    const afterDelete = await json<SecretVersions>(
      await cerberus(stack, "/v1/secret-versions/app/demo/versioned", token),
    );
    assert.equal(afterDelete["secure_data_version_summaries"][0]!["action"], "DELETE");
  });

  it("stores files: multipart upload, raw read, HEAD, listing, type clash and delete", async () => {
    const token = await userToken(stack);
    const form = new FormData();
    form.append("file-content", new Blob(["-----BEGIN CERTIFICATE-----\n"]), "ignored-name.pem");
    const upload = await cerberus(stack, "/v1/secure-file/app/demo/certs/server.pem", token, {
      method: "POST",
      body: form,
    });
    assert.equal(upload.status, 204);
    const read = await cerberus(stack, "/v1/secure-file/app/demo/certs/server.pem", token);
    assert.equal(read.headers.get("content-disposition"), 'attachment; filename="server.pem"');
    assert.equal(await read.text(), "-----BEGIN CERTIFICATE-----\n");
    const head = await cerberus(stack, "/v1/secure-file/app/demo/certs/server.pem", token, { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), "28");
    const listing = await json<FileListing>(await cerberus(stack, "/v1/secure-files/app/demo/", token));
    assert.equal(listing["total_file_count"], 1);
    assert.deepEqual(Object.keys(listing["secure_file_summaries"][0]!).sort(), [
      "created_by",
      "created_ts",
      "last_updated_by",
      "last_updated_ts",
      "name",
      "path",
      "sdbox_id",
      "size_in_bytes",
    ]);
    assert.equal(listing["secure_file_summaries"][0]!["path"], "app/demo/certs/server.pem");
    const clash = await write(token, "app/demo/certs/server.pem", { a: "b" });
    assert.deepEqual(codes(await json(clash)), [99235]);
    const noPart = new FormData();
    noPart.append("other", "x");
    assert.deepEqual(
      codes(await json(await cerberus(stack, "/v1/secure-file/app/demo/f", token, { method: "POST", body: noPart }))),
      [99999],
    );
    assert.equal(
      (await cerberus(stack, "/v1/secure-file/app/demo/certs/server.pem", token, { method: "DELETE" })).status,
      204,
    );
    const gone = await cerberus(stack, "/v1/secure-file/app/demo/certs/server.pem", token);
    assert.equal(gone.status, 404);
    assert.deepEqual(codes(await json(gone)), [99996]);
  });
});

describe("SDB, category and role endpoints", () => {
  it("creates, reads, updates and deletes SDBs with permissions enforced", async () => {
    const stack = memoryStack();
    const token = await userToken(stack);
    const categories = (await json(await cerberus(stack, "/v1/category", token))) as unknown as Json[];
    assert.deepEqual(categories.map((c) => c["path"]).sort(), ["app", "shared"]);
    const roles = (await json(await cerberus(stack, "/v1/role", token))) as unknown as Json[];
    const roleId = (name: string) => roles.find((r) => r["name"] === name)?.["id"];
    assert.deepEqual(roles.map((r) => r["name"]).sort(), ["owner", "read", "write"]);
    const app = categories.find((c) => c["path"] === "app")?.["id"];
    const created = await cerberus(stack, "/v2/safe-deposit-box", token, {
      method: "POST",
      body: JSON.stringify({
        name: "Payments API",
        category_id: app,
        owner: "demo-owners",
        iam_principal_permissions: [],
      }),
    });
    assert.equal(created.status, 201);
    const sdb = await json<Sdb>(created);
    assert.equal(sdb["path"], "app/payments-api/");
    assert.equal(created.headers.get("location"), `/v2/safe-deposit-box/${sdb["id"]}`);
    const duplicate = await cerberus(stack, "/v2/safe-deposit-box", token, {
      method: "POST",
      body: JSON.stringify({ name: "payments api", category_id: app, owner: "demo-owners" }),
    });
    assert.deepEqual(codes(await json(duplicate)), [99210]);

    const creds = stack.seed.roleCredentials(stack.defaults.roles.app.arn);
    const iamToken =
      (await json<CerberusToken>(await stsLogin(stack, await stsIdentityHeaders(creds))))["client_token"];
    assert.equal((await cerberus(stack, `/v2/safe-deposit-box/${sdb["id"]}`, iamToken)).status, 403);
    const updated = await cerberus(stack, `/v2/safe-deposit-box/${sdb["id"]}`, token, {
      method: "PUT",
      body: JSON.stringify({
        owner: "demo-owners",
        description: "now shared with the app",
        iam_principal_permissions: [{ iam_principal_arn: stack.defaults.roles.app.arn, role_id: roleId("write") }],
      }),
    });
    assert.equal(updated.status, 200);
    assert.equal((await json<Sdb>(updated))["iam_principal_permissions"][0]!["role_id"], roleId("write"));
    const iamWrite = await cerberus(stack, "/v1/secret/app/payments-api/key", iamToken, {
      method: "POST",
      body: JSON.stringify({ k: "v" }),
    });
    assert.equal(iamWrite.status, 204);
    const visible = (await json(await cerberus(stack, "/v2/safe-deposit-box", iamToken))) as unknown as Json[];
    assert.deepEqual(visible.map((s) => s["path"]).sort(), ["app/demo/", "app/payments-api/"]);
    assert.equal(
      (await cerberus(stack, `/v2/safe-deposit-box/${sdb["id"]}`, iamToken, { method: "DELETE" })).status,
      403,
    );
    assert.equal((await cerberus(stack, `/v2/safe-deposit-box/${sdb["id"]}`, token, { method: "DELETE" })).status, 200);
    assert.equal((await cerberus(stack, `/v2/safe-deposit-box/${sdb["id"]}`, token)).status, 404);
  });

  it("answers unknown routes and methods with Cerberus errors", async () => {
    const stack = memoryStack();
    const unknown = await cerberus(stack, "/v9/nothing", undefined);
    assert.equal(unknown.status, 404);
    assert.deepEqual(codes(await json(unknown)), [99996]);
    assert.equal((await cerberus(stack, "/healthcheck", undefined, { method: "DELETE" })).status, 405);
  });
});
