/**
 * The pure core of cerberus-edge: Web APIs only, every runtime dependency injected.
 * Edge workers and browsers import this entry; `mod.ts` adds runtime auto-detection.
 *
 * @module
 */
export { createClient, createClient as createCerberusClient, checkCerberusUrl, isLoopback } from "./client.ts";
export type { CerberusClient, CerberusClientOptions, ReadOptions, SecretData } from "./client.ts";
export { kmsAuth } from "./auth/kms-auth.ts";
export type { KmsAuthOptions } from "./auth/kms-auth.ts";
export type { AuthContext, AuthProvider } from "./auth/provider.ts";
export { CerberusToken } from "./auth/token.ts";
export type { TokenInfo } from "./auth/token.ts";
export { TokenStore, refreshMarginMs } from "./auth/token-store.ts";
export { createInstanceMetadataClient } from "./aws/imds.ts";
export type { IamInfo, IdentityDocument, InstanceMetadata, InstanceMetadataOptions } from "./aws/imds.ts";
export { kmsDecrypt } from "./aws/kms.ts";
export type { ClockSkew, KmsDecryptOptions, KmsDecryptResult } from "./aws/kms.ts";
export { sealCredentials } from "./aws/credentials.ts";
export { containerCredentialsSource } from "./aws/container-credentials.ts";
export type { ContainerCredentials, ContainerCredentialsOptions } from "./aws/container-credentials.ts";
export type { AwsCredentials, AwsCredentialSource } from "./aws/credentials.ts";
export { encodeSecretPath } from "./paths.ts";
export { systemClock } from "./clock.ts";
export type { Clock } from "./clock.ts";
export { fetchTransport } from "./transport.ts";
export type { HttpTransport } from "./transport.ts";
export { edgeRuntime } from "./runtime/edge.ts";
export { withEnv } from "./runtime/env.ts";
export type { RuntimeEnvironment } from "./runtime/types.ts";
export type { CerberusEvent, EventListener } from "./events.ts";
export {
  AbortedError,
  AuthenticationError,
  CerberusApiError,
  CerberusEdgeError,
  InvalidInputError,
  KmsError,
  MetadataError,
  PayloadError,
  TransportError,
} from "./errors.ts";
export type { AuthAttempt, CerberusErrorDetail, Step } from "./errors.ts";
export { VERSION } from "./version.ts";
