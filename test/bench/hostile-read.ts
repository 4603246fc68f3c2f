/**
 * One read from a hostile server, for `hostile-bodies.ts`: `node --import tsx hostile-read.ts
 * <library root> <Cerberus URL>`. Works with this tree's API and with the first landed one
 * (`client.readSecret`, no `tokenAuth`), so that both can be measured the same way. Prints one
 * line: `ok` or the error's name, code and the start of its message.
 */
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

type Library = Record<string, unknown> & {
  createCerberusClient(options: Record<string, unknown>): Record<string, unknown>;
};

const [root, url] = process.argv.slice(2);
const lib = (await import(pathToFileURL(join(root!, "mod.ts")).href)) as Library;
const token = "bench-token";
const now = Date.now();
const auth = typeof lib.tokenAuth === "function" ? (lib.tokenAuth as (t: string) => unknown)(token) : {
  method: "token",
  authenticate: () =>
    Promise.resolve(
      new (lib.CerberusToken as new (value: string, info: unknown) => unknown)(token, {
        method: "token",
        principal: "bench",
        policies: [],
        metadata: {},
        leaseDurationSeconds: 3600,
        issuedAt: new Date(now),
        expiresAt: new Date(now + 3_600_000),
        renewable: false,
      }),
    ),
};
const client = lib.createCerberusClient({ url, auth, env: {} });
try {
  if (typeof lib.readSecret === "function") await lib.readSecret(client, "app/demo/config");
  else await (client.readSecret as (path: string) => Promise<unknown>)("app/demo/config");
  console.log("ok");
} catch (error) {
  const e = error as { name?: string; code?: string; message?: string };
  console.log(`${e.name} ${e.code ?? ""}: ${String(e.message).slice(0, 140)}`);
}
