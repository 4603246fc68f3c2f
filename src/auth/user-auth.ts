/**
 * User authentication, for people and command lines (docs/wire.md#user-auth-and-mfa): Basic
 * credentials, then MFA with the device the caller chooses (triggering it first when it needs a
 * trigger), refresh of the token while Cerberus allows it, then a full login again. The library
 * never prompts: the caller's functions supply the password and the code.
 *
 * @module
 */
import * as v from "valibot";
import { decodeAnswer } from "../client/request.ts";
import { AuthenticationError, CerberusApiError, InvalidInputError, PayloadError } from "../errors.ts";
import { check, isRecord } from "../internal/decode.ts";
import { emit, emitSuccess } from "../internal/events.ts";
import { asLibraryError, describeError } from "../internal/failure.ts";
import { sanitize } from "../internal/text.ts";
import { callAuth } from "./auth-call.ts";
import type { AuthContext, AuthProvider } from "./provider.ts";
import { type CerberusToken, tokenFromPayload } from "./token.ts";

/** A user's name and password. */
export interface UserCredentials {
  /** The user name. */
  username: string;
  /** The password. */
  password: string;
}

/** An MFA device Cerberus offers. */
export interface MfaDevice {
  /** Its id, to answer with. */
  id: string;
  /** Its name, to show. */
  name: string;
  /** True when a code must be requested first (SMS, voice call, push): call `trigger`. */
  requiresTrigger: boolean;
}

/** What the caller's MFA function is given. */
export interface MfaChallenge {
  /** The devices to choose from. */
  devices: readonly MfaDevice[];
  /** Asks Cerberus to send a code to (or push to) a device that requires a trigger. */
  trigger(deviceId: string): Promise<void>;
}

/** Options of {@link userAuth}. */
export interface UserAuthOptions {
  /**
   * The user's credentials, or a function returning them (called at each full login). Default:
   * the `CERBERUS_USERNAME` and `CERBERUS_PASSWORD` variables of the client's environment.
   */
  credentials?: UserCredentials | (() => Promise<UserCredentials>);
  /** Chooses a device and returns its code; called when Cerberus asks for MFA. */
  mfa?: (challenge: MfaChallenge) => Promise<{ deviceId: string; code: string }>;
}

const Answer = v.object({ status: v.string(), data: v.pipe(v.unknown(), v.check(isRecord, "data is not an object")) });
const Challenge = v.object({
  state_token: v.string(),
  devices: v.array(v.object({ id: v.string(), name: v.nullish(v.string()), requires_trigger: v.nullish(v.boolean()) })),
});

/**
 * User authentication (Basic, then MFA). The token is refreshed while `refresh_count` is below
 * `max_refresh_count`; past that, a full login asks `credentials` (and `mfa`) again.
 */
export function userAuth(options: UserAuthOptions = {}): AuthProvider {
  if (!options || typeof options !== "object") {
    throw new InvalidInputError("must be an object", { field: "userAuth options" });
  }
  if (options.credentials !== undefined && typeof options.credentials !== "function") {
    checkCredentials(options.credentials, "userAuth.credentials");
  }
  if (options.mfa !== undefined && typeof options.mfa !== "function") {
    throw new InvalidInputError("must be a function", { field: "userAuth.mfa" });
  }
  return { method: "user", authenticate: (context) => authenticate(options, context) };
}

/** `CERBERUS_USERNAME` and `CERBERUS_PASSWORD`, checked. */
function fromEnvironment(context: AuthContext): UserCredentials {
  const username = context.env("CERBERUS_USERNAME")?.trim();
  if (!username) {
    throw new InvalidInputError("is not set (user auth needs CERBERUS_USERNAME and CERBERUS_PASSWORD)", {
      field: "CERBERUS_USERNAME",
    });
  }
  const password = context.env("CERBERUS_PASSWORD");
  if (!password) {
    throw new InvalidInputError("is not set (user auth needs CERBERUS_USERNAME and CERBERUS_PASSWORD)", {
      field: "CERBERUS_PASSWORD",
    });
  }
  return checkCredentials({ username, password }, "CERBERUS_USERNAME");
}

function checkCredentials(credentials: unknown, field: string): UserCredentials {
  const c = credentials as Partial<UserCredentials> | null;
  if (!c || typeof c.username !== "string" || !/^[^\s:]{1,256}$/.test(c.username)) {
    throw new InvalidInputError("must hold a username without spaces or colons", { field: `${field}.username` });
  }
  if (typeof c.password !== "string" || c.password === "") {
    throw new InvalidInputError("must be a non-empty string", { field: `${field}.password` });
  }
  return c as UserCredentials;
}

async function authenticate(o: UserAuthOptions, context: AuthContext): Promise<CerberusToken> {
  const current = context.state.user;
  if (current && refreshable(current.info)) {
    try {
      return remember(context, await refresh(current, context));
    } catch (error) {
      // Past the refresh limit (99230), or the token was revoked (401): log in again.
      if (!(error instanceof CerberusApiError && (error.codes.includes(99230) || error.status === 401))) throw error;
    }
  }
  const credentials = typeof o.credentials === "function"
    ? checkCredentials(await o.credentials(), "userAuth.credentials()")
    : o.credentials ?? fromEnvironment(context);
  try {
    return remember(context, await login(credentials, o, context));
  } catch (error) {
    if (context.signal?.aborted || error instanceof InvalidInputError) throw error;
    const failure = asLibraryError(error, "cerberus-auth", "user authentication");
    const principal = sanitize(credentials.username, 100);
    throw new AuthenticationError(`user authentication failed for ${principal}:`, {
      attempts: [{ principal, region: "-", reason: describeError(failure), error: failure }],
    });
  }
}

function remember(context: AuthContext, token: CerberusToken): CerberusToken {
  context.state.user = token;
  emitSuccess(context.onEvent, token, "-");
  return token;
}

function refreshable(info: CerberusToken["info"]): boolean {
  const count = Number(info.metadata.refresh_count);
  const max = Number(info.metadata.max_refresh_count);
  return Number.isInteger(count) && Number.isInteger(max) && count < max;
}

async function login(credentials: UserCredentials, o: UserAuthOptions, context: AuthContext): Promise<CerberusToken> {
  const startedAt = context.http.clock.now();
  const basic = btoa(
    String.fromCharCode(...new TextEncoder().encode(`${credentials.username}:${credentials.password}`)),
  );
  const call = {
    method: "GET",
    path: "/v2/auth/user",
    headers: { Authorization: `Basic ${basic}` },
    what: "user authentication",
    step: "cerberus-auth",
    signal: context.signal,
    secrets: [credentials.password, basic],
  } as const;
  emit(context.onEvent, {
    type: "auth.attempt",
    method: "user",
    principal: sanitize(credentials.username, 100),
    region: "-",
  });
  const first = decodeAnswer(await callAuth(context, call), Answer, call);
  if (first.status === "success") return userToken(first.data, startedAt);
  if (first.status !== "mfa_req") {
    throw new CerberusApiError(`user authentication: unexpected status ${sanitize(first.status, 40)}`, {
      step: "cerberus-auth",
      status: 200,
    });
  }
  if (!o.mfa) {
    throw new InvalidInputError("Cerberus asks for MFA but no device was chosen: pass an mfa function", {
      field: "userAuth.mfa",
      step: "cerberus-auth",
    });
  }
  const parsed = check(Challenge, first.data);
  if (!parsed.ok) {
    throw new PayloadError(`Cerberus's MFA challenge is invalid: ${parsed.problem}`, { step: "cerberus-auth" });
  }
  const challenge = parsed.value;
  const mfaCheck = (body: Record<string, unknown>, what: string) =>
    callAuth(context, {
      method: "POST",
      path: "/v2/auth/mfa_check",
      json: { state_token: challenge.state_token, ...body },
      what,
      step: "cerberus-auth",
      signal: context.signal,
    });
  const devices = challenge.devices.map((d) => ({
    id: d.id,
    name: sanitize(d.name ?? d.id, 100),
    requiresTrigger: d.requires_trigger ?? false,
  }));
  const known = (id: string) => {
    if (!devices.some((d) => d.id === id)) {
      throw new InvalidInputError("is not one of the devices offered", {
        field: "userAuth.mfa deviceId",
        step: "cerberus-auth",
      });
    }
  };
  const choice = await o.mfa({
    devices,
    async trigger(deviceId) {
      known(deviceId);
      await mfaCheck({ device_id: deviceId }, "an MFA trigger");
    },
  });
  known(choice.deviceId);
  if (typeof choice.code !== "string" || choice.code === "") {
    throw new InvalidInputError("must be a non-empty string", { field: "userAuth.mfa code", step: "cerberus-auth" });
  }
  const answer = decodeAnswer(
    await mfaCheck({ device_id: choice.deviceId, otp_token: choice.code }, "the MFA check"),
    Answer,
    call,
  );
  if (answer.status !== "success") {
    throw new CerberusApiError(`the MFA check: unexpected status ${sanitize(answer.status, 40)}`, {
      step: "cerberus-auth",
      status: 200,
    });
  }
  return userToken(answer.data, startedAt);
}

async function refresh(current: CerberusToken, context: AuthContext): Promise<CerberusToken> {
  const startedAt = context.http.clock.now();
  const call = {
    method: "GET",
    path: "/v2/auth/user/refresh",
    token: current.reveal(),
    what: "a user token refresh",
    step: "token",
    signal: context.signal,
  } as const;
  const answer = decodeAnswer(await callAuth(context, call), Answer, call);
  return userToken(answer.data, startedAt);
}

function userToken(data: unknown, startedAt: number): CerberusToken {
  if (!isRecord(data)) throw new PayloadError("Cerberus's user auth answer has no data", { step: "cerberus-auth" });
  const payload = data.client_token;
  const metadata = isRecord(payload) && isRecord(payload.metadata) ? payload.metadata : {};
  const username = typeof metadata.username === "string"
    ? metadata.username
    : typeof data.username === "string"
    ? data.username
    : "user";
  return tokenFromPayload(
    payload,
    { method: "user", principal: sanitize(username, 100), startedAt },
    "cerberus-auth",
    "Cerberus's user auth answer",
  );
}
