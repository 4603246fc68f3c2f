/**
 * The pure core of cerberus-edge: Web APIs only, every runtime dependency injected. Workers and
 * browsers import this entry; `mod.ts` adds runtime detection.
 *
 * @module
 */
export { createCerberusClient } from "./client/client.ts";
export type { CacheControl, CerberusClient, CerberusClientOptions } from "./client/client.ts";
export type { CacheStats, SecretCacheOptions } from "./client/secret-cache.ts";
export { deleteSecret, listKeys, mergeSecret, readKey, readSecret, walk, writeSecret } from "./api/secrets.ts";
export type { CallOptions, ReadOptions, SecretData, WalkOptions } from "./api/secrets.ts";
export { listVersionedPaths, listVersions } from "./api/versions.ts";
export type { SecretVersion } from "./api/versions.ts";
export { deleteFile, headFile, listFiles, readFile, writeFile } from "./api/files.ts";
export type { FileInfo, FileSummary, SecureFile, WriteFileOptions } from "./api/files.ts";
export {
  categoryId,
  createSdb,
  deleteSdb,
  getSdb,
  getSdbByPath,
  listCategories,
  listRoles,
  listSdbs,
  roleId,
  updateSdb,
} from "./api/sdb.ts";
export type {
  Category,
  IamPrincipalPermission,
  NewSdb,
  Role,
  Sdb,
  SdbChanges,
  SdbSummary,
  UserGroupPermission,
} from "./api/sdb.ts";
export type { PageOptions } from "./api/pages.ts";
export { kmsAuth } from "./auth/kms-auth.ts";
export type { KmsAuthOptions } from "./auth/kms-auth.ts";
export { stsAuth } from "./auth/sts-auth.ts";
export { tokenAuth } from "./auth/token-auth.ts";
export { userAuth } from "./auth/user-auth.ts";
export type { MfaChallenge, UserAuthOptions, UserCredentials } from "./auth/user-auth.ts";
export type { StsAuthOptions } from "./auth/sts-auth.ts";
export type { AuthProvider } from "./auth/provider.ts";
export type { TokenInfo } from "./auth/token.ts";
export type { AwsCredentials } from "./aws/credentials.ts";
export type { Clock } from "./clock.ts";
export type { HttpTransport } from "./transport.ts";
export type { RuntimeEnvironment } from "./runtime/types.ts";
export type { CerberusEvent } from "./events.ts";
export {
  AbortedError,
  AccessDeniedError,
  AuthenticationError,
  AwsError,
  CerberusApiError,
  CerberusEdgeError,
  InvalidInputError,
  NotFoundError,
  PayloadError,
  TransportError,
  UnexpectedAnswerError,
} from "./errors.ts";
export type { ErrorCode, Step } from "./errors.ts";
export { VERSION } from "./version.ts";
