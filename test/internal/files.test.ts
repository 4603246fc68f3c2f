/**
 * src/internal/files.ts: files named by settings, read through the runtime's `readTextFile`;
 * a failure names the variable, the path and the system's reason code, never the contents.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidInputError } from "../../src/errors.ts";
import { readSettingFile } from "../../src/internal/files.ts";
import { rejection } from "./_helpers.ts";

const failing = (error: unknown) => () => Promise.reject(error);

async function failure(error: unknown, path = "/run/secrets/token"): Promise<InvalidInputError> {
  const thrown = await rejection(
    readSettingFile(failing(error), path, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "credentials"),
  );
  assert.ok(thrown instanceof InvalidInputError, String(thrown));
  return thrown;
}

describe("readSettingFile", () => {
  it("returns the file's text as read", async () => {
    assert.equal(
      await readSettingFile((path) => Promise.resolve(`content of ${path}\n`), "/t", "VAR", "config"),
      "content of /t\n",
    );
  });

  it("a Node-style error: the variable, the path and the code", async () => {
    const error = await failure(
      Object.assign(new Error("ENOENT: no such file or directory, open '/run/secrets/token'"), { code: "ENOENT" }),
    );
    assert.equal(error.message, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: cannot read /run/secrets/token: ENOENT");
    assert.equal(error.field, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    assert.equal(error.step, "credentials");
    assert.equal(error.cause, undefined);
  });

  it("a Deno-style error without a code: its name", async () => {
    const notFound = Object.assign(new Error("No such file or directory (os error 2)"), { name: "NotFound" });
    assert.match((await failure(notFound)).message, /: cannot read \/run\/secrets\/token: NotFound$/);
    const notCapable = Object.assign(new Error('Requires read access to "/run/secrets/token"'), { name: "NotCapable" });
    assert.match((await failure(notCapable)).message, /: NotCapable$/);
  });

  it("never copies what the runtime said about the file", async () => {
    const leaky = new Error("first line of the file: s3cr3t-token");
    const error = await failure(leaky);
    assert.equal(error.message, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: cannot read /run/secrets/token: read failed");
    const oddCode = await failure(Object.assign(new Error("x"), { code: "s3cr3t-token in a code" }));
    assert.ok(!oddCode.message.includes("s3cr3t"), oddCode.message);
    const oddName = await failure(Object.assign(new Error("x"), { name: "s3cr3t\x1b[2J".repeat(10) }));
    assert.ok(oddName.message.length < 160 && !oddName.message.includes("\x1b"), oddName.message);
    assert.match((await failure("s3cr3t string")).message, /: read failed$/);
  });

  it("sanitises the path it names", async () => {
    const error = await failure(Object.assign(new Error("x"), { code: "ENOENT" }), "/tmp/evil\r\nInjected: yes");
    assert.equal(error.message, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: cannot read /tmp/evil Injected: yes: ENOENT");
  });
});
