/**
 * The in-memory local stack on a manual clock, with a spy on its transport, for the AWS tests
 * (not a test file itself).
 */
import assert from "node:assert/strict";
import type { HttpContext } from "../../src/internal/http.ts";
import type { HttpTransport } from "../../src/transport.ts";
import { createLocalStack, type LocalStack, type LocalStackOptions, ManualClock } from "../../src/testing/mod.ts";
import { type SeenRequest, spy } from "../internal/_helpers.ts";

/** A seeded in-memory stack, the client's `HttpContext` on the same manual clock, and what was sent. */
export interface World {
  clock: ManualClock;
  stack: LocalStack & { defaults: NonNullable<LocalStack["defaults"]> };
  http: HttpContext;
  seen: SeenRequest[];
  /** Requests the stack answered for one service, as `METHOD /path status`. */
  log(service: "imds" | "kms" | "ecs" | "cerberus" | "sts"): string[];
  /** Resolves once the client has sent `count` requests in all (without moving the clock). */
  sent(count: number): Promise<void>;
}

/** Builds a {@link World}. */
export function world(options: Omit<LocalStackOptions, "clock" | "now"> = {}): World {
  const clock = new ManualClock();
  const stack = createLocalStack({ ...options, clock });
  assert.ok(stack.defaults);
  const { transport: spied, seen } = spy(stack.transport);
  const waiters: { count: number; resolve: () => void }[] = [];
  const transport: HttpTransport = (url, init) => {
    const answer = spied(url, init);
    for (const waiter of waiters.filter((w) => seen.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    return answer;
  };
  return {
    clock,
    stack: stack as World["stack"],
    http: { transport, clock },
    seen,
    sent: (
      count,
    ) => (seen.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve }))),
    log: (service) => stack.requests.entries(service).map((e) => `${e.method} ${e.path} ${e.status}`),
  };
}

/** An environment lookup over a record. */
export const envOf = (vars: Record<string, string | undefined>) => (name: string): string | undefined => vars[name];
