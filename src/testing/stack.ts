/**
 * The whole local stack in memory: Cerberus, KMS, STS, instance metadata and the container
 * endpoint over shared state, each behind fault injection and a request log, reachable through
 * a fetch-shaped transport that routes by origin without sockets.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { ContainerRegistry, createEcsService } from "./aws/ecs-service.ts";
import { AwsIdentityStore, type RoleRecord } from "./aws/identity.ts";
import { createImdsService, type InstanceConfig } from "./aws/imds-service.ts";
import { KmsKeyStore } from "./aws/kms-keys.ts";
import { createKmsService } from "./aws/kms-service.ts";
import { regionOfAwsHost } from "./aws/regions.ts";
import { createStsService } from "./aws/sts-service.ts";
import { WebIdentityRegistry } from "./aws/web-identity.ts";
import { type CerberusConfig, DEFAULT_CERBERUS_CONFIG } from "./cerberus/context.ts";
import { createCerberusService } from "./cerberus/service.ts";
import { CerberusStore } from "./cerberus/store.ts";
import { CerberusTokenStore } from "./cerberus/tokens.ts";
import { UserDirectory } from "./cerberus/users.ts";
import { FaultInjector } from "./faults.ts";
import { createMemoryTransport, type MemoryTransport } from "./memory-transport.ts";
import { RequestLog } from "./request-log.ts";
import { applyDefaultSeed, type DefaultSeed, StackSeeder } from "./seed.ts";
import { StackClock } from "./stack-clock.ts";
import { type FetchHandler, SERVICE_NAMES, type ServiceName, type TimeSource } from "./types.ts";

/** Options of {@link createLocalStack} (and `startLocalStack`). */
export interface LocalStackOptions {
  /**
   * The clock the stack runs on (default: the system clock). Server time is its `now()` plus
   * the stack clock's offset and skews, and injected latency waits on its timers, so a test
   * with a `ManualClock` moves through latency by advancing it. Not together with `now`.
   */
  clock?: Clock;
  /** Base time source, ms (default `Date.now`); the stack's clock offset is added to it. Not together with `clock`. */
  now?: TimeSource;
  /** Region of the instance and of `env.AWS_REGION` (default `us-west-2`). */
  region?: string;
  /** Account of the instance and its roles (default `111122223333`). */
  accountId?: string;
  /** Account of the Cerberus deployment, owning the KMS keys (default `999988887777`). */
  cerberusAccountId?: string;
  /** Cerberus server settings (token lifetimes, refresh limit, KMS auth on/off, admins). */
  cerberus?: Partial<CerberusConfig>;
  /** Apply the default seed (default `true`). */
  seed?: boolean;
  /**
   * Also route the real AWS host names (`kms.<region>.amazonaws.com`, `sts.<region>.amazonaws.com`,
   * `169.254.169.254`, `169.254.170.2`) in the in-memory transport (default `false`, so that a client
   * ignoring its endpoint configuration fails loudly).
   */
  routeAwsHostnames?: boolean;
  /** How many requests the request log keeps (default 1000); benchmarks that count every request raise it. */
  requestLogCapacity?: number;
}

/** Base URLs of the services. */
export type ServiceUrls = Readonly<Record<ServiceName, string>>;

/** Environment variables that point a client at the stack. */
export interface LocalStackEnv {
  /** The instance metadata endpoint. */
  AWS_EC2_METADATA_SERVICE_ENDPOINT: string;
  /** The KMS endpoint. */
  AWS_ENDPOINT_URL_KMS: string;
  /** The STS endpoint. */
  AWS_ENDPOINT_URL_STS: string;
  /** The instance's region. */
  AWS_REGION: string;
  /** The Cerberus URL. */
  CERBERUS_URL: string;
  /** Index signature, so the record can be handed to anything taking string maps. */
  [name: string]: string;
}

/** A running (or in-memory) local stack. */
export interface LocalStack {
  /** Base URLs of the services. */
  readonly urls: ServiceUrls;
  /** Cerberus base URL. */
  readonly cerberus: string;
  /** KMS endpoint URL. */
  readonly kms: string;
  /** STS endpoint URL. */
  readonly sts: string;
  /** Instance metadata endpoint URL. */
  readonly imds: string;
  /** Container credentials endpoint base URL. */
  readonly ecs: string;
  /** Environment for a client: metadata endpoint, KMS/STS endpoints, region, Cerberus URL. */
  readonly env: LocalStackEnv;
  /**
   * Sends a request to the service of its origin, in memory (no sockets). Called like `fetch`:
   * with a `Request`, or a URL and an init, so it is also the core's `HttpTransport`.
   */
  readonly transport: MemoryTransport;
  /** The services' fetch handlers, faults and request log included. */
  readonly handlers: Readonly<Record<ServiceName, FetchHandler>>;
  /** Server time: `setOffset`, `advance`, per-service `skew`. */
  readonly clock: StackClock;
  /** Fault injection: `inject(service, fault, scope)`, `clear()`. */
  readonly faults: FaultInjector;
  /** What each service answered. */
  readonly requests: RequestLog;
  /** Seeding helpers. */
  readonly seed: StackSeeder;
  /** What the default seed created (`undefined` with `seed: false`). */
  readonly defaults: DefaultSeed | undefined;
  /** The emulated instance (mutable; see `seed.instance`). */
  readonly instance: InstanceConfig;
  /** Cerberus's own role (the KMS key administrator, the only principal allowed `kms:Encrypt`). */
  readonly cerberusRole: RoleRecord;
  /** Cerberus's settings (mutable). */
  readonly cerberusConfig: CerberusConfig;
  /** Stops every server of the stack (a no-op in memory). */
  close(): Promise<void>;
}

/**
 * The in-memory origins of {@link createLocalStack}: loopback addresses, so that a client's
 * endpoint policy treats them as this machine, though nothing listens there (port 9 is the
 * discard port) and only the in-memory transport reaches them.
 */
export const MEMORY_ORIGINS: ServiceUrls = {
  cerberus: "http://127.0.0.11:9",
  kms: "http://127.0.0.12:9",
  sts: "http://127.0.0.13:9",
  imds: "http://127.0.0.14:9",
  ecs: "http://127.0.0.15:9",
};

/** Builds a stack whose services answer at `urls` (used by `startLocalStack` with real URLs). */
export function buildLocalStack(options: LocalStackOptions, urls: ServiceUrls, close: () => Promise<void>): LocalStack {
  if (options.clock && options.now) throw new TypeError("pass either clock or now, not both");
  const base = options.clock;
  const clock = new StackClock(base ? () => base.now() : options.now);
  const region = options.region ?? "us-west-2";
  const accountId = options.accountId ?? "111122223333";
  const cerberusAccountId = options.cerberusAccountId ?? "999988887777";
  const identities = new AwsIdentityStore(() => clock.now(), accountId);
  const cerberusRole = identities.addRole({ name: "cerberus", accountId: cerberusAccountId });
  const keys = new KmsKeyStore(cerberusAccountId, cerberusRole.arn, clock.serviceTime("kms"));
  const store = new CerberusStore(new Date(clock.now()).toISOString());
  const users = new UserDirectory();
  const tokens = new CerberusTokenStore();
  const webIdentities = new WebIdentityRegistry();
  const containers = new ContainerRegistry();
  const cerberusConfig: CerberusConfig = { ...DEFAULT_CERBERUS_CONFIG, ...options.cerberus };
  const instance: InstanceConfig = {
    accountId,
    region,
    availabilityZone: `${region}a`,
    instanceId: "i-0123456789abcdef0",
    instanceType: "t3.micro",
    imageId: "ami-0123456789abcdef0",
    privateIp: "10.0.0.10",
    profileName: "app-profile",
    profilePath: "/",
    profileId: "AIPAEXAMPLEPROFILE01",
    roleArns: [],
    v1Enabled: true,
    credentialTtlMs: 6 * 3_600_000,
  };
  const faults = new FaultInjector(options.clock);
  const requests = new RequestLog(options.requestLogCapacity);
  const handlers = {} as Record<ServiceName, FetchHandler>;
  const decorate = (service: ServiceName, raw: FetchHandler): FetchHandler => {
    const time = clock.serviceTime(service);
    return requests.wrap(service, faults.wrap(service, raw, time), time);
  };
  handlers.kms = decorate("kms", createKmsService({ identities, keys, now: clock.serviceTime("kms") }));
  handlers.sts = decorate("sts", createStsService({ identities, webIdentities, now: clock.serviceTime("sts") }));
  handlers.imds = decorate("imds", createImdsService({ identities, instance, now: clock.serviceTime("imds") }));
  handlers.ecs = decorate("ecs", createEcsService({ identities, containers, now: clock.serviceTime("ecs") }));
  handlers.cerberus = decorate(
    "cerberus",
    createCerberusService({
      store,
      tokens,
      users,
      keys,
      identities,
      sts: (request) => handlers.sts(request),
      config: cerberusConfig,
      now: clock.serviceTime("cerberus"),
    }),
  );
  const byOrigin = new Map<string, FetchHandler>();
  for (const service of SERVICE_NAMES) byOrigin.set(new URL(urls[service]).origin, handlers[service]);
  const transport = createMemoryTransport((url) => {
    const handler = byOrigin.get(url.origin);
    if (handler || !options.routeAwsHostnames) return handler;
    if (regionOfAwsHost(url.hostname, "kms")) return handlers.kms;
    if (regionOfAwsHost(url.hostname, "sts") || url.hostname === "sts.amazonaws.com") return handlers.sts;
    if (url.origin === "http://169.254.169.254" || url.origin === "http://[fd00:ec2::254]") return handlers.imds;
    if (url.origin === "http://169.254.170.2") return handlers.ecs;
    return undefined;
  });
  const seed = new StackSeeder({
    identities,
    store,
    users,
    keys,
    instance,
    webIdentities,
    containers,
    ecsUrl: urls.ecs,
    now: () => clock.now(),
  });
  const defaults = options.seed === false ? undefined : applyDefaultSeed(seed, accountId, region);
  const env: LocalStackEnv = {
    AWS_EC2_METADATA_SERVICE_ENDPOINT: urls.imds,
    AWS_ENDPOINT_URL_KMS: urls.kms,
    AWS_ENDPOINT_URL_STS: urls.sts,
    AWS_REGION: region,
    CERBERUS_URL: urls.cerberus,
  };
  return {
    urls,
    ...urls,
    env,
    transport,
    handlers,
    clock,
    faults,
    requests,
    seed,
    defaults,
    instance,
    cerberusRole,
    cerberusConfig,
    close,
  };
}

/** Creates the stack in memory only: no sockets; reach it through `transport` (or `handlers`). */
export function createLocalStack(options: LocalStackOptions = {}): LocalStack {
  return buildLocalStack(options, MEMORY_ORIGINS, async () => {});
}
