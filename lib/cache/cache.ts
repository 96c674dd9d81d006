/**
 * The cache of hot answers: the `Cache` interface every backend implements (memory,
 * Redis over TCP, Upstash over REST) and `CachedReader`, the read-through layer the
 * handlers use.
 *
 * Freshness comes from versioned keys, not from deleting entries: every entry key
 * carries its tenant and the tenant's current data-version token, and every
 * committed write replaces that token with a fresh random one. Old entries are never
 * deleted; they simply become unreachable and expire on their TTL.
 */
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import type { Registry } from "../telemetry.ts";
import { base64UrlEncode } from "../encoding.ts";
import { backoffCeiling } from "../retry.ts";

/** What one combined lookup returns: the tenant's current version and, if cached, the entry. */
export interface VersionedLookup {
  /** The tenant's current data-version token. */
  version: string;
  /** The cached text, or undefined on a miss. */
  value: string | undefined;
}

/** Which store holds the entries: in-process memory, Redis over TCP, or Upstash over HTTPS. */
export type CacheBackend = "memory" | "redis" | "upstash";

/**
 * A cache backend: plain entries with TTLs plus per-tenant data-version tokens.
 * Implemented by `MemoryCache`, `redisCache` and `upstashCache`; read through `CachedReader`.
 */
export interface Cache {
  /** Which backend this is. */
  readonly backend: CacheBackend;
  /** Keys are logical (see `cacheKeys`); a backend may prefix them with its namespace. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlSeconds` (at least one second). */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** The tenant's current version token; when none exists, a fresh random one is created (SET NX). */
  dataVersion(tenant: string): Promise<string>;
  /** Replaces the tenant's version with a fresh random token and returns it. */
  bumpDataVersion(tenant: string): Promise<string>;
  /**
   * The tenant's version (created if missing, as in `dataVersion`) and the entry for
   * `queryKey` under that version, in one round trip: this is the hot path of a hit.
   */
  lookup(tenant: string, queryKey: string): Promise<VersionedLookup>;
  /** Resolves when the backend answers; rejects when it does not. */
  ping(): Promise<void>;
  /** Releases the connection (or, for memory, the entries). */
  close(): Promise<void>;
}

/**
 * The key layout every backend shares. `{tenant}` is a Redis Cluster hash tag, so a
 * tenant's version key and its entries live in one slot and one Lua script may touch
 * them all. The tenant is URI-encoded, so it can contain neither `{`, `}` nor `:`;
 * version tokens are base64url; hence every key reads back unambiguously.
 */
export const cacheKeys = {
  version: (tenant: string): string => `v:{${encodeURIComponent(tenant)}}`,
  /** Everything of an entry key before the version token. */
  entryPrefix: (tenant: string): string => `e:{${encodeURIComponent(tenant)}}:`,
  entry: (tenant: string, version: string, queryKey: string): string =>
    `${cacheKeys.entryPrefix(tenant)}${version}:${queryKey}`,
  /** A bot conversation's last query: outside the data version (a write does not end it). */
  conversation: (tenant: string, conversationId: string): string =>
    `c:{${encodeURIComponent(tenant)}}:${conversationId}`,
};

/** Random per process: with the counter below, tokens never repeat across processes. */
const TOKEN_PREFIX = (() => {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return base64UrlEncode(bytes);
})();
let tokenCounter = 0;

/**
 * A version token that is never reused: a random prefix per process (96 bits) and a
 * counter. Never reused rather than an INCR counter: a counter restarts at 1 after Redis
 * loses its data, and would then make entries written under the old "1" reachable again.
 * Cheap, because the hot path passes one to every lookup (used only if the key is gone).
 */
export function newVersionToken(): string {
  tokenCounter += 1;
  return `${TOKEN_PREFIX}.${tokenCounter.toString(36)}`;
}

/** Counts of what the reader did since it started. */
export interface CacheCounters {
  /** Answers served from the cache. */
  hits: number;
  /** Reads whose lookup found no entry (joiners of a single flight included). */
  misses: number;
  /** Failed cache operations (lookups, stores, bumps, probes). */
  errors: number;
  /** Answers computed without the cache: cache disabled, failing, or a bump still pending. */
  bypasses: number;
  /** Background attempts to land a version bump that failed at write time. */
  bumpRetries: number;
}

/** Whether the cache is usable now, and the last failure seen. */
export interface CacheHealth {
  /** Which backend. */
  backend: CacheBackend;
  /** False when caching is switched off. */
  enabled: boolean;
  /** False from the first failed cache operation until the next successful one. */
  healthy: boolean;
  /** The last failure's message. */
  lastError?: string;
  /** ISO time of `lastError`. */
  lastErrorAt?: string;
  /** Tenants whose version bump has not landed yet (their reads bypass the cache here). */
  pendingBumps: number;
}

/** How a `CachedReader` caches. */
export interface CachedReaderOptions {
  /** The backend the entries and version tokens live in. */
  cache: Cache;
  /** Lifetime of an entry; it also bounds how long a lost bump can leave stale entries. */
  ttlSeconds?: number;
  /** False turns caching off ("cache disabled" benchmarks): every read computes. */
  enabled?: boolean;
  /** Where cache failures are reported (once per change of state); silent by default. */
  logger?: Logger;
  /** Backoff of the background bump retry: doubles from initial up to max (with jitter). */
  bumpRetryInitialMs?: number;
  /** Ceiling of the background bump retry's backoff, in milliseconds (default 5000). */
  bumpRetryMaxMs?: number;
  /** The clock, injectable for tests. */
  now?: () => Date;
}

/** What a read produced: JSON text from the cache, or a computed value (and its JSON). */
type Computed = { source: "compute"; value: unknown; json: string | undefined };
type Loaded = { source: "cache"; json: string } | Computed;

interface PendingBump {
  /** The newest write (by `#writeCount`) that still needs a bump to land. */
  newestWrite: number;
  attempts: number;
  timer?: ReturnType<typeof setTimeout>;
  running: boolean;
}

/**
 * Read-through caching of computed answers, per tenant and data version.
 *
 * Guarantees:
 * - Not stale. A read that starts after `bumpDataVersion(tenant)` landed, in any
 *   process sharing the cache, looks up the new token, so it can only get an entry
 *   stored under that token: one computed by a read that itself saw the new token,
 *   i.e. computed after the write committed. A version key that vanished (restart,
 *   eviction, FLUSH) is recreated with a fresh random token (SET NX semantics), so the
 *   entries of an older token are never reachable again.
 * - A failed bump (cache unreachable) never fails the write: this process retries it in
 *   the background, with backoff doubling up to `bumpRetryMaxMs`, until it lands (and at
 *   once when it sees the cache recover), and bypasses the cache for that tenant
 *   meanwhile. While the cache is down for everyone, every process bypasses it too.
 *   Residual window: only other processes, only while they reach the cache and this
 *   process's retry has not landed, can serve entries computed before the write. If
 *   this process regains the cache together with them, that is about `bumpRetryMaxMs`
 *   plus one operation timeout. If it stays cut off alone, or dies first, the window
 *   ends when those entries expire: at most `ttlSeconds` after each was stored (TTLs
 *   are kept by the cache server, so app clocks do not matter), plus the second for
 *   which the Redis adapter may reuse an entry's text it read (`localEntryMs`).
 * - Single flight: concurrent misses of one key (tenant, version, query) in this
 *   process run `compute` once and share its result; treat results as immutable.
 * - A cache failure never fails a read: it is counted, logged once per change of
 *   state, and the answer is computed from the database.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CachedReader, MemoryCache } from "@campaign-analytics/core/cache";
 *
 * const reader = new CachedReader({ cache: new MemoryCache(), ttlSeconds: 60 });
 * let computed = 0;
 * const totals = () => reader.read("acme", "totals", () => Promise.resolve(++computed));
 * assert.equal(await totals(), 1);
 * assert.equal(await totals(), 1); // a hit
 * await reader.bumpDataVersion("acme"); // a write committed
 * assert.equal(await totals(), 2); // never stale
 * await reader.close();
 * ```
 */
export class CachedReader {
  readonly #cache: Cache;
  readonly #ttlSeconds: number;
  readonly #enabled: boolean;
  readonly #logger: Logger;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #now: () => Date;
  readonly #flights = new Map<string, Promise<Loaded>>();
  readonly #pendingBumps = new Map<string, PendingBump>();
  #writeCount = 0;
  #closed = false;
  #healthy = true;
  #unhealthySince?: Date;
  #lastError?: string;
  #lastErrorAt?: Date;
  readonly #counters: CacheCounters = {
    hits: 0,
    misses: 0,
    errors: 0,
    bypasses: 0,
    bumpRetries: 0,
  };

  /** A reader over `options.cache`; entries live `ttlSeconds` (default 300). */
  constructor(options: CachedReaderOptions) {
    this.#cache = options.cache;
    this.#ttlSeconds = Math.max(1, Math.ceil(options.ttlSeconds ?? 300));
    this.#enabled = options.enabled ?? true;
    this.#logger = (options.logger ?? silentLogger).child({ component: "cache" });
    this.#retryInitialMs = options.bumpRetryInitialMs ?? 100;
    this.#retryMaxMs = options.bumpRetryMaxMs ?? 5_000;
    this.#now = options.now ?? (() => new Date());
  }

  /** The backend this reader uses. */
  get cache(): Cache {
    return this.#cache;
  }

  /** False when caching is switched off: every read computes. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The cached answer, or `compute`'s (stored for the next reader). */
  async read<T>(tenant: string, queryKey: string, compute: () => Promise<T>): Promise<T> {
    const loaded = await this.#load(tenant, queryKey, compute);
    if (loaded.source === "compute") return loaded.value as T;
    try {
      return JSON.parse(loaded.json) as T;
    } catch (error) {
      // Unreadable cached text is a cache failure like any other: answer from the database.
      this.#failed("decode", error);
      return (await this.#bypass(compute)).value as T;
    }
  }

  /**
   * Like `read`, but answers the JSON text itself: a hit is passed through without
   * being parsed, a miss is serialized exactly once (the same text is stored).
   */
  async readJson(
    tenant: string,
    queryKey: string,
    compute: () => Promise<unknown>,
  ): Promise<string> {
    const loaded = await this.#load(tenant, queryKey, compute);
    const json = loaded.json ?? JSON.stringify(loaded.source === "compute" ? loaded.value : null);
    if (json === undefined) throw new TypeError(`compute for ${queryKey} returned no JSON value`);
    return json;
  }

  /**
   * Call after every committed write of `tenant`'s data. Never rejects: when the cache
   * is unreachable the bump is retried in the background until it lands.
   */
  async bumpDataVersion(tenant: string): Promise<void> {
    const write = ++this.#writeCount;
    const pending = this.#pendingBumps.get(tenant);
    if (pending) pending.newestWrite = write;
    try {
      await this.#cache.bumpDataVersion(tenant);
      this.#succeeded();
      this.#settleBump(tenant, write);
    } catch (error) {
      this.#failed("bump", error);
      const state = this.#pendingBumps.get(tenant) ??
        { newestWrite: write, attempts: 0, running: false };
      state.newestWrite = Math.max(state.newestWrite, write);
      this.#pendingBumps.set(tenant, state);
      this.#scheduleBumpRetry(tenant, state);
    }
  }

  /** Pings the cache and updates the health state (for readiness probes); never rejects. */
  async probe(): Promise<CacheHealth> {
    try {
      await this.#cache.ping();
      this.#succeeded();
    } catch (error) {
      this.#failed("ping", error);
    }
    return this.health();
  }

  /** The last known health, without a round trip (see `probe`). */
  health(): CacheHealth {
    return {
      backend: this.#cache.backend,
      enabled: this.#enabled,
      healthy: this.#healthy,
      ...(this.#lastError === undefined ? {} : {
        lastError: this.#lastError,
        lastErrorAt: this.#lastErrorAt?.toISOString(),
      }),
      pendingBumps: this.#pendingBumps.size,
    };
  }

  /** A copy of the counters. */
  stats(): CacheCounters {
    return { ...this.#counters };
  }

  /** Stops background retries (after one last best-effort attempt each) and closes the cache. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = [...this.#pendingBumps.entries()];
    for (const [, state] of pending) clearTimeout(state.timer);
    await Promise.all(pending.map(([tenant]) => this.#attemptBump(tenant)));
    for (const [, state] of this.#pendingBumps) clearTimeout(state.timer);
    this.#pendingBumps.clear();
    await this.#cache.close();
  }

  async #load(tenant: string, queryKey: string, compute: () => Promise<unknown>): Promise<Loaded> {
    // A pending bump means this process wrote data the cache may not know about yet.
    if (!this.#enabled || this.#pendingBumps.has(tenant)) return this.#bypass(compute);
    let version: string;
    try {
      const found = await this.#cache.lookup(tenant, queryKey);
      this.#succeeded();
      if (found.value !== undefined) {
        this.#counters.hits++;
        return { source: "cache", json: found.value };
      }
      version = found.version;
    } catch (error) {
      this.#failed("lookup", error);
      return this.#bypass(compute);
    }
    this.#counters.misses++;
    // Keyed by version: a read that began after a bump never joins a pre-bump flight.
    const entryKey = cacheKeys.entry(tenant, version, queryKey);
    const inFlight = this.#flights.get(entryKey);
    if (inFlight) return inFlight;
    const flight = this.#computeAndStore(entryKey, compute).finally(() => {
      this.#flights.delete(entryKey);
    });
    this.#flights.set(entryKey, flight);
    return flight;
  }

  async #computeAndStore(entryKey: string, compute: () => Promise<unknown>): Promise<Loaded> {
    const value = await compute();
    const json = JSON.stringify(value);
    if (json !== undefined) {
      try {
        await this.#cache.set(entryKey, json, this.#ttlSeconds);
        this.#succeeded();
      } catch (error) {
        this.#failed("store", error);
      }
    }
    return { source: "compute", value, json };
  }

  /**
   * Computes without the cache. No single flight here: without a version we cannot
   * tell whether an in-flight computation started before another process's write.
   */
  async #bypass(compute: () => Promise<unknown>): Promise<Computed> {
    this.#counters.bypasses++;
    return { source: "compute", value: await compute(), json: undefined };
  }

  #scheduleBumpRetry(tenant: string, state: PendingBump): void {
    if (this.#closed || state.timer !== undefined || state.running) return;
    const ceiling = backoffCeiling(
      { baseDelayMs: this.#retryInitialMs, maxDelayMs: this.#retryMaxMs },
      state.attempts,
    );
    // "Equal jitter": at least half the ceiling, so a bump never retries at once.
    const delay = ceiling / 2 + Math.random() * ceiling / 2;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.#attemptBump(tenant);
    }, delay);
  }

  async #attemptBump(tenant: string): Promise<void> {
    const state = this.#pendingBumps.get(tenant);
    if (!state || state.running) return;
    state.running = true;
    state.attempts++;
    this.#counters.bumpRetries++;
    const write = state.newestWrite;
    try {
      await this.#cache.bumpDataVersion(tenant);
      state.running = false;
      this.#settleBump(tenant, write);
      this.#succeeded();
    } catch (error) {
      state.running = false;
      this.#failed("bump", error);
    }
    // Still pending: failed, or a newer write arrived while this attempt ran.
    if (this.#pendingBumps.get(tenant) === state) this.#scheduleBumpRetry(tenant, state);
  }

  /** A bump that began after write `write` landed: done unless a newer write is pending. */
  #settleBump(tenant: string, write: number): void {
    const state = this.#pendingBumps.get(tenant);
    if (!state || state.newestWrite > write) return;
    clearTimeout(state.timer);
    this.#pendingBumps.delete(tenant);
  }

  #succeeded(): void {
    if (this.#healthy) return;
    this.#healthy = true;
    const downForMs = this.#unhealthySince
      ? this.#now().getTime() - this.#unhealthySince.getTime()
      : undefined;
    this.#logger.info("cache recovered", { backend: this.#cache.backend, downForMs });
    // Land pending bumps now rather than at their next backoff: this shortens the window
    // in which other processes can still see pre-write entries.
    for (const [tenant, state] of this.#pendingBumps) {
      if (state.timer === undefined) continue;
      clearTimeout(state.timer);
      state.timer = undefined;
      void this.#attemptBump(tenant);
    }
  }

  #failed(operation: string, error: unknown): void {
    this.#counters.errors++;
    this.#lastError = error instanceof Error ? error.message : String(error);
    this.#lastErrorAt = this.#now();
    if (!this.#healthy) return;
    this.#healthy = false;
    this.#unhealthySince = this.#lastErrorAt;
    this.#logger.warn("cache unavailable, answering from the database", {
      backend: this.#cache.backend,
      operation,
      error: this.#lastError,
    });
  }
}

/** Publishes the reader's counters and health in a metrics registry (read at scrape time). */
export function registerCacheMetrics(registry: Registry, reader: CachedReader): void {
  const labels = { backend: reader.health().backend };
  const counters: [keyof CacheCounters, string, string][] = [
    ["hits", "cache_hits_total", "Answers served from the cache."],
    ["misses", "cache_misses_total", "Answers computed and stored."],
    ["errors", "cache_errors_total", "Failed cache operations."],
    [
      "bypasses",
      "cache_bypasses_total",
      "Answers computed without the cache (disabled, failing or bump pending).",
    ],
    ["bumpRetries", "cache_bump_retries_total", "Background retries of version bumps."],
  ];
  for (const [field, name, help] of counters) {
    registry.counter(name, help).collect(() => reader.stats()[field], labels);
  }
  registry.gauge("cache_healthy", "1 when the last cache operation succeeded.")
    .collect(() => (reader.health().healthy ? 1 : 0), labels);
  registry.gauge("cache_pending_bumps", "Tenants whose version bump has not landed.")
    .collect(() => reader.health().pendingBumps, labels);
}
