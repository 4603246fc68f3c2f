/**
 * The default way to authenticate, when the caller names none: `CERBERUS_AUTH` picks a method
 * (`token`, `sts`, `kms`, `kms-v1`, `user`, or `auto`, the default). `auto` takes a pasted
 * `CERBERUS_TOKEN` if there is one; else STS auth when the host's credential chain finds AWS
 * credentials (environment keys, web identity, the container endpoint, the instance role); else
 * KMS auth through instance metadata. It moves on only when a method is unavailable (no
 * credentials, or Cerberus answers 404 because the method is not enabled), never after a
 * refusal: a refused principal is an answer, not an outage.
 *
 * It lives in the runtime entry (`cerberus-edge`), not in the pure core, so that a program that
 * names its method does not carry the others.
 *
 * @module
 */
import { AuthenticationError, CerberusApiError, InvalidInputError } from "../errors.ts";
import { sanitize } from "../internal/text.ts";
import { kmsAuth } from "./kms-auth.ts";
import type { AuthContext, AuthProvider } from "./provider.ts";
import { stsAuth } from "./sts-auth.ts";
import { tokenAuth } from "./token-auth.ts";
import { userAuth } from "./user-auth.ts";

/** The values `CERBERUS_AUTH` takes. */
export const AUTH_METHODS = ["auto", "token", "sts", "kms", "kms-v1", "user"] as const;

/** A method `CERBERUS_AUTH` names. */
export type AuthMethodName = (typeof AUTH_METHODS)[number];

/** Reads and checks `CERBERUS_AUTH` (default `auto`). */
export function authMethodOf(env: (name: string) => string | undefined): AuthMethodName {
  const raw = env("CERBERUS_AUTH")?.trim().toLowerCase() || "auto";
  if (!(AUTH_METHODS as readonly string[]).includes(raw)) {
    throw new InvalidInputError(`"${sanitize(raw, 40)}" is not one of ${AUTH_METHODS.join(", ")}`, {
      field: "CERBERUS_AUTH",
    });
  }
  return raw as AuthMethodName;
}

/** The provider for a named method. */
export function authFor(method: Exclude<AuthMethodName, "auto">): AuthProvider {
  switch (method) {
    case "token":
      return tokenAuth();
    case "sts":
      return stsAuth();
    case "kms":
      return kmsAuth();
    case "kms-v1":
      return kmsAuth({ version: 1 });
    case "user":
      return userAuth();
  }
}

/** The default chain, as described in this module's documentation. */
export function defaultAuth(): AuthProvider {
  const sts = stsAuth();
  const kms = kmsAuth();
  const token = tokenAuth();
  return {
    method: "auto",
    async authenticate(context: AuthContext) {
      const method = authMethodOf(context.env);
      if (method !== "auto") return authFor(method).authenticate(context);
      if (context.env("CERBERUS_TOKEN")?.trim()) return token.authenticate(context);
      if (await context.host?.credentials(context)) {
        try {
          return await sts.authenticate(context);
        } catch (error) {
          if (!notEnabled(error)) throw error;
          // STS auth is not enabled on this Cerberus: KMS auth may be.
        }
      }
      return kms.authenticate(context);
    },
  };
}

/** True when Cerberus answered 404 to every attempt: the method is not enabled there. */
function notEnabled(error: unknown): boolean {
  const is404 = (e: unknown) => e instanceof CerberusApiError && e.status === 404;
  if (error instanceof AuthenticationError) {
    return error.attempts.length > 0 && error.attempts.every((a) => is404(a.error));
  }
  return is404(error);
}
