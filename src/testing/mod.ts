/**
 * `cerberus-edge/testing`: a faithful local Cerberus stack — Cerberus, AWS KMS, AWS STS, EC2
 * instance metadata and a container credentials endpoint — as pure Web fetch handlers over
 * shared state, served on 127.0.0.1 with ephemeral ports (`startLocalStack`) or used in memory
 * without sockets (`createLocalStack`). Server time is injectable and movable, so tokens,
 * credentials and SigV4 skew windows expire without sleeping; with a {@link ManualClock} as the
 * stack's `clock`, injected latency elapses only when the test advances it.
 *
 * @example Serve it and point a client at it
 * ```ts
 * import { startLocalStack } from "cerberus-edge/testing";
 * const stack = await startLocalStack();
 * try {
 *   // stack.env: AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_STS,
 *   // AWS_REGION, CERBERUS_URL. The secret seeded by default is at stack.defaults.secretPath.
 * } finally {
 *   await stack.close();
 * }
 * ```
 *
 * @example Seed, move time, inject faults (in memory)
 * ```ts
 * import { createLocalStack } from "cerberus-edge/testing";
 * const stack = createLocalStack();
 * const role = stack.seed.role({ name: "worker", path: "team-b/" });
 * stack.seed.sdb({ name: "jobs", iamPrincipals: { [role.arn]: "write" }, secrets: { db: { password: "pw" } } });
 * stack.seed.instance({ roles: [role], v1Enabled: false });
 * stack.faults.inject("kms", { kind: "throttle" }, { times: 2 });
 * stack.faults.inject("cerberus", { kind: "latency", ms: 50 }, { path: "/v1/secret/" });
 * stack.clock.advance(2 * 3600_000); // tokens and session credentials expire on the server
 * const response = await stack.transport(new Request(`${stack.cerberus}/healthcheck`));
 * ```
 *
 * @example One manual clock for the stack and the client
 * ```ts
 * import { createLocalStack, ManualClock } from "cerberus-edge/testing";
 * const clock = new ManualClock();
 * const stack = createLocalStack({ clock });
 * stack.faults.inject("kms", { kind: "latency", ms: 30_000 });
 * // stack.transport is also an HttpTransport: hand it and the clock to the client under test,
 * // then `await clock.advance(30_000)` (or `await clock.settle(promise)`) instead of sleeping.
 * ```
 *
 * @module
 */
export { LOOPBACK, startLocalStack } from "./serve.ts";
export {
  createLocalStack,
  type LocalStack,
  type LocalStackEnv,
  type LocalStackOptions,
  MEMORY_ORIGINS,
  type ServiceUrls,
} from "./stack.ts";
export {
  applyDefaultSeed,
  type ContainerEndpoint,
  DEFAULT_SECRET,
  type DefaultSeed,
  type InstanceSeed,
  type SdbSeed,
  type SeededSdb,
  StackSeeder,
} from "./seed.ts";
export { ConnectionResetError, type Fault, type FaultHandle, FaultInjector, type FaultScope } from "./faults.ts";
export { StackClock } from "./stack-clock.ts";
export { ManualClock, type ManualClockOptions } from "./manual-clock.ts";
export { RequestLog, type RequestLogEntry } from "./request-log.ts";
export { createCerberusService } from "./cerberus/service.ts";
export { type CerberusConfig, type CerberusDeps, DEFAULT_CERBERUS_CONFIG } from "./cerberus/context.ts";
export { CERBERUS_ERRORS, cerberusError, type CerberusErrorCode } from "./cerberus/errors.ts";
export { CerberusStore, type SdbRoleName } from "./cerberus/store.ts";
export { CerberusTokenStore, type TokenResponse } from "./cerberus/tokens.ts";
export {
  type MfaDeviceKind,
  type MfaDeviceSeed,
  type PushAnswer,
  UserDirectory,
  type UserSeed,
} from "./cerberus/users.ts";
export { KMS_SIZE_LIMIT } from "./cerberus/auth-routes.ts";
export { createKmsService, KMS_MAX_SKEW_MS, type KmsServiceOptions } from "./aws/kms-service.ts";
export { KMS_ERROR_STATUS, kmsErrorResponse, type KmsErrorType } from "./aws/kms-errors.ts";
export { type KeyState, type KmsKey, KmsKeyStore } from "./aws/kms-keys.ts";
export { createStsService, STS_MAX_SKEW_MS, type StsServiceOptions } from "./aws/sts-service.ts";
export { createImdsService, type ImdsServiceOptions, type InstanceConfig } from "./aws/imds-service.ts";
export { ContainerRegistry, createEcsService, type EcsServiceOptions } from "./aws/ecs-service.ts";
export {
  AwsIdentityStore,
  type CredentialRecord,
  type RoleRecord,
  type RoleSeed,
  type SessionOptions,
} from "./aws/identity.ts";
export { type WebIdentityGrant, WebIdentityRegistry } from "./aws/web-identity.ts";
export { createMemoryTransport, type MemoryTransport, type OriginResolver } from "./memory-transport.ts";
export { type SigV4Failure, type SigV4Success, verifySigV4 } from "./aws/sigv4-verify.ts";
export { type AwsCredentials, type FetchHandler, SERVICE_NAMES, type ServiceName, type TimeSource } from "./types.ts";
