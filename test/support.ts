/**
 * Shared setup of the client and auth tests: one in-memory local stack and one ManualClock for
 * both sides, a client on them, the events it emitted and every request it sent.
 *
 * The stack also answers the real regional KMS host names (`routeAwsHostnames`), and the client
 * is not given the stack's `AWS_ENDPOINT_URL_KMS`: KMS calls go to
 * `https://kms.<region>.amazonaws.com/`, so each region has its own endpoint (fallback regions).
 */
import { kmsAuth, type KmsAuthOptions } from "../src/auth/kms-auth.ts";
import type { AuthProvider } from "../src/auth/provider.ts";
import { CerberusToken } from "../src/auth/token.ts";
import { awsHost } from "../src/aws/host.ts";
import { type CerberusClient, type CerberusClientOptions, createCerberusClient } from "../src/client/client.ts";
import type { CerberusEvent } from "../src/events.ts";
import type { RuntimeEnvironment } from "../src/runtime/types.ts";
import {
  createLocalStack,
  type DefaultSeed,
  type LocalStack,
  type LocalStackOptions,
  ManualClock,
} from "../src/testing/mod.ts";
import type { HttpTransport } from "../src/transport.ts";

/** A request as the client sent it (before the stack saw it). */
export interface Sent {
  url: URL;
  method: string;
  headers: Headers;
  body: string;
  redirect: string;
}

/** Collects events; `onEvent` goes to the client. */
export function eventCollector(): { events: CerberusEvent[]; onEvent: (event: CerberusEvent) => void } {
  const events: CerberusEvent[] = [];
  return { events, onEvent: (event) => events.push(event) };
}

/** Wraps a transport so that every request is kept in `sent`. */
function recording(transport: HttpTransport): { transport: HttpTransport; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    transport: (url, init) => {
      const body = init.body === undefined
        ? ""
        : typeof init.body === "string"
        ? init.body
        : new TextDecoder().decode(init.body);
      sent.push({
        url: new URL(url),
        method: init.method,
        headers: new Headers(init.headers),
        body,
        redirect: init.redirect,
      });
      return transport(url, init);
    },
  };
}

/** A runtime with no environment and no files, on `transport`, that discovers EC2/ECS hosts. */
export function testRuntime(transport: HttpTransport, aws = true): RuntimeEnvironment {
  return {
    name: "test",
    env: () => undefined,
    readTextFile: () => Promise.reject(Object.assign(new Error("nope"), { code: "ENOENT" })),
    transport,
    ...(aws ? { aws: awsHost } : {}),
  };
}

/** Options of {@link createWorld}. */
export interface WorldOptions {
  /** Options of `kmsAuth()` (ignored when `provider` is given). */
  auth?: KmsAuthOptions;
  /** Another auth provider. */
  provider?: AuthProvider;
  /** Variables over the stack's env; `undefined` unsets one. */
  env?: Record<string, string | undefined>;
  /** Options of the stack (its clock is the world's). */
  stack?: Omit<LocalStackOptions, "clock" | "now">;
  /** Other client options. */
  client?: Partial<CerberusClientOptions>;
}

/** A stack, its clock, and a client on them. */
export interface World {
  clock: ManualClock;
  stack: LocalStack;
  /** The default seed. */
  defaults: DefaultSeed;
  client: CerberusClient;
  events: CerberusEvent[];
  /** Every request the client sent. */
  sent: Sent[];
  /** Another client on the same stack and clock (its own events and requests). */
  connect(options?: Omit<WorldOptions, "stack">): { client: CerberusClient; events: CerberusEvent[]; sent: Sent[] };
}

/** A fresh in-memory stack with the default seed, one ManualClock, and a kmsAuth client on them. */
export function createWorld(options: WorldOptions = {}): World {
  const clock = new ManualClock();
  const stack = createLocalStack({ ...options.stack, clock, routeAwsHostnames: true });
  const connect = (o: Omit<WorldOptions, "stack"> = {}) => {
    const { events, onEvent } = eventCollector();
    const { transport, sent } = recording(stack.transport);
    const { AWS_ENDPOINT_URL_KMS: _kms, ...stackEnv } = stack.env;
    const client = createCerberusClient({
      url: stack.cerberus,
      auth: o.provider ?? kmsAuth(o.auth),
      env: { ...stackEnv, ...o.env },
      transport,
      clock,
      onEvent,
      runtime: testRuntime(transport),
      ...o.client,
    });
    return { client, events, sent };
  };
  const first = connect(options);
  return { clock, stack, defaults: stack.defaults!, ...first, connect };
}

/** Leaves the app role as the instance's only role, without an instance profile path: one principal to try. */
export function onlyAppRole(world: Pick<World, "stack" | "defaults">): void {
  world.stack.seed.instance({ roles: [world.defaults.roles.app], profilePath: "/" });
}

/** The JSON bodies of the KMS auth requests (v2 and v1), in order. */
export function authBodies(sent: Sent[]): Record<string, string>[] {
  return sent.filter((s) => s.method === "POST" && /^\/v[12]\/auth\//.test(s.url.pathname)).map((s) =>
    JSON.parse(s.body)
  );
}

/** The tokens the client sent in `X-Cerberus-Token`, distinct, in order. */
export function sentTokens(sent: Sent[]): string[] {
  return [...new Set(sent.flatMap((s) => s.headers.get("x-cerberus-token") ?? []))];
}

/** How many requests the stack logged for `service`, optionally of `method` on paths starting with `path`. */
export function logged(
  stack: LocalStack,
  service: "cerberus" | "kms" | "imds" | "sts" | "ecs",
  method?: string,
  path?: string,
): number {
  return stack.requests.entries(service).filter((e) =>
    (!method || e.method === method) && (!path || e.path.startsWith(path))
  ).length;
}

/** A token with a lease of `lease` seconds from `now`. */
export function tokenAt(now: number, lease: number, value = "t", principal = "p"): CerberusToken {
  return new CerberusToken(value, {
    method: "test",
    principal,
    policies: [],
    metadata: {},
    leaseDurationSeconds: lease,
    issuedAt: new Date(now),
    expiresAt: new Date(now + lease * 1000),
    renewable: false,
  });
}

/** An auth provider that always hands out the same token value, valid for an hour from `clock`. */
export function fixedAuth(clock: { now(): number }, value = "fixed-token"): AuthProvider {
  return { method: "fixed", authenticate: () => Promise.resolve(tokenAt(clock.now(), 3600, value)) };
}

/** Base64 of UTF-8 text or bytes. */
export function base64(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return btoa(String.fromCharCode(...bytes));
}

/** Awaits a promise that must reject, returning what it rejected with. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}
