/** Secure files over the in-memory stack: binary round trips, HEAD, listing pages, versions, errors. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deleteFile, headFile, listFiles, readFile, writeFile } from "../../src/api/files.ts";
import { listVersions } from "../../src/api/versions.ts";
import { AccessDeniedError, InvalidInputError, NotFoundError, PayloadError } from "../../src/errors.ts";
import { userAuth } from "../../src/auth/user-auth.ts";
import { rejection } from "../support.ts";
import { dataWorld } from "./_world.ts";

/** 70 KB of pseudo-random bytes with a multipart delimiter, CR LF and NUL bytes inside. */
function awkwardBytes(): Uint8Array {
  const bytes = new Uint8Array(70 * 1024);
  let x = 0x2545f491;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  const marker = new TextEncoder().encode("\r\n--boundary\r\nContent-Disposition: form-data\r\n\r\n\0\0--\r\n");
  bytes.set(marker, 1000);
  bytes.set(marker, bytes.length - marker.length);
  return bytes;
}

describe("files", () => {
  test("70 KB of binary round-trip byte for byte, with name, type and size", async () => {
    const { owner, ownerSent } = dataWorld();
    const bytes = awkwardBytes();
    await writeFile(owner, "app/demo/certs/blob.p12", bytes);
    const upload = ownerSent.find((s) => s.method === "POST" && s.url.pathname.startsWith("/v1/secure-file/"))!;
    assert.match(upload.headers.get("content-type")!, /^multipart\/form-data; ?boundary=/);
    const file = await readFile(owner, "app/demo/certs/blob.p12");
    assert.equal(file.size, bytes.length);
    assert.equal(file.name, "blob.p12");
    assert.equal(file.contentType, "application/x-pkcs12");
    assert.ok(file.bytes instanceof Uint8Array);
    assert.deepEqual(file.bytes, bytes);
    assert.deepEqual(await headFile(owner, "app/demo/certs/blob.p12"), {
      name: "blob.p12",
      contentType: "application/x-pkcs12",
      size: bytes.length,
    });
  });

  test("a Blob or a string uploads too, and a file's old version stays readable", async () => {
    const { owner } = dataWorld();
    await writeFile(owner, "app/demo/app.properties", "a=1\n", { contentType: "text/plain" });
    await writeFile(owner, "app/demo/app.properties", new Blob(["a=2\n"]));
    assert.equal(new TextDecoder().decode((await readFile(owner, "app/demo/app.properties")).bytes), "a=2\n");
    const versions = [];
    for await (const version of listVersions(owner, "app/demo/app.properties")) versions.push(version);
    assert.equal(versions[0]!.id, "CURRENT");
    assert.equal(versions[0]!.type, "FILE");
    const old = versions.find((v) => v.id !== "CURRENT")!;
    const first = await readFile(owner, "app/demo/app.properties", { versionId: old.id });
    assert.equal(new TextDecoder().decode(first.bytes), "a=1\n");
  });

  test("listFiles walks every page", async () => {
    const { owner, ownerSent } = dataWorld();
    for (const name of ["a.txt", "b.txt", "c.txt", "d/e.txt", "f.json"]) {
      await writeFile(owner, `app/demo/${name}`, name);
    }
    const files = [];
    for await (const file of listFiles(owner, "app/demo/", { pageSize: 2 })) files.push(file);
    assert.deepEqual(files.map((f) => f.path), [
      "app/demo/a.txt",
      "app/demo/b.txt",
      "app/demo/c.txt",
      "app/demo/d/e.txt",
      "app/demo/f.json",
    ]);
    assert.equal(files[3]!.name, "e.txt");
    assert.equal(files[0]!.sizeInBytes, 5);
    assert.equal(files[0]!.createdBy, "demo@local.test");
    const pages = ownerSent.filter((s) => s.url.pathname === "/v1/secure-files/app/demo/");
    assert.deepEqual(pages.map((s) => s.url.search), ["?limit=2&offset=0", "?limit=2&offset=2", "?limit=2&offset=4"]);
    const none = [];
    for await (const file of listFiles(owner, "app/demo/nothing/")) none.push(file);
    assert.deepEqual(none, []);
  });

  test("a listing whose next_offset does not move forward is a PayloadError, not an endless loop", async () => {
    const { owner, stack } = dataWorld();
    const page = JSON.stringify({ has_next: true, next_offset: 0, secure_file_summaries: [] });
    stack.faults.inject("cerberus", { kind: "body", body: page, headers: { "content-type": "application/json" } }, {
      path: "/v1/secure-files/",
      times: Infinity,
    });
    const error = await rejection((async () => {
      for await (const _ of listFiles(owner, "app/demo/")) { /* nothing */ }
    })());
    stack.faults.clear();
    assert.ok(error instanceof PayloadError);
    assert.match(error.message, /next_offset does not move forward/);
  });

  test("delete, then read and HEAD: NotFoundError; a reader may not upload", async () => {
    const { owner, client } = dataWorld();
    await writeFile(owner, "app/demo/x.txt", "x");
    assert.ok((await rejection(writeFile(client, "app/demo/y.txt", "y"))) instanceof AccessDeniedError);
    await deleteFile(owner, "app/demo/x.txt");
    const read = await rejection(readFile(owner, "app/demo/x.txt"));
    assert.ok(read instanceof NotFoundError);
    assert.match(read.message, /^reading file app\/demo\/x\.txt: Cerberus answered HTTP 404/);
    assert.ok((await rejection(headFile(owner, "app/demo/x.txt"))) instanceof NotFoundError);
    assert.ok((await rejection(deleteFile(owner, "app/demo/x.txt"))) instanceof NotFoundError);
  });

  test("bad data, types, paths and page sizes are InvalidInputErrors and send nothing", async () => {
    const { owner, ownerSent } = dataWorld();
    const cases: [Promise<unknown>, string][] = [
      [writeFile(owner, "app/demo/x", 42 as unknown as string), "data"],
      [writeFile(owner, "app/demo/x", "x", { contentType: "text/plain\r\nX-Evil: 1" }), "contentType"],
      [writeFile(owner, "app/demo/", "x"), "path"],
      [readFile(owner, "app/demo/x", { versionId: "a b" }), "versionId"],
      [listFiles(owner, "app/demo/", { pageSize: 0 }).next(), "pageSize"],
      [listFiles(owner, "app/demo/", { pageSize: 1001 }).next(), "pageSize"],
    ];
    for (const [promise, field] of cases) {
      const error = await rejection(promise);
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.equal(error.field, field);
    }
    assert.equal(ownerSent.length, 0);
  });

  test("maxFileBytes bounds a file read; a larger file is a PayloadError (the limit is the client's choice)", async () => {
    const world = dataWorld();
    await writeFile(world.owner, "app/demo/big.bin", new Uint8Array(4096));
    const { username, password } = world.defaults.user;
    const small = world.connect({
      provider: userAuth({ credentials: { username, password } }),
      client: { maxFileBytes: 1024 },
    });
    const error = await rejection(readFile(small.client, "app/demo/big.bin"));
    assert.ok(error instanceof PayloadError, String(error));
    assert.match(error.message, /larger than the 1024-byte limit/);
    assert.equal((await readFile(world.owner, "app/demo/big.bin")).size, 4096);
  });

  test("the name comes from Content-Disposition (filename* first), else from the path", async () => {
    const { owner, stack } = dataWorld();
    await owner.whoami();
    const answer = (disposition: string | undefined) =>
      stack.faults.inject("cerberus", {
        kind: "body",
        body: "abc",
        headers: { "content-type": "text/plain", ...(disposition ? { "content-disposition": disposition } : {}) },
      }, { path: "/v1/secure-file/" });
    answer(`attachment; filename="a \\"b\\".txt"; filename*=UTF-8''%C3%A9t%C3%A9.txt`);
    assert.equal((await readFile(owner, "app/demo/x")).name, "été.txt");
    answer('attachment; filename="bell\u0007\u001b[2Jname.txt"');
    assert.equal((await readFile(owner, "app/demo/x")).name, "bell [2Jname.txt");
    answer("attachment; filename=plain.txt");
    assert.equal((await readFile(owner, "app/demo/x")).name, "plain.txt");
    answer(undefined);
    const file = await readFile(owner, "app/demo/folder/from-path.pem");
    assert.deepEqual([file.name, file.contentType, file.size], ["from-path.pem", "text/plain", 3]);
  });
});
