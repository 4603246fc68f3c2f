/**
 * SigV4 signing: aws4fetch's signer run over {@link PlainHeaders} while the runtime's `Headers`
 * is still an unloaded accessor (Node), and byte for byte the same signature as with `Headers`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { sealCredentials } from "../../src/aws/credentials.ts";
import { PlainHeaders, type SignInput, signPost, withPlainHeaders } from "../../src/aws/sigv4.ts";

const RealHeaders = globalThis.Headers;

/**
 * Runs `fn` with the global `Headers` as a lazy accessor (as an unstarted Node has it) whose
 * getter counts its calls, then puts the original property back.
 */
async function withLazyGlobal<T>(fn: (reads: () => number) => Promise<T> | T): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(globalThis, "Headers")!;
  let reads = 0;
  Object.defineProperty(globalThis, "Headers", {
    get() {
      reads++;
      return RealHeaders;
    },
    set() {},
    configurable: true,
    enumerable: false,
  });
  try {
    return await fn(() => reads);
  } finally {
    Object.defineProperty(globalThis, "Headers", original);
  }
}

/** Runs `fn` with the global `Headers` as a plain value (as Bun and Workers have it). */
async function withValueGlobal<T>(fn: () => Promise<T> | T): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(globalThis, "Headers")!;
  Object.defineProperty(globalThis, "Headers", { value: RealHeaders, configurable: true, writable: true });
  try {
    return await fn();
  } finally {
    Object.defineProperty(globalThis, "Headers", original);
  }
}

const credentials = sealCredentials(
  {
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    sessionToken: "session/token==",
  },
  "test credentials",
  "kms-decrypt",
);

function input(headers: Record<string, string>, body = "{}", url = "https://kms.us-west-2.amazonaws.com/"): SignInput {
  return {
    url,
    headers,
    body,
    credentials,
    service: "kms",
    region: "us-west-2",
    time: Date.UTC(2026, 10, 29, 12),
    step: "kms-decrypt",
  };
}

describe("withPlainHeaders", () => {
  it("while the global is an unloaded accessor, builds with PlainHeaders and never calls the getter", async () => {
    await withLazyGlobal((reads) => {
      const before = Object.getOwnPropertyDescriptor(globalThis, "Headers");
      const seen = withPlainHeaders(() => globalThis.Headers);
      assert.equal(seen, PlainHeaders as unknown);
      assert.equal(reads(), 0, "the runtime's Headers was not loaded");
      assert.deepEqual(Object.getOwnPropertyDescriptor(globalThis, "Headers"), before, "put back as it was");
    });
  });

  it("puts the global back when the build throws", async () => {
    await withLazyGlobal(() => {
      const before = Object.getOwnPropertyDescriptor(globalThis, "Headers");
      assert.throws(() =>
        withPlainHeaders(() => {
          throw new Error("boom");
        }), /boom/);
      assert.deepEqual(Object.getOwnPropertyDescriptor(globalThis, "Headers"), before);
    });
  });

  it("leaves a Headers the runtime already made (a value) in place", async () => {
    await withValueGlobal(() => {
      assert.equal(withPlainHeaders(() => globalThis.Headers), RealHeaders);
    });
  });

  it("signPost on an unloaded Node never loads Headers, and signs as with Headers", async () => {
    const headers = { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.Decrypt" };
    const plain = await withLazyGlobal(async (reads) => {
      const signed = await signPost(input(headers));
      assert.equal(reads(), 0);
      return signed;
    });
    const real = await withValueGlobal(() => signPost(input(headers)));
    assert.deepEqual(plain, real);
    assert.match(
      plain.authorization ?? "",
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261129\/us-west-2\/kms\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
  });
});

describe("PlainHeaders against the runtime's Headers", () => {
  // Names: mostly tokens in mixed case, sometimes anything; values: printable, padded, or hostile.
  const name = fc.oneof(
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/),
    fc.string({ maxLength: 6 }),
  );
  const value = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.stringMatching(/^[ \t]{0,2}[\x21-\x7e]{0,10}[ \t\r\n]{0,2}$/),
    fc.string({ unit: "binary", maxLength: 6 }),
  );
  const record = fc.dictionary(name, value, { maxKeys: 6 });

  const observe = (make: () => { keys(): Iterable<string>; get(n: string): string | null }) => {
    try {
      const headers = make();
      const names = [...headers.keys()];
      return { names, values: names.map((n) => headers.get(n)) };
    } catch (error) {
      return { threw: (error as Error).name };
    }
  };

  it("accepts, refuses, lowercases, trims and lists exactly as Headers does", () => {
    fc.assert(
      fc.property(record, (init) => {
        assert.deepEqual(observe(() => new PlainHeaders(init)), observe(() => new RealHeaders(init)));
      }),
      { numRuns: 500 },
    );
  });

  it("set, has, delete and forEach behave as Headers", () => {
    fc.assert(
      fc.property(
        record,
        fc.array(fc.tuple(fc.constantFrom("set", "delete", "has"), name, value), { maxLength: 6 }),
        (init, steps) => {
          const run = (headers: {
            set(n: string, v: string): void;
            delete(n: string): void;
            has(n: string): boolean;
            forEach(cb: (v: string, n: string) => void): void;
          }) => {
            const log: unknown[] = [];
            for (const [op, n, v] of steps) {
              try {
                if (op === "set") headers.set(n, v);
                else if (op === "delete") headers.delete(n);
                else log.push(headers.has(n));
              } catch (error) {
                log.push((error as Error).name);
              }
            }
            headers.forEach((v, n) => log.push([n, v]));
            return log;
          };
          let plain: PlainHeaders, real: Headers;
          try {
            plain = new PlainHeaders(init);
            real = new RealHeaders(init);
          } catch {
            return; // refusals are compared by the test above
          }
          assert.deepEqual(run(plain), run(real));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("signs byte for byte as with Headers, for any valid headers and body", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}$/), fc.stringMatching(/^[ ]?[\x21-\x7e ]{0,16}$/), {
          maxKeys: 4,
        }),
        fc.string({ maxLength: 40 }),
        fc.constantFrom("https://kms.us-west-2.amazonaws.com/", "http://127.0.0.1:4566/a//b?x=1&a=%20"),
        async (headers, body, url) => {
          const plain = await withLazyGlobal(() => signPost(input(headers, body, url)));
          const real = await withValueGlobal(() => signPost(input(headers, body, url)));
          assert.deepEqual(plain, real);
        },
      ),
      { numRuns: 100 },
    );
  });
});
