/**
 * What an AWS host tells about itself: on EC2 the instance's account, roles and region from
 * instance metadata (docs/wire.md#role-discovery-on-ec2); on ECS the task role from the
 * container credentials endpoint. The runtime adapters of Node, Bun and Deno hand this to the
 * client; the edge has no such host, so the pure core does not carry it.
 *
 * @module
 */
import type { AuthContext } from "../auth/provider.ts";
import { AuthenticationError, AwsError, InvalidInputError, TransportError } from "../errors.ts";
import { emit } from "../internal/events.ts";
import { describeError } from "../internal/failure.ts";
import { containerCredentials, hasContainerEndpoint } from "./container.ts";
import { type AwsCredentials, cachedCredentials, sealCredentials } from "./credentials.ts";
import { createInstanceMetadata } from "./imds.ts";
import { callerPrincipal } from "./caller-identity.ts";
import { hasWebIdentity, webIdentityCredentials } from "./web-identity.ts";

/** A principal this host can act as, and where its credentials come from. */
export interface HostPrincipal {
  /** The IAM role ARN. */
  principalArn: string;
  /** The role's name (KMS auth v1). */
  roleName: string;
  /** The role's account (KMS auth v1). */
  accountId: string;
  /** The role's credentials. */
  credentials: () => Promise<AwsCredentials>;
  /** True when the ARN was derived from STS `GetCallerIdentity`, which never tells a role's IAM path. */
  fromCaller?: boolean;
}

/** Discovery of the principals, region and credentials of the AWS host the process runs on. */
export interface AwsHost {
  /** The principals to try, in order (`withPaths`: path-variant ARNs first when the instance profile has a path). */
  principals(context: AuthContext, withPaths: boolean): Promise<HostPrincipal[]>;
  /** The region the host runs in, or `undefined` when it cannot say (ECS without metadata). */
  region(context: AuthContext): Promise<string | undefined>;
  /**
   * The host's AWS credentials, in the AWS SDKs' order: the `AWS_*` key variables, a web identity
   * (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), the container endpoint. A source that is
   * absent is skipped; one that is present but broken is an error naming it. Last, the first
   * role of the instance through instance metadata (skipped where there is no metadata service,
   * or `AWS_EC2_METADATA_DISABLED=true`). `undefined` when there is none.
   */
  credentials(context: AuthContext): Promise<AwsCredentials | undefined>;
}

const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/([\w+=,.@/-]+)$/;
const INSTANCE_PROFILE = /^arn:(aws[a-z-]*):iam::(\d{12}):instance-profile\/([\w+=,.@/-]+)$/;

const imds = (
  context: AuthContext,
) => (context.state.imds ??= createInstanceMetadata(context.http, context.env, context.onEvent));
const container = (context: AuthContext) => (context.state.container ??= containerCredentials(context.http, context));

/** The host as the AWS SDKs see it: the container endpoint when configured, else instance metadata. */
export const awsHost: AwsHost = {
  async principals(context, withPaths) {
    if (hasContainerEndpoint(context.env)) {
      const source = container(context);
      let arn: string | undefined;
      try {
        arn = (await source.get(context.signal)).roleArn;
      } catch (error) {
        if (error instanceof InvalidInputError) throw error; // a wrong setting, said once as itself
        throw new AuthenticationError(`could not read the container credentials (${describeError(error)})`, {
          cause: error,
        });
      }
      const match = ROLE_ARN.exec(arn ?? "");
      if (!match) {
        throw new InvalidInputError(
          "the container credentials endpoint names no IAM role (no RoleArn, as on EKS Pod Identity); pass principalArn",
          {
            field: "kmsAuth.principalArn",
          },
        );
      }
      const [principalArn, , accountId = "", name = ""] = match;
      return [{
        principalArn,
        accountId,
        roleName: name.slice(name.lastIndexOf("/") + 1),
        credentials: () => source.get(context.signal),
      }];
    }
    const metadata = imds(context);
    const discover = () =>
      Promise.all([metadata.instanceProfileArn(context.signal), metadata.roleNames(context.signal)]);
    let found: [string, string[]] | undefined;
    let failure: unknown;
    try {
      found = await discover();
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      failure = error;
      // Not EC2 (no metadata service here): ask STS whom the host's credentials belong to.
      if (
        error instanceof TransportError ||
        (error instanceof AwsError && error.service === "imds" && error.status === undefined)
      ) {
        const credentials = await awsHost.credentials(context);
        if (
          // Only the instance's credentials, read through instance metadata, set that state.
          credentials && context.state.instanceCredentials !== undefined && error instanceof TransportError &&
          error.code === "TIMEOUT"
        ) {
          // So this is EC2, and the discovery timed out on a slow moment: ask once more, since STS
          // would not tell the roles' IAM paths (nor, where metadata lists several roles, which ones to try).
          found = await discover().catch((again: unknown) => {
            if (again instanceof InvalidInputError) throw again;
            return undefined;
          });
        }
        if (!found && credentials) {
          const principalArn = await callerPrincipal(context.http, context.env, credentials, context.signal);
          const [, , accountId = "", name = ""] = /^arn:[^:]+:(iam|sts)::(\d{12}):[^/]+\/(.+)$/.exec(principalArn) ??
            [];
          return [{
            principalArn,
            accountId,
            roleName: name.slice(name.lastIndexOf("/") + 1),
            credentials: () => Promise.resolve(credentials),
            fromCaller: true,
          }];
        }
      }
    }
    if (!found) {
      throw new AuthenticationError(
        `could not discover the instance's IAM roles from instance metadata (${
          describeError(failure)
        }); on a host that is not EC2 pass kmsAuth({ principalArn, credentials })`,
        { cause: failure },
      );
    }
    const [profileArn, roleNames] = found;
    const [, partition, accountId = "", name = ""] = INSTANCE_PROFILE.exec(profileArn) ?? [];
    const profilePath = name.split("/").slice(0, -1).join("/");
    emit(context.onEvent, { type: "metadata.account", accountId, source: "iam-info" });
    emit(context.onEvent, { type: "metadata.roles", roles: roleNames, instanceProfileArn: profileArn });
    return roleNames.flatMap((roleName) => {
      let pending: Promise<AwsCredentials> | undefined; // fetched once per authentication, however many ARNs
      const credentials = () => (pending ??= metadata.roleCredentials(roleName, context.signal));
      const arns = [`arn:${partition}:iam::${accountId}:role/${roleName}`];
      if (withPaths && profilePath) arns.unshift(`arn:${partition}:iam::${accountId}:role/${profilePath}/${roleName}`);
      return arns.map((principalArn) => ({ principalArn, roleName, accountId, credentials }));
    });
  },
  async region(context) {
    if (hasContainerEndpoint(context.env)) return undefined;
    try {
      return (await imds(context).identityDocument(context.signal)).region;
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      throw new AuthenticationError(
        `KMS authentication needs a region: none was given, AWS_REGION is unset, and the instance identity document could not be read (${
          describeError(error)
        })`,
        { cause: error },
      );
    }
  },
  async credentials(context) {
    const env = context.env;
    const accessKeyId = env("AWS_ACCESS_KEY_ID");
    const secretAccessKey = env("AWS_SECRET_ACCESS_KEY");
    if (accessKeyId && secretAccessKey) {
      const sessionToken = env("AWS_SESSION_TOKEN") || undefined;
      return sealCredentials({ accessKeyId, secretAccessKey, sessionToken }, "AWS_ACCESS_KEY_ID");
    }
    // Half a key pair is a broken source, not an absent one.
    if (accessKeyId || secretAccessKey) {
      const [missing, set] = accessKeyId
        ? ["AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"]
        : ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
      throw new InvalidInputError(`is not set, but ${set} is: set both, or neither`, {
        field: missing,
        step: "credentials",
      });
    }
    if (hasWebIdentity(env)) {
      return await (context.state.webIdentity ??= webIdentityCredentials(context.http, context)).get(context.signal);
    }
    if (hasContainerEndpoint(env)) return await container(context).get(context.signal);
    if (env("AWS_EC2_METADATA_DISABLED")?.toLowerCase() === "true") return undefined;
    const metadata = imds(context);
    // The load is shared by every later authentication of the client: it takes no one's signal.
    const instance = (context.state.instanceCredentials ??= cachedCredentials(
      async () => metadata.roleCredentials((await metadata.roleNames())[0]!),
      context.http.clock,
      "the instance's credentials",
      "metadata",
    ));
    try {
      return await instance.get(context.signal);
    } catch (error) {
      // No metadata service here (not EC2), or an instance without a role: the source is absent.
      if (error instanceof TransportError || (error instanceof AwsError && error.service === "imds")) return undefined;
      throw error;
    }
  },
};
