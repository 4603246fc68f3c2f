/**
 * The emulated identity provider behind Cerberus user auth: users with passwords, groups and
 * MFA devices (one-time-code apps; SMS and voice-call devices that need a trigger; push devices).
 *
 * @module
 */
import { constantTimeEqual, randomToken } from "../encoding.ts";

/** Kind of MFA device. */
export type MfaDeviceKind = "totp" | "sms" | "call" | "push";

/** How a push device answers. */
export type PushAnswer = "approve" | "reject" | "timeout";

/** An MFA device of a user. */
export interface MfaDevice {
  /** Device id. */
  id: string;
  /** Display name, e.g. `Google Authenticator`. */
  name: string;
  /** Kind. */
  kind: MfaDeviceKind;
  /** The code the device shows or sends (totp, sms, call). */
  otp: string;
  /** How the device answers a push. */
  pushAnswer: PushAnswer;
}

/** Seed of an MFA device. */
export interface MfaDeviceSeed {
  /** Device id (default: random). */
  id?: string;
  /** Display name (default from kind). */
  name?: string;
  /** Kind (default `totp`). */
  kind?: MfaDeviceKind;
  /** The valid code (default `123456`). */
  otp?: string;
  /** Push answer (default `approve`). */
  pushAnswer?: PushAnswer;
}

/** A user. */
export interface UserRecord {
  /** Identity-provider user id. */
  id: string;
  /** Login name. */
  username: string;
  /** Password. */
  password: string;
  /** Group names (SDB owner / user group permissions). */
  groups: string[];
  /** MFA devices; none means no MFA. */
  devices: MfaDevice[];
}

/** Seed of a user. */
export interface UserSeed {
  /** Login name. */
  username: string;
  /** Password. */
  password: string;
  /** Groups. */
  groups?: string[];
  /** MFA devices. */
  mfa?: MfaDeviceSeed[];
}

interface MfaState {
  user: UserRecord;
  expiresAt: number;
  challenged: Set<string>;
}

const DEVICE_NAMES: Record<MfaDeviceKind, string> = {
  totp: "Google Authenticator",
  sms: "Okta Text Message Code",
  call: "Okta Voice Call",
  push: "Okta Verify Push",
};
const STATE_TTL_MS = 5 * 60_000;

/** Users and pending MFA sessions. */
export class UserDirectory {
  readonly #users = new Map<string, UserRecord>();
  readonly #states = new Map<string, MfaState>();

  /** Adds (or replaces) a user. */
  add(seed: UserSeed): UserRecord {
    const user: UserRecord = {
      id: `00u${randomToken("", 12).replace(/[-_]/g, "x")}`,
      username: seed.username,
      password: seed.password,
      groups: seed.groups ?? [],
      devices: (seed.mfa ?? []).map((d) => {
        const kind = d.kind ?? "totp";
        return {
          id: d.id ?? `mfa-${crypto.randomUUID()}`,
          name: d.name ?? DEVICE_NAMES[kind],
          kind,
          otp: d.otp ?? "123456",
          pushAnswer: d.pushAnswer ?? "approve",
        };
      }),
    };
    this.#users.set(user.username, user);
    return user;
  }

  /** The user when the password matches. */
  authenticate(username: string, password: string): UserRecord | undefined {
    const user = this.#users.get(username);
    return user && constantTimeEqual(user.password, password) ? user : undefined;
  }

  /** Starts an MFA session and returns its state token. */
  startMfa(user: UserRecord, now: number): string {
    for (const [token, state] of this.#states) if (state.expiresAt <= now) this.#states.delete(token);
    const token = randomToken("", 32);
    this.#states.set(token, { user, expiresAt: now + STATE_TTL_MS, challenged: new Set() });
    return token;
  }

  /** The pending MFA session of a state token. */
  mfaState(token: string, now: number): { user: UserRecord; challenged: Set<string> } | undefined {
    const state = this.#states.get(token);
    return state && state.expiresAt > now ? state : undefined;
  }

  /** Ends an MFA session. */
  finishMfa(token: string): void {
    this.#states.delete(token);
  }
}
