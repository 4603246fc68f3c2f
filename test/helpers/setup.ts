/** Builds a client on the fake world with the seed's default instance: two roles, the first unregistered. */
import { kmsAuth, type KmsAuthOptions } from "../../src/auth/kms-auth.ts";
import { createClient, type CerberusClient } from "../../src/client.ts";
import type { CerberusEvent } from "../../src/events.ts";
import { edgeRuntime } from "../../src/runtime/edge.ts";
import { FakeClock } from "./fake-clock.ts";
import { FakeWorld } from "./fake-world.ts";

/** The fake world, a client on it, its clock and every event it emitted. */
export interface Setup {
  world: FakeWorld;
  clock: FakeClock;
  client: CerberusClient;
  events: CerberusEvent[];
}

/** Options of {@link setup}. */
export interface SetupOptions {
  auth?: KmsAuthOptions;
  env?: Record<string, string>;
  /** Seed the default instance (default true). */
  seed?: boolean;
}

/** The principal that works in the default seed. */
export const APP_ROLE_ARN = "arn:aws:iam::111122223333:role/app-role";
/** The principal that is not on any SDB. */
export const WEB_ROLE_ARN = "arn:aws:iam::111122223333:role/web-role";

/** A client on a fresh fake world. */
export function setup(options: SetupOptions = {}): Setup {
  const world = new FakeWorld();
  const clock = new FakeClock();
  if (options.seed !== false) {
    world.addRole("web-role");
    const app = world.addRole("app-role");
    world.register(APP_ROLE_ARN, app.AccessKeyId, "tok-app-role-secret-value");
    world.secrets.set("app/demo/config", { greeting: "hello", db_password: "s3cr3t-value" });
    world.secrets.set("app/demo/other", { a: "1" });
    world.secrets.set("app/demo/nested/deep", { b: "2" });
  }
  const events: CerberusEvent[] = [];
  const client = createClient({
    url: "https://cerberus.test",
    auth: kmsAuth(options.auth),
    transport: world.transport,
    clock,
    runtime: edgeRuntime(options.env ?? {}),
    onEvent: (e) => events.push(e),
  });
  return { world, clock, client, events };
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
