/**
 * The data API over the local stack served on 127.0.0.1, through each runtime's own transport
 * (the Node adapter, Bun's and Deno's fetch): every operation once, binary bytes included.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  categoryId,
  createCerberusClient,
  createSdb,
  deleteFile,
  deleteSdb,
  deleteSecret,
  getSdbByPath,
  headFile,
  listFiles,
  listKeys,
  listVersions,
  mergeSecret,
  NotFoundError,
  readFile,
  readSecret,
  roleId,
  userAuth,
  walk,
  writeFile,
  writeSecret,
} from "../../mod.ts";
import { type LocalStack, startLocalStack } from "../../src/testing/mod.ts";

let stack: LocalStack;

before(async () => {
  stack = await startLocalStack();
});
after(async () => {
  await stack.close();
});

function owner() {
  const { username, password } = stack.defaults!.user;
  return createCerberusClient({
    url: stack.cerberus,
    auth: userAuth({ credentials: { username, password } }),
    env: {},
  });
}

describe("the data API over loopback HTTP", () => {
  test("secrets: write, merge, walk, versions, delete", async () => {
    const client = owner();
    await writeSecret(client, "app/demo/loop/a", { k: "1" });
    assert.deepEqual(await mergeSecret(client, "app/demo/loop/a", { j: "2" }), { k: "1", j: "2" });
    await writeSecret(client, "app/demo/loop/deep/b", { k: "3" });
    const paths: string[] = [];
    for await (const path of walk(client, "app/demo/loop/")) paths.push(path);
    assert.deepEqual(paths, ["app/demo/loop/a", "app/demo/loop/deep/b"]);
    const versions = [];
    for await (const version of listVersions(client, "app/demo/loop/a", { pageSize: 1 })) versions.push(version);
    assert.equal(versions.length, 2);
    assert.deepEqual(await readSecret(client, "app/demo/loop/a", { versionId: versions[1]!.id }), { k: "1" });
    await deleteSecret(client, "app/demo/loop/a");
    assert.ok((await readSecret(client, "app/demo/loop/a").catch((e: unknown) => e)) instanceof NotFoundError);
    assert.deepEqual(await listKeys(client, "app/demo/loop/"), ["deep/"]);
  });

  test("files: every byte value and a multipart delimiter round-trip; HEAD, listing, delete", async () => {
    const client = owner();
    const bytes = new Uint8Array(70 * 1024).map((_, i) => (i * 7919 + (i >> 8)) & 0xff);
    bytes.set(new TextEncoder().encode("\r\n--\0\0\r\n--"), 4096);
    await writeFile(client, "app/demo/loop/blob.bin", bytes);
    const file = await readFile(client, "app/demo/loop/blob.bin");
    assert.equal(file.size, bytes.length);
    assert.ok(file.bytes.every((b, i) => b === bytes[i]), "byte for byte");
    assert.deepEqual(await headFile(client, "app/demo/loop/blob.bin"), {
      name: "blob.bin",
      contentType: "application/octet-stream",
      size: bytes.length,
    });
    const listed = [];
    for await (const summary of listFiles(client, "app/demo/")) listed.push(summary.path);
    assert.ok(listed.includes("app/demo/loop/blob.bin"));
    await deleteFile(client, "app/demo/loop/blob.bin");
    assert.ok((await headFile(client, "app/demo/loop/blob.bin").catch((e: unknown) => e)) instanceof NotFoundError);
  });

  test("SDBs: create, find by path, delete", async () => {
    const client = owner();
    const created = await createSdb(client, {
      name: "loop box",
      categoryId: await categoryId(client, "shared"),
      owner: stack.defaults!.user.groups[0]!,
      userGroupPermissions: [{ name: "readers", roleId: await roleId(client, "read") }],
    });
    assert.deepEqual(await getSdbByPath(client, "shared/loop-box/"), created);
    await deleteSdb(client, created.id);
    assert.ok((await getSdbByPath(client, "shared/loop-box").catch((e: unknown) => e)) instanceof NotFoundError);
  });
});
