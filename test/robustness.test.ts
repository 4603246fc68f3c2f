/** Regressions from review: aborts, foreign errors quoting secrets, redirects, odd keys, odd options. */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, test } from "node:test";
import { kmsAuth } from "../src/auth/kms-auth.ts";
import { createInstanceMetadataClient } from "../src/aws/imds.ts";
import { kmsDecrypt } from "../src/aws/kms.ts";
import { checkCerberusUrl, createClient } from "../src/client.ts";
import { AbortedError, AuthenticationError, InvalidInputError } from "../src/errors.ts";
import { encodeSecretPath } from "../src/paths.ts";
import { edgeRuntime } from "../src/runtime/edge.ts";
import { createLocalStack } from "../src/testing/mod.ts";
import { FakeClock, flush } from "./helpers/fake-clock.ts";
import { FakeWorld } from "./helpers/fake-world.ts";
import { APP_ROLE_ARN, rejection, setup } from "./helpers/setup.ts";

describe("aborts", () => {
  test("an already-aborted signal rejects with AbortedError and sends nothing", async () => {
    const { client, world } = setup();
    await client.whoami();
    const before = world.seen.length;
    const error = await rejection(client.readSecret("app/demo/config", { signal: AbortSignal.abort(new Error("stop")) }));
    assert.ok(error instanceof AbortedError);
    assert.equal(world.seen.length, before);
  });

  test("aborting while the response is in flight leaves no unhandled rejection", async () => {
    const stack = createLocalStack();
    const client = createClient({ url: stack.cerberus, auth: kmsAuth(), transport: stack.transport, runtime: edgeRuntime(stack.env), allowInsecureHttp: true });
    await client.whoami();
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const pending = client.readSecret("app/demo/config", { signal: controller.signal });
      queueMicrotask(() => controller.abort());
      const outcome = await pending.then(() => "read", (e: unknown) => (e instanceof AbortedError ? "aborted" : String(e)));
      assert.ok(outcome === "read" || outcome === "aborted", outcome);
    }
    await flush();
  });

  test("one caller aborting does not fail the shared IMDS session token of the others", async () => {
    const world = new FakeWorld();
    world.addRole("app-role");
    const clock = new FakeClock();
    const imds = createInstanceMetadataClient({ transport: world.transport, clock });
    const controller = new AbortController();
    const impatient = rejection(imds.roleNames(controller.signal));
    const patient = imds.roleNames();
    controller.abort();
    assert.ok((await impatient) instanceof AbortedError);
    assert.deepEqual(await patient, ["app-role"]);
  });
});

describe("foreign errors never quote a secret", () => {
  test("a session token a header cannot carry is named, not quoted, and not in the cause chain", async () => {
    const { client } = setup({
      auth: { principalArn: APP_ROLE_ARN, region: "us-west-2", credentials: async () => ({ accessKeyId: "ASIAAPPROLEXXXXXXXXX", secretAccessKey: "sk", sessionToken: "SESSION-TOKEN-SECRET\n" }) },
    });
    const error = await rejection(client.whoami());
    assert.ok(error instanceof AuthenticationError);
    const everything = inspect(error, { depth: 20, showHidden: true });
    assert.ok(!everything.includes("SESSION-TOKEN-SECRET"), everything);
    assert.match(error.message, /credentials\.sessionToken: must be a string of visible ASCII/);
  });

  test("kmsDecrypt refuses such credentials before signing", async () => {
    const error = await rejection(
      kmsDecrypt({
        ciphertext: "AAAA",
        region: "us-west-2",
        endpoint: new URL("https://kms.us-west-2.amazonaws.com/"),
        credentials: { accessKeyId: "AKIA\u0000BAD", secretAccessKey: "x" },
        transport: async () => new Response(),
        clock: new FakeClock(),
      }),
    );
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.field, "credentials.accessKeyId");
  });
});

describe("no redirect is followed by any request", () => {
  test("Cerberus, IMDS and KMS requests all go out with redirect: manual", async () => {
    const { world } = setup();
    const modes = new Set<string>();
    const client = createClient({
      url: "https://cerberus.test",
      auth: kmsAuth(),
      transport: (req) => {
        modes.add(req.redirect);
        return world.transport(req);
      },
      clock: new FakeClock(),
    });
    await client.readSecret("app/demo/config");
    assert.deepEqual([...modes], ["manual"]);
  });
});

describe("odd but legal data", () => {
  test("secret keys named constructor, prototype and __proto__ survive", async () => {
    const { client, world } = setup();
    world.override("cerberus:GET /v1/secret/app/demo/config", () => new Response('{"data":{"constructor":"c","prototype":"p","__proto__":"x","normal":"n"}}'));
    const data = await client.readSecret("app/demo/config");
    assert.deepEqual(Object.keys(data).sort(), ["__proto__", "constructor", "normal", "prototype"]);
    assert.equal(data["constructor"], "c");
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
  });
});

describe("odd options are typed errors", () => {
  test("kmsAuth option types", () => {
    assert.throws(() => kmsAuth({ region: 42 as unknown as string }), /kmsAuth.region: must be a string/);
    assert.throws(() => kmsAuth(null as never), /kmsAuth options: must be an object/);
    assert.throws(() => kmsAuth({ fallbackRegions: "us-east-1" as never }), /fallbackRegions: must be an array/);
    assert.throws(() => kmsAuth({ credentials: { accessKeyId: "", secretAccessKey: "x" } }), /kmsAuth.credentials.accessKeyId/);
  });

  test("timeouts must fit a timer", () => {
    for (const timeoutMs of [Infinity, 2 ** 31, -1, Number.NaN]) {
      assert.throws(() => createClient({ url: "https://x", auth: kmsAuth(), timeoutMs }), InvalidInputError);
    }
  });

  test("null read options, lone surrogates, bare ? and # in the URL", async () => {
    const { client } = setup();
    assert.ok(await client.readSecret("app/demo/config", null as never));
    assert.deepEqual(await client.listKeys("app/demo/", null as never), await client.listKeys("app/demo/"));
    assert.throws(() => encodeSecretPath("app/demo/\ud800", { minSegments: 3 }), /lone surrogate/);
    assert.throws(() => checkCerberusUrl("https://host/?"), /query or fragment/);
    assert.throws(() => checkCerberusUrl("https://host/#"), /query or fragment/);
  });

  test("an IMDS endpoint without a scheme names the variable", async () => {
    const { client } = setup({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: "169.254.169.254" } });
    const error = await rejection(client.whoami());
    assert.match((error as Error).message, /AWS_EC2_METADATA_SERVICE_ENDPOINT: "169\.254\.169\.254" is not an http\(s\) origin/);
  });

  test("an endpoint with credentials in it is refused", async () => {
    const { client } = setup({ env: { AWS_ENDPOINT_URL: "https://user:pw@kms.example/" } });
    const error = await rejection(client.whoami());
    assert.ok(!(error as Error).message.includes("pw@"));
    assert.match((error as Error).message, /kms endpoint: must not carry a user name or password/);
  });
});
