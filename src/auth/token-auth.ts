/**
 * A pasted token: a Cerberus token obtained elsewhere (`cerberus-edge login`, a CI secret),
 * given as an option or in `CERBERUS_TOKEN`. No AWS call at all.
 *
 * @module
 */
import { InvalidInputError } from "../errors.ts";
import { isHeaderSafe } from "../internal/text.ts";
import type { AuthProvider } from "./provider.ts";
import { CerberusToken } from "./token.ts";

/** How long a pasted token is assumed to last: Cerberus does not say; a 401 ends it sooner. */
const ASSUMED_LEASE_S = 365 * 24 * 3600;

/**
 * Authenticates with a token you already have: `token`, else the `CERBERUS_TOKEN` variable. The
 * token is checked before it is used (visible ASCII only, so no CR/LF can reach a header) and
 * never shown; `whoami` reports the method `token` and what is known without asking Cerberus.
 */
export function tokenAuth(token?: string): AuthProvider {
  if (token !== undefined && !isHeaderSafe(token)) {
    throw new InvalidInputError("must be non-empty visible ASCII (no spaces, CR or LF)", { field: "tokenAuth token" });
  }
  return {
    method: "token",
    authenticate(context) {
      const field = token === undefined ? "CERBERUS_TOKEN" : "tokenAuth token";
      const value = token ?? context.env("CERBERUS_TOKEN")?.trim();
      if (!value) return Promise.reject(new InvalidInputError("is not set", { field, step: "token" }));
      if (!isHeaderSafe(value)) {
        return Promise.reject(
          new InvalidInputError("must be visible ASCII (no spaces, CR or LF)", { field, step: "token" }),
        );
      }
      const now = context.http.clock.now();
      return Promise.resolve(
        new CerberusToken(value, {
          method: "token",
          principal: "(pasted token)",
          policies: [],
          metadata: {},
          leaseDurationSeconds: ASSUMED_LEASE_S,
          issuedAt: new Date(now),
          expiresAt: new Date(now + ASSUMED_LEASE_S * 1000),
          renewable: false,
        }),
      );
    },
  };
}
