/** Safe deposit boxes over the in-memory stack: list, get by id and path, create, update, delete, categories, roles. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  categoryId,
  createSdb,
  deleteSdb,
  getSdb,
  getSdbByPath,
  listCategories,
  listRoles,
  listSdbs,
  roleId,
  updateSdb,
} from "../../src/api/sdb.ts";
import { readSecret, writeSecret } from "../../src/api/secrets.ts";
import { AccessDeniedError, InvalidInputError, NotFoundError } from "../../src/errors.ts";
import { rejection } from "../support.ts";
import { dataWorld } from "./_world.ts";

describe("safe deposit boxes", () => {
  test("list, get by id and by path, with typed owner and permissions", async () => {
    const { owner, client, defaults } = dataWorld();
    const listed = await listSdbs(client);
    assert.deepEqual(listed.map((s) => s.path), ["app/demo/"]);
    const sdb = await getSdb(owner, listed[0]!.id);
    assert.equal(sdb.id, defaults.sdb.id);
    assert.equal(sdb.name, "demo");
    assert.equal(sdb.path, "app/demo/");
    assert.equal(sdb.owner, "demo-owners");
    assert.equal(sdb.categoryId, await categoryId(owner, "app"));
    assert.deepEqual(sdb.iamPrincipalPermissions.map((p) => [p.iamPrincipalArn, p.roleId]), [
      [defaults.roles.app.arn, await roleId(owner, "read")],
    ]);
    assert.equal(typeof sdb.iamPrincipalPermissions[0]!.id, "string");
    assert.deepEqual(await getSdbByPath(owner, "app/demo"), sdb);
    assert.deepEqual(await getSdbByPath(owner, "/app/demo/"), sdb);
    const missing = await rejection(getSdbByPath(owner, "app/nothing/"));
    assert.ok(missing instanceof NotFoundError);
    assert.match(missing.message, /no SDB at app\/nothing\//);
  });

  test("categories and roles, and ids from a category path or a role name", async () => {
    const { owner } = dataWorld();
    const categories = await listCategories(owner);
    assert.ok(categories.some((c) => c.path === "app" && c.displayName.length > 0));
    assert.deepEqual((await listRoles(owner)).map((r) => r.name).sort(), ["owner", "read", "write"]);
    assert.equal(await categoryId(owner, "shared/"), categories.find((c) => c.path === "shared")!.id);
    assert.equal(await roleId(owner, "WRITE"), (await listRoles(owner)).find((r) => r.name === "write")!.id);
    assert.ok((await rejection(categoryId(owner, "nope"))) instanceof NotFoundError);
    assert.ok((await rejection(roleId(owner, "admin"))) instanceof NotFoundError);
  });

  test("create, update (a field left out keeps its value), delete", async () => {
    const { owner, client, defaults } = dataWorld();
    const read = await roleId(owner, "read");
    const write = await roleId(owner, "write");
    const created = await createSdb(owner, {
      name: "Billing Service",
      categoryId: await categoryId(owner, "app"),
      owner: "demo-owners",
      description: "billing",
      userGroupPermissions: [{ name: "billing-devs", roleId: write }],
      iamPrincipalPermissions: [{ iamPrincipalArn: defaults.roles.app.arn, roleId: read }],
    });
    assert.equal(created.path, "app/billing-service/");
    assert.equal(created.description, "billing");
    assert.deepEqual(created.userGroupPermissions.map((p) => [p.name, p.roleId]), [["billing-devs", write]]);
    await writeSecret(owner, "app/billing-service/db", { password: "x" });
    assert.deepEqual(await readSecret(client, "app/billing-service/db"), { password: "x" });

    const updated = await updateSdb(owner, created.id, { description: "billing, v2" });
    assert.equal(updated.description, "billing, v2");
    assert.deepEqual(updated.userGroupPermissions.map((p) => [p.name, p.roleId]), [["billing-devs", write]]);
    assert.deepEqual(updated.iamPrincipalPermissions.map((p) => p.iamPrincipalArn), [defaults.roles.app.arn]);
    const revoked = await updateSdb(owner, created.id, { iamPrincipalPermissions: [] });
    assert.deepEqual(revoked.iamPrincipalPermissions, []);
    assert.equal(revoked.description, "billing, v2");

    await deleteSdb(owner, created.id);
    assert.ok((await rejection(getSdb(owner, created.id))) instanceof NotFoundError);
  });

  test("a reader may not create, update or delete an SDB: AccessDeniedError", async () => {
    const { owner, client, defaults } = dataWorld();
    assert.ok((await rejection(updateSdb(client, defaults.sdb.id, { description: "x" }))) instanceof AccessDeniedError);
    assert.ok((await rejection(deleteSdb(client, defaults.sdb.id))) instanceof AccessDeniedError);
    const app = await categoryId(owner, "app");
    const denied = await rejection(createSdb(owner, { name: "x", categoryId: app, owner: "not-my-group" }));
    assert.ok(denied instanceof AccessDeniedError);
    assert.match(denied.message, /^creating SDB x: Cerberus answered HTTP 403/);
  });

  test("bad input names the field and sends nothing", async () => {
    const { owner, ownerSent } = dataWorld();
    const cases: [Promise<unknown>, string][] = [
      [getSdb(owner, "../x"), "sdbId"],
      [createSdb(owner, null as never), "sdb"],
      [createSdb(owner, { name: 5 as never, categoryId: "c", owner: "o" }), "name"],
      [createSdb(owner, { name: "n", categoryId: "c/../d", owner: "o" }), "categoryId"],
      [
        createSdb(owner, { name: "n", categoryId: "c", owner: "o", userGroupPermissions: {} as never }),
        "userGroupPermissions",
      ],
      [
        createSdb(owner, {
          name: "n",
          categoryId: "c",
          owner: "o",
          iamPrincipalPermissions: [{ roleId: "r" } as never],
        }),
        "iamPrincipalPermissions.iamPrincipalArn",
      ],
      [
        createSdb(owner, { name: "n", categoryId: "c", owner: "o", userGroupPermissions: [null as never] }),
        "userGroupPermissions[0]",
      ],
      [updateSdb(owner, "id", "x" as never), "changes"],
      [getSdbByPath(owner, "app"), "path"],
    ];
    for (const [promise, field] of cases) {
      const error = await rejection(promise);
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.equal(error.field, field);
    }
    assert.equal(ownerSent.length, 0);
  });
});
