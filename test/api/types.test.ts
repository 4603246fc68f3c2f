/**
 * Type-level tests of the data API, checked by `tsc` (the `typecheck` check of `test/run.mjs`):
 * each `expectType` line fails to compile when a result type drifts; each `@ts-expect-error`
 * fails to compile when a wrong call starts to type-check. The runtime test only keeps the
 * runners from reporting an empty file.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  FileInfo,
  headFile,
  listFiles,
  listKeys,
  listSdbs,
  listVersions,
  readFile,
  readKey,
  readSecret,
  Sdb,
  SdbSummary,
  SecretVersion,
  SecureFile,
  walk,
  writeSecret,
} from "../../src/core.ts";
import type { CerberusClient, FileSummary, getSdb } from "../../src/core.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T extends true>(_proof?: T): void {}
type Result<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;
type Yielded<F extends (...args: never[]) => AsyncIterable<unknown>> = ReturnType<F> extends AsyncIterable<infer T> ? T
  : never;

expectType<Equal<Result<typeof readSecret<{ db: string }>>, { db: string }>>();
expectType<Equal<Result<typeof readSecret>, Record<string, string>>>();
expectType<Equal<Result<typeof readKey>, string>>();
expectType<Equal<Result<typeof listKeys>, string[]>>();
expectType<Equal<Yielded<typeof walk>, string>>();
expectType<Equal<Yielded<typeof listVersions>, SecretVersion>>();
expectType<Equal<Yielded<typeof listFiles>, FileSummary>>();
expectType<Equal<Result<typeof readFile>, SecureFile>>();
expectType<Equal<SecureFile["bytes"], Uint8Array>>();
expectType<Equal<Result<typeof headFile>, FileInfo>>();
expectType<Equal<Result<typeof listSdbs>, SdbSummary[]>>();
expectType<Equal<Result<typeof getSdb>, Sdb>>();
expectType<Equal<Sdb["iamPrincipalPermissions"][number]["iamPrincipalArn"], string>>();

// @ts-expect-error values are strings as Cerberus stores them: a number type is refused
type _NumberValue = Result<typeof readSecret<{ port: number }>>;
declare const write: typeof writeSecret;
declare const client: CerberusClient;
void (() =>
  // @ts-expect-error a secret to write has string values only
  write(client, "app/demo/x", { port: 1 }));

test("the data API's types are checked by tsc", () => {
  assert.ok(true);
});
