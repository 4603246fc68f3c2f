/**
 * Seeding helpers of a stack (roles and their credentials, SDBs with permissions and secure
 * data, users with MFA devices, the instance, web identity tokens, container endpoints) and the
 * default seed the demo and the integration tests start from.
 *
 * @module
 */
import { normalizeIamPath } from "./aws/arn.ts";
import type { ContainerRegistry } from "./aws/ecs-service.ts";
import type { AwsIdentityStore, RoleRecord, RoleSeed, SessionOptions } from "./aws/identity.ts";
import type { InstanceConfig } from "./aws/imds-service.ts";
import type { KeyState, KmsKeyStore } from "./aws/kms-keys.ts";
import type { WebIdentityGrant, WebIdentityRegistry } from "./aws/web-identity.ts";
import type { CerberusStore, SdbRoleName } from "./cerberus/store.ts";
import type { MfaDeviceKind, UserDirectory, UserSeed } from "./cerberus/users.ts";
import { utf8Bytes } from "./encoding.ts";
import type { AwsCredentials, TimeSource } from "./types.ts";

/** An SDB to seed. */
export interface SdbSeed {
  /** Name; its slug is the SDB's path segment (`Demo App` → `app/demo-app/`). */
  name: string;
  /** Category path, `app` (default) or `shared`. */
  category?: string;
  /** Description. */
  description?: string;
  /** Owning user group (default `local-stack-owners`). */
  owner?: string;
  /** IAM principal ARN → role. */
  iamPrincipals?: Record<string, SdbRoleName>;
  /** User group → role. */
  userGroups?: Record<string, SdbRoleName>;
  /** Path inside the SDB → key/value map. */
  secrets?: Record<string, Record<string, unknown>>;
  /** Path inside the SDB → file content. */
  files?: Record<string, Uint8Array | string>;
}

/** A seeded SDB. */
export interface SeededSdb {
  /** SDB id. */
  id: string;
  /** Name. */
  name: string;
  /** Path, e.g. `app/demo/`. */
  path: string;
}

/** Changes to the emulated instance; role entries are role names (in the instance's account) or ARNs. */
export interface InstanceSeed extends Partial<Omit<InstanceConfig, "roleArns">> {
  /** Roles attached to the instance, in listing order. Names of unknown roles are created (path `/`). */
  roles?: (string | RoleRecord)[];
}

/** A container credentials endpoint. */
export interface ContainerEndpoint {
  /** Full URL of the endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`). */
  fullUri: string;
  /** Its path (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` on ECS). */
  relativeUri: string;
  /** The `Authorization` value required (`AWS_CONTAINER_AUTHORIZATION_TOKEN`), if any. */
  authorizationToken: string | undefined;
  /** Environment variables that point the AWS SDKs at it. */
  env: Record<string, string>;
}

/** Everything the seeder writes to. */
export interface SeedTargets {
  /** IAM. */
  identities: AwsIdentityStore;
  /** Cerberus data. */
  store: CerberusStore;
  /** Cerberus users. */
  users: UserDirectory;
  /** KMS keys. */
  keys: KmsKeyStore;
  /** The instance. */
  instance: InstanceConfig;
  /** Web identity tokens. */
  webIdentities: WebIdentityRegistry;
  /** Container endpoints. */
  containers: ContainerRegistry;
  /** Base URL of the container endpoint service. */
  ecsUrl: string;
  /** Server time. */
  now: TimeSource;
}

/** Seeding helpers of a stack. */
export class StackSeeder {
  readonly #t: SeedTargets;

  /** @param targets the stores to seed. */
  constructor(targets: SeedTargets) {
    this.#t = targets;
  }

  /** Adds an IAM role (idempotent). */
  role(seed: RoleSeed): RoleRecord {
    return this.#t.identities.addRole(seed);
  }

  /** Issues temporary credentials for a role (as if assumed by `sessionName`). */
  roleCredentials(roleArn: string, options: SessionOptions = {}): AwsCredentials {
    const role = this.#t.identities.getRole(roleArn);
    if (!role) throw new Error(`unknown role ${roleArn}`);
    return this.#t.identities.issueRoleSession(role, options);
  }

  /** Adds an IAM user with long-term credentials. */
  iamUser(name: string, accountId?: string): { arn: string; credentials: AwsCredentials } {
    return this.#t.identities.addUser(name, accountId);
  }

  /** Adds an SDB with permissions, secrets and files. */
  sdb(seed: SdbSeed): SeededSdb {
    const store = this.#t.store;
    const categoryPath = seed.category ?? "app";
    const category = store.categories.find((c) => c.path === categoryPath);
    if (!category) throw new Error(`unknown category ${categoryPath}`);
    const ts = this.#ts();
    const sdb = store.createSdb(
      {
        name: seed.name,
        description: seed.description ?? "",
        categoryId: category.id,
        owner: seed.owner ?? "local-stack-owners",
        userGroupPermissions: Object.entries(seed.userGroups ?? {}).map(([name, role]) => ({
          name,
          roleId: store.role(role).id,
        })),
        iamPrincipalPermissions: Object.entries(seed.iamPrincipals ?? {}).map(([arn, role]) => ({
          iamPrincipalArn: arn,
          roleId: store.role(role).id,
        })),
      },
      "local-stack-seed",
      ts,
    );
    for (const [path, data] of Object.entries(seed.secrets ?? {})) this.secret(sdb.path + path, data);
    for (const [path, content] of Object.entries(seed.files ?? {})) this.file(sdb.path + path, content);
    return { id: sdb.id, name: sdb.name, path: sdb.path };
  }

  /** Writes a key/value secret at a full path (`app/demo/config`), replacing every key. */
  secret(fullPath: string, data: Record<string, unknown>, by = "local-stack-seed"): void {
    const located = this.#t.store.locate(fullPath);
    if (!located || located.subPath === "") throw new Error(`no SDB for path ${fullPath}`);
    this.#t.store.write(
      located.sdb.id,
      located.subPath,
      { type: "OBJECT", data: JSON.stringify(data) },
      by,
      this.#ts(),
    );
  }

  /** Writes a file at a full path (`app/demo/cert.pem`). */
  file(fullPath: string, content: Uint8Array | string, by = "local-stack-seed"): void {
    const located = this.#t.store.locate(fullPath);
    if (!located || located.subPath === "") throw new Error(`no SDB for path ${fullPath}`);
    const bytes = typeof content === "string" ? utf8Bytes(content) : content.slice();
    this.#t.store.write(located.sdb.id, located.subPath, { type: "FILE", data: bytes }, by, this.#ts());
  }

  /** Adds a Cerberus user (password, groups, MFA devices). */
  user(seed: UserSeed): { id: string; username: string; devices: { id: string; name: string; kind: MfaDeviceKind }[] } {
    const user = this.#t.users.add(seed);
    return {
      id: user.id,
      username: user.username,
      devices: user.devices.map((d) => ({ id: d.id, name: d.name, kind: d.kind })),
    };
  }

  /** Reconfigures the emulated instance (v1 on/off, profile path, roles, …) and returns it. */
  instance(seed: InstanceSeed): InstanceConfig {
    const instance = this.#t.instance;
    const { roles, ...rest } = seed;
    Object.assign(instance, rest);
    if (rest.profilePath !== undefined) instance.profilePath = normalizeIamPath(rest.profilePath);
    if (roles !== undefined) {
      instance.roleArns = roles.map((role) => {
        if (typeof role !== "string") return role.arn;
        if (role.startsWith("arn:")) return role;
        const existing = this.#t.identities.rolesNamed(instance.accountId, role)[0];
        return (existing ?? this.#t.identities.addRole({ name: role, accountId: instance.accountId })).arn;
      });
    }
    return instance;
  }

  /** Makes STS accept `token` for `AssumeRoleWithWebIdentity`. */
  webIdentityToken(token: string, grant: Partial<WebIdentityGrant> = {}): void {
    this.#t.webIdentities.add(token, grant);
  }

  /** Registers a container credentials endpoint for a role. */
  container(roleArn: string, options: { requireAuthorization?: boolean } = {}): ContainerEndpoint {
    if (!this.#t.identities.getRole(roleArn)) throw new Error(`unknown role ${roleArn}`);
    const grant = this.#t.containers.add(roleArn, options.requireAuthorization ?? true);
    const fullUri = new URL(grant.path, this.#t.ecsUrl).href;
    const env: Record<string, string> = { AWS_CONTAINER_CREDENTIALS_FULL_URI: fullUri };
    if (grant.authorizationToken !== undefined) env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = grant.authorizationToken;
    return { fullUri, relativeUri: grant.path, authorizationToken: grant.authorizationToken, env };
  }

  /** Adds policies to the tokens of a principal (large ones exercise the 4096-byte truncation). */
  tokenPolicies(principalArn: string, policies: string[]): void {
    this.#t.store.setPolicies(principalArn, policies);
  }

  /** Sets the state of the KMS key of (principal, region); false when no key was created yet. */
  keyState(principalArn: string, region: string, state: KeyState): boolean {
    const key = this.#t.keys.find(principalArn, region);
    if (!key) return false;
    this.#t.keys.setState(key, state);
    return true;
  }

  #ts(): string {
    return new Date(this.#t.now()).toISOString();
  }
}

/** What the default seed created. */
export interface DefaultSeed {
  /** The instance's account. */
  accountId: string;
  /** The instance's region. */
  region: string;
  /** Instance id. */
  instanceId: string;
  /** `arn:aws:iam::<acct>:instance-profile/team-a/app-profile`. */
  instanceProfileArn: string;
  /** The instance's roles: `unregistered` (listed first, on no SDB) and `app` (reads `app/demo`). */
  roles: { unregistered: RoleRecord; app: RoleRecord };
  /** The SDB `app/demo/`. */
  sdb: SeededSdb;
  /** `app/demo/config`. */
  secretPath: string;
  /** The secret at {@link DefaultSeed.secretPath}. */
  secret: Record<string, string>;
  /** A user (no MFA) in the SDB's owner group. */
  user: { username: string; password: string; groups: string[] };
  /** A web identity token STS accepts for the app role. */
  webIdentityToken: string;
  /** A container credentials endpoint for the app role. */
  container: ContainerEndpoint;
}

/** The default secret of `app/demo/config`. */
export const DEFAULT_SECRET: Readonly<Record<string, string>> = {
  greeting: "hello from the local stack",
  environment: "local",
  database_url: "postgres://demo@db.local.test:5432/demo",
};

/** Applies the default seed: one instance, two roles, SDB `app/demo` with secret `config`, a user. */
export function applyDefaultSeed(seeder: StackSeeder, accountId: string, region: string): DefaultSeed {
  const unregistered = seeder.role({ name: "base-role", accountId, path: "team-a/" });
  const app = seeder.role({ name: "app-role", accountId });
  const instance = seeder.instance({
    accountId,
    region,
    availabilityZone: `${region}a`,
    instanceId: "i-0123456789abcdef0",
    profileName: "app-profile",
    profilePath: "/team-a/",
    roles: [unregistered, app],
  });
  const owners = "demo-owners";
  const sdb = seeder.sdb({
    name: "demo",
    category: "app",
    description: "SDB of the local stack's demo",
    owner: owners,
    iamPrincipals: { [app.arn]: "read" },
    secrets: { config: { ...DEFAULT_SECRET } },
  });
  const user = { username: "demo@local.test", password: "local-stack-password", groups: [owners] };
  seeder.user(user);
  const webIdentityToken = "local-stack-web-identity-token";
  seeder.webIdentityToken(webIdentityToken, { roleArns: [app.arn] });
  return {
    accountId,
    region,
    instanceId: instance.instanceId,
    instanceProfileArn: `arn:aws:iam::${accountId}:instance-profile${instance.profilePath}${instance.profileName}`,
    roles: { unregistered, app },
    sdb,
    secretPath: `${sdb.path}config`,
    secret: { ...DEFAULT_SECRET },
    user,
    webIdentityToken,
    container: seeder.container(app.arn),
  };
}
