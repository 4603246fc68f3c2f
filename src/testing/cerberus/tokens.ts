/**
 * Cerberus client tokens: issued on authentication, expiring on the server after their
 * lease, revoked by logout or refresh.
 *
 * @module
 */
import { randomToken } from "../encoding.ts";

/** Kind of principal a token belongs to. */
export type PrincipalType = "IAM" | "USER";

/** A live (or dead) token. */
export interface TokenRecord {
  /** The opaque token string. */
  token: string;
  /** The principal: the registered IAM principal ARN, or the user name. */
  principal: string;
  /** IAM principal or user. */
  principalType: PrincipalType;
  /** User groups (empty for IAM principals). */
  groups: string[];
  /** Whether the principal is a Cerberus admin. */
  isAdmin: boolean;
  /** Issue time, server ms. */
  createdAt: number;
  /** Expiry, server ms. */
  expiresAt: number;
  /** How many times this token's chain was refreshed. */
  refreshCount: number;
  /** The metadata returned with the token. */
  metadata: Record<string, string>;
  /** The policies returned with the token. */
  policies: string[];
  /** True once logged out or refreshed away. */
  revoked: boolean;
}

/** The JSON token object Cerberus returns (`client_token`, `policies`, `metadata`, …). */
export interface TokenResponse {
  /** The token. */
  client_token: string;
  /** Policies (empty on current servers). */
  policies: string[];
  /** Principal metadata, all values strings. */
  metadata: Record<string, string>;
  /** Seconds until the token expires. */
  lease_duration: number;
  /** True for user tokens. */
  renewable: boolean;
}

/** What a new token is issued for. */
export interface TokenGrant {
  /** See {@link TokenRecord.principal}. */
  principal: string;
  /** See {@link TokenRecord.principalType}. */
  principalType: PrincipalType;
  /** See {@link TokenRecord.groups}. */
  groups: string[];
  /** See {@link TokenRecord.isAdmin}. */
  isAdmin: boolean;
  /** Lifetime in seconds. */
  ttlSeconds: number;
  /** See {@link TokenRecord.refreshCount}. */
  refreshCount: number;
  /** See {@link TokenRecord.metadata}. */
  metadata: Record<string, string>;
  /** See {@link TokenRecord.policies}. */
  policies: string[];
}

/** All tokens issued by the emulated Cerberus. */
export class CerberusTokenStore {
  readonly #tokens = new Map<string, TokenRecord>();

  /** Issues a token at server time `now`. */
  issue(grant: TokenGrant, now: number): TokenRecord {
    for (const [token, record] of this.#tokens) if (record.expiresAt <= now) this.#tokens.delete(token);
    const record: TokenRecord = {
      token: randomToken("", 48),
      principal: grant.principal,
      principalType: grant.principalType,
      groups: grant.groups,
      isAdmin: grant.isAdmin,
      createdAt: now,
      expiresAt: now + grant.ttlSeconds * 1000,
      refreshCount: grant.refreshCount,
      metadata: grant.metadata,
      policies: grant.policies,
      revoked: false,
    };
    this.#tokens.set(record.token, record);
    return record;
  }

  /** The live token record, or `undefined` when unknown, expired or revoked. */
  resolve(token: string | null, now: number): TokenRecord | undefined {
    if (token === null) return undefined;
    const record = this.#tokens.get(token);
    if (!record || record.revoked || record.expiresAt <= now) return undefined;
    return record;
  }

  /** Revokes a token. */
  revoke(record: TokenRecord): void {
    record.revoked = true;
  }

  /** Number of live tokens at `now`. */
  liveCount(now: number): number {
    let count = 0;
    for (const record of this.#tokens.values()) if (!record.revoked && record.expiresAt > now) count++;
    return count;
  }
}

/** The token object of a record, as Cerberus serialises it. */
export function tokenResponse(record: TokenRecord): TokenResponse {
  return {
    client_token: record.token,
    policies: record.policies,
    metadata: record.metadata,
    lease_duration: Math.round((record.expiresAt - record.createdAt) / 1000),
    renewable: record.principalType === "USER",
  };
}
