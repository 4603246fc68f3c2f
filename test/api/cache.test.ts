/**
 * The client's cache over the in-memory stack on a fake clock: one request for many readers,
 * answers from memory, correct after the client's own writes, frozen copies, a Cerberus outage
 * ridden through on stale answers, the principal changing, and files only with a byte budget.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deleteFile, readFile, writeFile } from "../../src/api/files.ts";
import { deleteSecret, listKeys, mergeSecret, readKey, readSecret, writeSecret } from "../../src/api/secrets.ts";
import { userAuth } from "../../src/auth/user-auth.ts";
import type { CerberusClientOptions } from "../../src/client/client.ts";
import { NotFoundError } from "../../src/errors.ts";
import { createWorld, onlyAppRole, type Sent } from "../support.ts";
import { rejection } from "../internal/_helpers.ts";

const CONFIG = "app/demo/config";

/** A world whose owner client (user auth, may write app/demo/) caches with `cache`. */
function cachingWorld(cache: CerberusClientOptions["cache"] = true) {
  const world = createWorld();
  onlyAppRole(world);
  const { username, password } = world.defaults.user;
  const owner = world.connect({
    provider: userAuth({ credentials: { username, password } }),
    client: { cache, attempts: 1 },
  });
  return { ...world, owner };
}

/** The GETs of `path` (a secret, a listing or a file) that reached Cerberus. */
const gets = (sent: Sent[], path: string, query = "") =>
  sent.filter((s) => s.method === "GET" && s.url.pathname === path && s.url.search === query).length;

describe("client cache", () => {
  it("1,000 concurrent cold reads of one path make one request; later reads within the TTL make none", async () => {
    const { owner } = cachingWorld();
    const reads = await Promise.all(Array.from({ length: 1000 }, () => readSecret(owner.client, CONFIG)));
    assert.equal(gets(owner.sent, `/v1/secret/${CONFIG}`), 1);
    assert.ok(reads.every((r) => r.greeting === "hello from the local stack"));
    await readSecret(owner.client, CONFIG);
    assert.equal(await readKey(owner.client, CONFIG, "environment"), "local", "readKey is served from the cached map");
    assert.equal(gets(owner.sent, `/v1/secret/${CONFIG}`), 1);
    const stats = owner.client.cache!.stats();
    assert.deepEqual([stats.misses, stats.hits], [1000, 2], "1,000 readers waited for the one load; 2 reads hit");
    assert.ok(owner.events.some((e) => e.type === "cache.miss" && e.key === `secret:${CONFIG}`));
    assert.ok(!JSON.stringify(owner.events).includes("hello from the local stack"), "events carry keys, not values");
  });

  it("every caller gets its own frozen copy", async () => {
    const { owner } = cachingWorld();
    const first = await readSecret(owner.client, CONFIG);
    assert.ok(Object.isFrozen(first));
    assert.throws(() => Object.assign(first, { greeting: "changed" }), TypeError);
    const second = await readSecret(owner.client, CONFIG);
    assert.notEqual(first, second, "a copy each");
    assert.equal(second.greeting, "hello from the local stack");
  });

  it("after the TTL: stale while one background refresh runs, then the new value", async () => {
    const { owner, clock, stack } = cachingWorld({ ttlMs: 10_000, staleWhileRevalidateMs: 60_000 });
    await readSecret(owner.client, CONFIG);
    stack.seed.secret(CONFIG, { greeting: "changed on the server" });
    await clock.advance(11_001);
    const during = await Promise.all(Array.from({ length: 100 }, () => readSecret(owner.client, CONFIG)));
    assert.ok(during.every((r) => r.greeting === "hello from the local stack"), "the stale value, at once");
    await clock.advance(0);
    assert.equal(gets(owner.sent, `/v1/secret/${CONFIG}`), 2, "one background refresh for 100 readers");
    assert.equal((await readSecret(owner.client, CONFIG)).greeting, "changed on the server");
  });

  it("rides through 30 s of Cerberus outage on stale answers, then recovers", async () => {
    const { owner, clock, stack } = cachingWorld({
      ttlMs: 5_000,
      staleWhileRevalidateMs: 5_000,
      staleIfErrorMs: 60_000,
    });
    await readSecret(owner.client, CONFIG);
    const outage = stack.faults.inject("cerberus", { kind: "status", status: 503 }, {
      path: `/v1/secret/${CONFIG}`,
      times: Number.POSITIVE_INFINITY,
    });
    for (let second = 1; second <= 30; second++) {
      await clock.advance(1_000);
      const read = await readSecret(owner.client, CONFIG);
      assert.equal(read.greeting, "hello from the local stack", `answered at ${second} s`);
    }
    assert.ok(gets(owner.sent, `/v1/secret/${CONFIG}`) > 1, "refreshes were tried");
    assert.ok(owner.client.cache!.stats().stale > 0);
    outage.remove();
    stack.seed.secret(CONFIG, { greeting: "back" });
    // A failed background refresh is tried again after a pause (5 s), not on every read.
    await clock.advance(6_000);
    await readSecret(owner.client, CONFIG);
    await clock.advance(0);
    assert.equal((await readSecret(owner.client, CONFIG)).greeting, "back");
  });

  it("past stale-if-error, the refresh's typed error", async () => {
    const { owner, clock, stack } = cachingWorld({ ttlMs: 1_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 5_000 });
    await readSecret(owner.client, CONFIG);
    stack.faults.inject("cerberus", { kind: "status", status: 503 }, {
      path: `/v1/secret/${CONFIG}`,
      times: Number.POSITIVE_INFINITY,
    });
    await clock.advance(2_000);
    assert.equal((await readSecret(owner.client, CONFIG)).greeting, "hello from the local stack");
    await clock.advance(10_000);
    const error = await rejection(readSecret(owner.client, CONFIG));
    assert.equal((error as { status?: number }).status, 503);
  });

  it("the client's own writes update or drop the entry; merges read Cerberus itself", async () => {
    const { owner, stack } = cachingWorld();
    await readSecret(owner.client, CONFIG);
    await writeSecret(owner.client, CONFIG, { greeting: "mine" });
    const before = gets(owner.sent, `/v1/secret/${CONFIG}`);
    assert.deepEqual({ ...(await readSecret(owner.client, CONFIG)) }, { greeting: "mine" });
    assert.equal(gets(owner.sent, `/v1/secret/${CONFIG}`), before, "the written value, from memory");

    stack.seed.secret(CONFIG, { greeting: "mine", other: "set elsewhere" });
    const merged = await mergeSecret(owner.client, CONFIG, { added: "1" });
    assert.deepEqual(merged, { greeting: "mine", other: "set elsewhere", added: "1" }, "the merge saw the server");

    await deleteSecret(owner.client, CONFIG);
    assert.ok((await rejection(readSecret(owner.client, CONFIG))) instanceof NotFoundError);
    const after = gets(owner.sent, `/v1/secret/${CONFIG}`);
    assert.ok((await rejection(readSecret(owner.client, CONFIG))) instanceof NotFoundError);
    assert.equal(gets(owner.sent, `/v1/secret/${CONFIG}`), after, "absence is cached for a short while");
  });

  it("a 404 is cached only for notFoundTtlMs", async () => {
    const { owner, clock, stack } = cachingWorld({ notFoundTtlMs: 2_000 });
    const path = "app/demo/not-yet";
    assert.ok((await rejection(readSecret(owner.client, path))) instanceof NotFoundError);
    stack.seed.secret(path, { now: "here" });
    assert.ok((await rejection(readSecret(owner.client, path))) instanceof NotFoundError);
    await clock.advance(2_001);
    assert.equal((await readSecret(owner.client, path)).now, "here");
  });

  it("listings are cached; a write below a folder drops its listing", async () => {
    const { owner } = cachingWorld();
    const before = await listKeys(owner.client, "app/demo/");
    await listKeys(owner.client, "app/demo/");
    assert.equal(gets(owner.sent, "/v1/secret/app/demo/", "?list=true"), 1);
    await writeSecret(owner.client, "app/demo/new-one", { a: "b" });
    const after = await listKeys(owner.client, "app/demo/");
    assert.equal(gets(owner.sent, "/v1/secret/app/demo/", "?list=true"), 2);
    assert.deepEqual(after.filter((k) => !before.includes(k)), ["new-one"]);
  });

  it("clear() and delete(path) forget; stats() counts", async () => {
    const { owner } = cachingWorld();
    await readSecret(owner.client, CONFIG);
    owner.client.cache!.delete(CONFIG);
    await readSecret(owner.client, CONFIG);
    owner.client.cache!.clear();
    await readSecret(owner.client, CONFIG);
    assert.equal(gets(owner.sent, `/v1/secret/${CONFIG}`), 3);
    assert.equal(owner.client.cache!.stats().entries, 1);
  });

  it("entries are dropped when the token's principal changes, and at logout", async () => {
    const world = createWorld();
    onlyAppRole(world);
    const { username, password } = world.defaults.user;
    const second = { username: "second@local.test", password: "second-password" };
    world.stack.seed.user({ ...second, groups: world.defaults.user.groups });
    let logins = 0;
    const owner = world.connect({
      provider: userAuth({ credentials: () => Promise.resolve(logins++ === 0 ? { username, password } : second) }),
      client: { cache: { ttlMs: 86_400_000 }, attempts: 1 },
    });
    await readSecret(owner.client, CONFIG);
    // The first token expires (one hour); the next request authenticates as the second user.
    await world.clock.advance(2 * 3_600_000);
    await listKeys(owner.client, "app/demo/");
    await readSecret(owner.client, CONFIG);
    assert.equal(gets(owner.sent, `/v1/secret/${CONFIG}`), 2, "the second principal read Cerberus itself");
    await owner.client.logout();
    assert.equal(owner.client.cache!.stats().entries, 0, "logout forgets what was read");
  });

  it("files are cached only with a byte budget", async () => {
    const plain = cachingWorld();
    await writeFile(plain.owner.client, "app/demo/cert.pem", "pem");
    await readFile(plain.owner.client, "app/demo/cert.pem");
    await readFile(plain.owner.client, "app/demo/cert.pem");
    assert.equal(gets(plain.owner.sent, "/v1/secure-file/app/demo/cert.pem"), 2);

    const budget = cachingWorld({ maxBytes: 1_000_000 });
    await writeFile(budget.owner.client, "app/demo/cert.pem", "pem");
    const first = await readFile(budget.owner.client, "app/demo/cert.pem");
    first.bytes[0] = 0;
    const second = await readFile(budget.owner.client, "app/demo/cert.pem");
    assert.equal(new TextDecoder().decode(second.bytes), "pem", "a caller's write into its bytes reaches no one");
    assert.equal(gets(budget.owner.sent, "/v1/secure-file/app/demo/cert.pem"), 1);
    await deleteFile(budget.owner.client, "app/demo/cert.pem");
    assert.ok((await rejection(readFile(budget.owner.client, "app/demo/cert.pem"))) instanceof NotFoundError);
  });
});
