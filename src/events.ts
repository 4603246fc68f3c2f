/**
 * Progress events, for logging and demos. No event ever carries a token, a secret, a decrypted
 * payload or an AWS secret key; server-supplied text in them is sanitised.
 *
 * @module
 */

/** Something that happened during authentication or a request. */
export type CerberusEvent =
  | { type: "metadata.account"; accountId: string; source: "iam-info" | "identity-document" }
  | { type: "metadata.roles"; roles: string[]; instanceProfileArn: string }
  | { type: "metadata.fallback-v1"; reason: string }
  | { type: "auth.region"; region: string; source: "option" | "env" | "identity-document" | "fallback" }
  | { type: "auth.attempt"; method: string; principal: string; region: string }
  | { type: "auth.payload"; principal: string; region: string; bytes: number }
  | { type: "kms.decrypt"; region: string; keyId: string }
  | { type: "auth.failure"; principal: string; region: string; reason: string }
  | { type: "auth.success"; method: string; principal: string; region: string; expiresAt: Date; policies: string[] }
  | { type: "token.refresh"; reason: "expiring" | "expired" | "rejected" }
  | { type: "request.retry"; step: string; attempt: number; delayMs: number; reason: string }
  /** The client's cache (keys such as `secret:app/demo/config` or `list:app/demo/`; never a value). */
  | { type: "cache.hit" | "cache.miss" | "cache.refresh" | "cache.stale" | "cache.evict"; key: string };

/** Receives events; must not throw (a throwing listener is ignored). */
export type EventListener = (event: CerberusEvent) => void;
