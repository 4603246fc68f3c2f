/** The data API tests' world: the in-memory stack, a client of the SDB's owner (user auth) and one of its reader (the app role). */
import { userAuth } from "../../src/auth/user-auth.ts";
import type { CerberusClient } from "../../src/client/client.ts";
import { createWorld, onlyAppRole, type Sent, type World } from "../support.ts";

/** A world whose `owner` client may write in `app/demo/` and whose `reader` (the world's own client) may only read. */
export interface DataWorld extends World {
  /** Authenticated as the demo user, in the SDB's owner group. */
  owner: CerberusClient;
  /** Every request the owner sent. */
  ownerSent: Sent[];
}

/** A fresh {@link DataWorld}. */
export function dataWorld(): DataWorld {
  const world = createWorld();
  onlyAppRole(world);
  const { username, password } = world.defaults.user;
  const { client, sent } = world.connect({ provider: userAuth({ credentials: { username, password } }) });
  return { ...world, owner: client, ownerSent: sent };
}
