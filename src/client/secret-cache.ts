/**
 * The opt-in cache of read answers (secrets, listings): many keys, each one a {@link cachedUntil}
 * value, so every key has one load at a time and a background refresh, with a least-recently-used
 * bound on keys and bytes. Answers are kept in memory only.
 *
 * Ages are counted from when a load was started (or a value was set), not from when its answer
 * arrived, so a slow answer is not kept longer for being slow. A value is:
 * - fresh for `ttlMs` (±10% per value, so that a fleet does not refresh in step): answered at once;
 * - stale for `staleWhileRevalidateMs` more: answered at once while one background load refreshes it;
 * - then loaded while the reader waits. When that load fails (or the reader's deadline passes) and
 *   the value is less than `staleIfErrorMs` past its ttl, the reader gets the value instead of the
 *   error; for 5 s after a failed load such readers get it at once, without another load.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { InvalidInputError } from "../errors.ts";
import type { CerberusEvent } from "../events.ts";
import { type Cached, cachedUntil, type CachePolicy } from "../internal/cache.ts";
import { emit } from "../internal/events.ts";
import { sanitize } from "../internal/text.ts";

/** The client's `cache` option as an object: how long answers are kept, and how many. */
export interface SecretCacheOptions {
  /** How long a value is answered from memory without asking Cerberus, ms (default 60 s; ±10% per value). */
  ttlMs?: number;
  /** After the ttl, how long the old value is still answered at once while it is refreshed in the background, ms (default 5 min). */
  staleWhileRevalidateMs?: number;
  /** After the ttl, how long the old value is answered instead of a failed load's error, ms (default 1 h). */
  staleIfErrorMs?: number;
  /** Most keys held; the least recently used goes first (default 1024). */
  maxEntries?: number;
  /** Most bytes held, as measured by the reader's `size` (default: no limit). */
  maxBytes?: number;
  /** How long an absent answer (a 404) is remembered, ms (default 5 s). */
  notFoundTtlMs?: number;
}

/** The settings of `cache: true`, and of every field an object leaves out. */
export const CACHE_DEFAULTS: {
  readonly ttlMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  readonly maxEntries: number;
  readonly notFoundTtlMs: number;
} = Object.freeze({
  ttlMs: 60_000,
  staleWhileRevalidateMs: 300_000,
  staleIfErrorMs: 3_600_000,
  maxEntries: 1024,
  notFoundTtlMs: 5_000,
});

/** Checked cache settings: every field set, `maxBytes` only when there is a byte limit. */
export type CacheSettings = Required<Omit<SecretCacheOptions, "maxBytes">> & { maxBytes?: number };

/** Counters of a {@link SecretCache} since it was made, and what it holds now. */
export interface CacheStats {
  /** Reads answered from memory with a fresh value (or a remembered absent answer). */
  hits: number;
  /** Reads that had to wait for a load. */
  misses: number;
  /** Background loads started to refresh a stale value. */
  refreshes: number;
  /** Reads answered with a stale value (while it was refreshed, or because a load failed). */
  stale: number;
  /** Keys dropped to stay within `maxEntries`/`maxBytes`, and values too large to keep. */
  evictions: number;
  /** Keys held now (with a value, an absent answer, or a first load in flight). */
  entries: number;
  /** Bytes held now, as measured by `size`. */
  bytes: number;
}

/**
 * What the cache did for a key (`cache.miss`: a read waits for a load; `cache.refresh`: a
 * background load started); never carries a value.
 */
export type CacheEvent = Extract<CerberusEvent, { type: `cache.${string}` }>;

/** Options of one {@link SecretCache.read}. */
export interface ReadOptions<T> {
  /** Stops this reader's wait (with the `aborted` error); the load goes on for the others. */
  signal?: AbortSignal;
  /** Clock time (ms) at which this reader stops waiting (with the `timedOut` error, or a stale value). */
  deadline?: number;
  /** Bytes a loaded value counts toward `maxBytes` (default 0). */
  size?: (value: T) => number;
  /** True for a load error that means "there is no such thing": it is remembered for `notFoundTtlMs`. */
  absent?: (error: unknown) => boolean;
}

/** A keyed, bounded, in-memory cache of answers; made by {@link createSecretCache}. */
export interface SecretCache {
  /**
   * The value of `key`: from memory while it is fresh (or stale within the windows), else from
   * `load`, which is shared by every reader of `key` meanwhile. `load` must not depend on this
   * reader's signal: it answers the others too. Rejects with the load's own error, a remembered
   * absent error, or the `aborted`/`timedOut` error of this reader.
   */
  read<T>(key: string, load: () => Promise<T>, options?: ReadOptions<T>): Promise<T>;
  /** Holds `value` for `key`, fresh from now (after the caller's own write); `size` in bytes, default 0. */
  set<T>(key: string, value: T, size?: number): void;
  /** Forgets `key`; a load in flight for it will answer its readers but not be kept. */
  delete(key: string): void;
  /** Forgets every key that starts with `prefix`, as {@link SecretCache.delete} does. */
  deletePrefix(prefix: string): void;
  /** Forgets every key, as {@link SecretCache.delete} does. */
  clear(): void;
  /** The counters and what is held now. */
  stats(): CacheStats;
}

/** What {@link createSecretCache} needs from the client. */
export interface SecretCacheDeps {
  /** Clock for ages and deadlines. */
  clock: Clock;
  /** Source of the ttl jitter, in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Told what happened to which key; must not throw (a throwing listener is ignored). */
  onEvent?: ((event: CacheEvent) => void) | undefined;
  /** The error a reader gets when its signal aborts its wait. */
  aborted(reason: unknown): unknown;
  /** The error a reader gets when its deadline passes while it waits (default `Error("timed out")`). */
  timedOut?(): unknown;
}

const MAX_MS = 2_147_483_647;

const LIMITS: Readonly<Record<keyof SecretCacheOptions, readonly [min: number, max: number, unit: string]>> = {
  ttlMs: [1, MAX_MS, "milliseconds"],
  staleWhileRevalidateMs: [0, MAX_MS, "milliseconds"],
  staleIfErrorMs: [0, MAX_MS, "milliseconds"],
  maxEntries: [1, 1_000_000, "entries"],
  maxBytes: [1, Number.MAX_SAFE_INTEGER, "bytes"],
  notFoundTtlMs: [0, MAX_MS, "milliseconds"],
};

/**
 * Checks the client's `cache` option: `undefined` or `false` → `undefined` (no cache); `true` →
 * {@link CACHE_DEFAULTS}; an object → the defaults with its fields, each a whole number in range.
 * Anything else, an unknown field or a bad number is an `InvalidInputError` naming the field,
 * e.g. `options.cache.ttlMs`.
 */
export function checkCacheOptions(value: unknown): CacheSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { ...CACHE_DEFAULTS };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidInputError("must be true, false or an object of cache settings", { field: "options.cache" });
  }
  const settings: CacheSettings = { ...CACHE_DEFAULTS };
  for (const [name, field] of Object.entries(value)) {
    if (!Object.hasOwn(LIMITS, name)) {
      throw new InvalidInputError(`is not a cache setting (${Object.keys(LIMITS).join(", ")})`, {
        field: `options.cache.${sanitize(name, 60)}`,
      });
    }
    if (field === undefined) continue;
    const [min, max, unit] = LIMITS[name as keyof SecretCacheOptions];
    if (typeof field !== "number" || !Number.isInteger(field) || field < min || field > max) {
      throw new InvalidInputError(`must be a whole number of ${unit} from ${min} to ${max}`, {
        field: `options.cache.${name}`,
      });
    }
    settings[name as keyof SecretCacheOptions] = field;
  }
  return settings;
}

/** Pause after a failed load before the next one, in the background or for stale-if-error readers. */
const RETRY_PAUSE_MS = 5_000;

/** What a key holds: a value, or a remembered absent error; with when it goes stale and expires (clock ms). */
type Held =
  & { readonly refreshAt: number; readonly expiresAt: number; readonly bytes: number }
  & ({ readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown });

interface Loader {
  load(): Promise<unknown>;
  size: ((value: never) => number) | undefined;
  absent: ((error: unknown) => boolean) | undefined;
}

interface Entry {
  readonly key: string;
  readonly cached: Cached<Held>;
  /** What `set` gave, until `cached` holds it (one microtask later). */
  readonly seed: Held | undefined;
  /** Bytes counted for this entry while it is in the map. */
  bytes: number;
  /** When the last load failed (-Infinity after a success). */
  failedAt: number;
  /** The loader of the latest reader, used by the next load. */
  loader?: Loader;
}

/** Marks the abort error, which never turns into a stale answer. */
class Stopped {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

const bytesOf = (n: unknown): number => (typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 0);

/**
 * Makes a cache with checked `settings` (see {@link checkCacheOptions}).
 *
 * Races: `delete`, `deletePrefix`, `clear`, `set` and eviction detach a key's entry. A load in
 * flight for a detached entry still answers the readers that were waiting for it, but its result
 * is never kept, so it can neither bring back a deleted key nor overwrite a newer `set`; the next
 * read of the key starts a load of its own.
 */
export function createSecretCache(settings: CacheSettings, deps: SecretCacheDeps): SecretCache {
  const { clock } = deps;
  const random = deps.random ?? Math.random;
  const maxBytes = settings.maxBytes;
  const entries = new Map<string, Entry>();
  const counts = { hits: 0, misses: 0, refreshes: 0, stale: 0, evictions: 0 };
  let bytes = 0;

  const note = (type: CacheEvent["type"], key: string): void => {
    if (type === "cache.hit") counts.hits++;
    else if (type === "cache.miss") counts.misses++;
    else if (type === "cache.refresh") counts.refreshes++;
    else if (type === "cache.stale") counts.stale++;
    else counts.evictions++;
    emit(deps.onEvent, { type, key });
  };

  const valueHeld = (value: unknown, at: number, size: number): Held => {
    const refreshAt = at + settings.ttlMs * (0.9 + 0.2 * random());
    return { ok: true, value, refreshAt, expiresAt: refreshAt + settings.staleWhileRevalidateMs, bytes: size };
  };

  const absentHeld = (error: unknown, at: number): Held => {
    const until = at + settings.notFoundTtlMs;
    return { ok: false, error, refreshAt: until, expiresAt: until, bytes: 0 };
  };

  const drop = (entry: Entry): void => {
    entries.delete(entry.key);
    bytes -= entry.bytes;
    entry.bytes = 0;
  };

  const evict = (entry: Entry): void => {
    drop(entry);
    note("cache.evict", entry.key);
  };

  const touch = (entry: Entry): void => {
    entries.delete(entry.key);
    entries.set(entry.key, entry);
  };

  // The newest entry is last and within maxBytes on its own, so the oldest ones go first.
  const trim = (): void => {
    for (const entry of entries.values()) {
      if (entries.size <= settings.maxEntries && (maxBytes === undefined || bytes <= maxBytes)) return;
      evict(entry);
    }
  };

  const admit = (entry: Entry, held: Held): Held => {
    if (entries.get(entry.key) !== entry) return held;
    if (maxBytes !== undefined && held.bytes > maxBytes) {
      evict(entry);
      return held;
    }
    bytes += held.bytes - entry.bytes;
    entry.bytes = held.bytes;
    touch(entry);
    trim();
    return held;
  };

  const loadFor = (entry: Entry): Promise<Held> => {
    const loader = entry.loader!;
    const at = clock.now();
    return new Promise<unknown>((resolve) => resolve(loader.load())).then(
      (value) => {
        entry.failedAt = Number.NEGATIVE_INFINITY;
        return admit(entry, valueHeld(value, at, bytesOf(loader.size?.(value as never))));
      },
      (error) => {
        if (loader.absent?.(error)) return admit(entry, absentHeld(error, at));
        entry.failedAt = clock.now();
        throw error;
      },
    );
  };

  const newEntry = (key: string, seed?: Held): Entry => {
    let first = seed;
    const policy: CachePolicy<Held> = {
      clock,
      refreshAt: (held) => held.refreshAt,
      expiresAt: (held) => held.expiresAt,
      aborted: (reason) => new Stopped(deps.aborted(reason)),
      timedOut: deps.timedOut && (() => deps.timedOut!()),
      onLoad: (reason) => {
        if (reason === "expiring") note("cache.refresh", key);
      },
      backgroundRetryMs: RETRY_PAUSE_MS,
    };
    const entry: Entry = {
      key,
      seed,
      bytes: 0,
      failedAt: Number.NEGATIVE_INFINITY,
      cached: cachedUntil(() => {
        if (!first) return loadFor(entry);
        const held = first;
        first = undefined;
        return Promise.resolve(held);
      }, policy),
    };
    if (seed) void entry.cached.get();
    return entry;
  };

  const heldBy = (entry: Entry): Held | undefined => entry.cached.peek() ?? entry.seed;

  return {
    read<T>(key: string, load: () => Promise<T>, options: ReadOptions<T> = {}): Promise<T> {
      let entry = entries.get(key);
      if (entry) touch(entry);
      else {
        entry = newEntry(key);
        entries.set(key, entry);
        trim();
      }
      const now = clock.now();
      const held = heldBy(entry);
      if (held && now < held.refreshAt) note("cache.hit", key);
      else if (held?.ok && now < held.expiresAt) note("cache.stale", key);
      else if (
        held?.ok && now < held.refreshAt + settings.staleIfErrorMs && now - entry.failedAt < RETRY_PAUSE_MS
      ) {
        // A load just failed: answer the old value at once rather than make every reader wait for the next failure.
        note("cache.stale", key);
        return Promise.resolve(held.value as T);
      } else note("cache.miss", key);
      entry.loader = { load, size: options.size, absent: options.absent };
      const current = entry;
      return entry.cached.get(options.signal, options.deadline).then(
        (answer) => {
          if (!answer.ok) throw answer.error;
          return answer.value as T;
        },
        (error: unknown) => {
          if (error instanceof Stopped) throw error.error;
          const last = entries.get(key) === current ? heldBy(current) : undefined;
          if (last?.ok && clock.now() < last.refreshAt + settings.staleIfErrorMs) {
            note("cache.stale", key);
            return last.value as T;
          }
          throw error;
        },
      );
    },
    set(key, value, size) {
      const held = valueHeld(value, clock.now(), bytesOf(size));
      const old = entries.get(key);
      if (old) drop(old);
      if (maxBytes !== undefined && held.bytes > maxBytes) {
        note("cache.evict", key);
        return;
      }
      const entry = newEntry(key, held);
      entry.bytes = held.bytes;
      bytes += held.bytes;
      entries.set(key, entry);
      trim();
    },
    delete(key) {
      const entry = entries.get(key);
      if (entry) drop(entry);
    },
    deletePrefix(prefix) {
      for (const entry of entries.values()) if (entry.key.startsWith(prefix)) drop(entry);
    },
    clear() {
      for (const entry of entries.values()) drop(entry);
    },
    stats: () => ({ ...counts, entries: entries.size, bytes }),
  };
}
