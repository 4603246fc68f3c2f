/**
 * The public API is a promise: the runtime names `cerberus-edge` and `cerberus-edge/core` export,
 * listed here so that adding or dropping one is a visible decision. The two entries export the
 * same names (the root's `createCerberusClient` adds runtime detection and the default chain).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as root from "../mod.ts";
import * as core from "../src/core.ts";

const PUBLIC = {
  client: ["createCerberusClient", "VERSION"],
  auth: ["kmsAuth", "stsAuth", "tokenAuth", "userAuth"],
  secrets: ["deleteSecret", "listKeys", "mergeSecret", "readKey", "readSecret", "walk", "writeSecret"],
  versions: ["listVersionedPaths", "listVersions"],
  files: ["deleteFile", "headFile", "listFiles", "readFile", "writeFile"],
  sdb: [
    "categoryId",
    "createSdb",
    "deleteSdb",
    "getSdb",
    "getSdbByPath",
    "listCategories",
    "listRoles",
    "listSdbs",
    "roleId",
    "updateSdb",
  ],
  errors: [
    "AbortedError",
    "AccessDeniedError",
    "AuthenticationError",
    "AwsError",
    "CerberusApiError",
    "CerberusEdgeError",
    "InvalidInputError",
    "NotFoundError",
    "PayloadError",
    "TransportError",
    "UnexpectedAnswerError",
  ],
};

test("cerberus-edge/core exports exactly the public names", () => {
  assert.deepEqual(Object.keys(core).sort(), Object.values(PUBLIC).flat().sort());
});

test("cerberus-edge exports the same names", () => {
  assert.deepEqual(Object.keys(root).sort(), Object.keys(core).sort());
  assert.notEqual(root.createCerberusClient, core.createCerberusClient, "the root's adds runtime detection");
  assert.equal(root.readSecret, core.readSecret);
});
