/** User auth with MFA, refresh and logout, over the in-memory stack. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type MfaChallenge, userAuth } from "../../src/auth/user-auth.ts";
import { AuthenticationError, InvalidInputError } from "../../src/errors.ts";
import { createWorld, rejection, sentTokens } from "../support.ts";
import { readSecret } from "../../src/api/secrets.ts";

const DEMO = { username: "demo@local.test", password: "local-stack-password" };

describe("user auth", () => {
  it("without MFA: Basic credentials give a user token that reads the owners' SDB", async () => {
    const world = createWorld();
    const { client, sent } = world.connect({ provider: userAuth({ credentials: DEMO }) });
    assert.deepEqual(await readSecret(client, world.defaults.secretPath), world.defaults.secret);
    const me = await client.whoami();
    assert.equal(me.method, "user");
    assert.equal(me.principal, DEMO.username);
    const login = sent.find((s) => s.url.pathname === "/v2/auth/user")!;
    assert.match(login.headers.get("authorization") ?? "", /^Basic /);
    assert.ok(!JSON.stringify(me).includes(DEMO.password));
  });

  it("a wrong password is an AuthenticationError without the password", async () => {
    const world = createWorld();
    const { client } = world.connect({
      provider: userAuth({ credentials: { ...DEMO, password: "wrong-password-x" } }),
    });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof AuthenticationError);
    assert.ok(!error.message.includes("wrong-password-x"));
  });

  it("MFA with a code device: the caller's function chooses it and gives the code", async () => {
    const world = createWorld();
    world.stack.seed.user({
      username: "mfa@local.test",
      password: "pw-123456",
      groups: ["demo-owners"],
      mfa: [{ id: "totp-1", kind: "totp", otp: "424242" }],
    });
    const seen: MfaChallenge[] = [];
    const { client } = world.connect({
      provider: userAuth({
        credentials: { username: "mfa@local.test", password: "pw-123456" },
        mfa: (challenge) => {
          seen.push(challenge);
          return Promise.resolve({ deviceId: challenge.devices[0]!.id, code: "424242" });
        },
      }),
    });
    assert.equal((await client.whoami()).principal, "mfa@local.test");
    assert.deepEqual(seen[0]!.devices.map((d) => [d.id, d.requiresTrigger]), [["totp-1", false]]);
  });

  it("MFA with a device that needs a trigger: trigger, then the code it sent", async () => {
    const world = createWorld();
    world.stack.seed.user({
      username: "sms@local.test",
      password: "pw-sms",
      groups: ["demo-owners"],
      mfa: [{ id: "sms-1", kind: "sms", otp: "777000" }],
    });
    const { client, sent } = world.connect({
      provider: userAuth({
        credentials: { username: "sms@local.test", password: "pw-sms" },
        mfa: async (challenge) => {
          const device = challenge.devices[0]!;
          assert.equal(device.requiresTrigger, true);
          await challenge.trigger(device.id);
          return { deviceId: device.id, code: "777000" };
        },
      }),
    });
    assert.equal((await client.whoami()).principal, "sms@local.test");
    assert.equal(sent.filter((s) => s.url.pathname === "/v2/auth/mfa_check").length, 2);
  });

  it("MFA required but no device chosen, and a wrong code: typed errors", async () => {
    const world = createWorld();
    world.stack.seed.user({
      username: "m2@local.test",
      password: "pw-m2",
      mfa: [{ id: "t", kind: "totp", otp: "111111" }],
    });
    const none = world.connect({
      provider: userAuth({ credentials: { username: "m2@local.test", password: "pw-m2" } }),
    });
    const e1 = await rejection(none.client.whoami());
    assert.ok(e1 instanceof InvalidInputError);
    assert.equal(e1.field, "userAuth.mfa");
    const wrong = world.connect({
      provider: userAuth({
        credentials: { username: "m2@local.test", password: "pw-m2" },
        mfa: () => Promise.resolve({ deviceId: "t", code: "000000" }),
      }),
    });
    const e2 = await rejection(wrong.client.whoami());
    assert.ok(e2 instanceof AuthenticationError);
    assert.match(e2.message, /99243/);
  });

  it("refreshes while Cerberus allows it, then logs in again through the credentials function", async () => {
    const world = createWorld({ stack: { cerberus: { maxRefreshCount: 1, userTokenTtlSeconds: 60 } } });
    let logins = 0;
    const { client, sent } = world.connect({
      provider: userAuth({
        credentials: () => {
          logins++;
          return Promise.resolve(DEMO);
        },
      }),
    });
    await client.whoami();
    assert.equal(logins, 1);
    // Within the last fifth of the lease the token is refreshed in the background (count 0 < 1).
    await world.clock.advance(50_000);
    await client.whoami();
    await world.clock.advance(0);
    assert.equal(sent.filter((s) => s.url.pathname === "/v2/auth/user/refresh").length, 1);
    assert.equal(logins, 1);
    // The refreshed token is at the limit (1 of 1): its renewal is a full login.
    await world.clock.advance(50_000);
    await client.whoami();
    await world.clock.advance(0);
    assert.equal(logins, 2);
    assert.equal(sent.filter((s) => s.url.pathname === "/v2/auth/user/refresh").length, 1);
  });

  it("logout revokes the token on the server; the next call logs in again", async () => {
    const world = createWorld();
    const { client, sent } = world.connect({ provider: userAuth({ credentials: DEMO }) });
    await readSecret(client, world.defaults.secretPath);
    const before = sentTokens(sent)[0]!;
    await client.logout();
    const revoked = await world.stack.transport(`${world.stack.cerberus}/v1/secret/${world.defaults.secretPath}`, {
      headers: { "X-Cerberus-Token": before },
    });
    assert.equal(revoked.status, 401);
    await readSecret(client, world.defaults.secretPath);
    const tokens = sentTokens(sent);
    assert.notEqual(tokens[tokens.length - 1], before);
    assert.equal(sent.filter((s) => s.url.pathname === "/v1/auth" && s.method === "DELETE").length, 1);
  });

  it("refuses bad options at once", () => {
    assert.throws(() => userAuth({ credentials: { username: "a:b", password: "x" } }), InvalidInputError);
    assert.throws(() => userAuth({ credentials: { username: "a", password: "" } }), InvalidInputError);
    assert.throws(() => userAuth(null as never), InvalidInputError);
  });

  it("a 401 on logout of a token already revoked is still a logout", async () => {
    const world = createWorld();
    const { client, sent } = world.connect({ provider: userAuth({ credentials: DEMO }) });
    await readSecret(client, world.defaults.secretPath);
    const token = sentTokens(sent)[0]!;
    const gone = await world.stack.transport(`${world.stack.cerberus}/v1/auth`, {
      method: "DELETE",
      headers: { "X-Cerberus-Token": token },
    });
    assert.equal(gone.status, 204);
    await client.logout(); // the server answers 401: resolved all the same
  });
});
