/** Secret versions over the in-memory stack: every page, old versions readable, the SDB's versioned paths. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deleteSecret, readSecret, writeSecret } from "../../src/api/secrets.ts";
import { listVersionedPaths, listVersions, type SecretVersion } from "../../src/api/versions.ts";
import { AccessDeniedError, InvalidInputError, PayloadError } from "../../src/errors.ts";
import { rejection } from "../support.ts";
import { dataWorld } from "./_world.ts";

const PATH = "app/demo/rotating";

async function all(iterable: AsyncIterable<SecretVersion>): Promise<SecretVersion[]> {
  const out: SecretVersion[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("versions", () => {
  test("every page of the history, newest first; each old version reads as it was", async () => {
    const { owner, ownerSent, defaults } = dataWorld();
    for (let i = 1; i <= 5; i++) await writeSecret(owner, PATH, { generation: String(i) });
    const versions = await all(listVersions(owner, PATH, { pageSize: 2 }));
    assert.equal(versions.length, 5);
    assert.equal(versions[0]!.id, "CURRENT");
    assert.deepEqual(new Set(versions.map((v) => v.type)), new Set(["OBJECT"]));
    assert.equal(versions[0]!.path, PATH);
    assert.equal(versions[0]!.sdbId, defaults.sdb.id);
    assert.equal(versions[0]!.actionPrincipal, "demo@local.test");
    assert.equal(typeof versions[0]!.sizeInBytes, "number");
    const pages = ownerSent.filter((s) => s.url.pathname === `/v1/secret-versions/${PATH}`);
    assert.deepEqual(pages.map((s) => s.url.search), ["?limit=2&offset=0", "?limit=2&offset=2", "?limit=2&offset=4"]);
    const generations = [];
    for (const version of versions) {
      generations.push((await readSecret(owner, PATH, { versionId: version.id })).generation);
    }
    assert.deepEqual(generations, ["5", "4", "3", "2", "1"]);
  });

  test("the SDB's versioned paths include a deleted secret's", async () => {
    const { owner, defaults } = dataWorld();
    await writeSecret(owner, PATH, { a: "1" });
    await writeSecret(owner, "app/demo/gone", { a: "1" });
    await deleteSecret(owner, "app/demo/gone");
    const paths = await listVersionedPaths(owner, defaults.sdb.id);
    for (const path of ["app/demo/config", PATH, "app/demo/gone"]) assert.ok(paths.includes(path), path);
  });

  test("errors: a bad id or page size before sending, an SDB without a role, a wrong shape", async () => {
    const { owner, client, ownerSent, stack, defaults } = dataWorld();
    for (const id of ["", "a/b", "x".repeat(101), 5]) {
      const error = await rejection(listVersionedPaths(owner, id as string));
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.field, "sdbId");
    }
    assert.ok((await rejection(listVersions(owner, PATH, { pageSize: 2.5 }).next())) instanceof InvalidInputError);
    assert.equal(ownerSent.length, 0);
    const other = stack.seed.sdb({ name: "other", owner: "someone-else" });
    assert.ok((await rejection(listVersionedPaths(client, other.id))) instanceof AccessDeniedError);
    stack.faults.inject("cerberus", {
      kind: "body",
      body: JSON.stringify({ has_next: false, secure_data_version_summaries: [{ path: "x" }] }),
      headers: { "content-type": "application/json" },
    }, { path: "/v1/secret-versions/" });
    const shape = await rejection(listVersions(owner, `${defaults.sdb.path}config`).next());
    assert.ok(shape instanceof PayloadError);
    assert.match(
      shape.message,
      /\(GET \/v1\/secret-versions\/app\/demo\/config\) is invalid: secure_data_version_summaries\.0\.id is missing/,
    );
  });
});
