/**
 * The embedded cache: an LRU with per-entry TTL, bounded by entry count and by an
 * approximate byte size. It is the default when no Redis is configured, and is right
 * only for a single process: versions bumped here are invisible to other replicas.
 */
import { type Cache, cacheKeys, newVersionToken, type VersionedLookup } from "./cache.ts";

/** Bounds and clock of a `MemoryCache`. */
export interface MemoryCacheOptions {
  /** Most entries kept (version tokens count too). */
  maxEntries?: number;
  /** Approximate bytes kept: UTF-16 size of keys and values plus a fixed overhead each. */
  maxBytes?: number;
  /** Milliseconds clock, injectable for tests. */
  now?: () => number;
}

interface Entry {
  value: string;
  /** Milliseconds on `now`'s clock; Infinity for entries without a TTL (version tokens). */
  expiresAt: number;
  bytes: number;
}

/** Rough per-entry cost of the Map slot and the entry object, in bytes. */
const ENTRY_OVERHEAD_BYTES = 64;

/**
 * An in-process LRU cache with per-entry TTLs, bounded by entry count and approximate
 * bytes. Right for one process only: a version bumped here is invisible to other replicas.
 *
 * @example Cache an answer and invalidate it with a version bump
 * ```ts
 * import assert from "node:assert/strict";
 * import { CachedReader, MemoryCache } from "@campaign-analytics/core/cache";
 *
 * const cache = new MemoryCache({ maxEntries: 1000 });
 * const reader = new CachedReader({ cache });
 * assert.equal(await reader.read("acme", "q", () => Promise.resolve(1)), 1);
 * assert.equal(await reader.read("acme", "q", () => Promise.resolve(2)), 1); // cached
 * await reader.bumpDataVersion("acme");
 * assert.equal(await reader.read("acme", "q", () => Promise.resolve(3)), 3);
 * ```
 */
export class MemoryCache implements Cache {
  /** Always `"memory"`. */
  readonly backend = "memory" as const;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  /** Map iteration order is insertion order: the first key is the least recently used. */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #evictions = 0;

  /** An empty cache holding at most 10,000 entries and 64 MiB unless told otherwise. */
  constructor(options: MemoryCacheOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.#maxBytes = Math.max(1, options.maxBytes ?? 64 * 1024 * 1024);
    this.#now = options.now ?? (() => Date.now());
  }

  /** Entries currently held (expired ones are dropped lazily). */
  get size(): number {
    return this.#entries.size;
  }

  /** Approximate bytes currently held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries dropped to stay within the bounds. */
  get evictions(): number {
    return this.#evictions;
  }

  /** The live entry under `key`, or undefined. */
  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.#read(key));
  }

  /**
   * Stores `value` for `ttlSeconds` (at least one), evicting the least recently used
   * entries beyond the bounds.
   */
  set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.#write(key, value, this.#now() + Math.max(1, ttlSeconds) * 1000);
    return Promise.resolve();
  }

  /** The tenant's version token, created when missing. */
  dataVersion(tenant: string): Promise<string> {
    return Promise.resolve(this.#versionOf(tenant));
  }

  /** Replaces the tenant's version token with a fresh one and returns it. */
  bumpDataVersion(tenant: string): Promise<string> {
    const token = newVersionToken();
    this.#write(cacheKeys.version(tenant), token, Infinity);
    return Promise.resolve(token);
  }

  /** The tenant's version and the entry for `queryKey` under it. */
  lookup(tenant: string, queryKey: string): Promise<VersionedLookup> {
    const version = this.#versionOf(tenant);
    const value = this.#read(cacheKeys.entry(tenant, version, queryKey));
    return Promise.resolve({ version, value });
  }

  /** Drops one key (tests use it to simulate an evicted version key). */
  delete(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
    }
    return Promise.resolve();
  }

  /** Always resolves: memory is always there. */
  ping(): Promise<void> {
    return Promise.resolve();
  }

  /** Drops every entry. */
  close(): Promise<void> {
    this.#entries.clear();
    this.#bytes = 0;
    return Promise.resolve();
  }

  /** Like SET NX: an evicted version is replaced by a fresh token, never by an old one. */
  #versionOf(tenant: string): string {
    const key = cacheKeys.version(tenant);
    const existing = this.#read(key);
    if (existing !== undefined) return existing;
    const token = newVersionToken();
    this.#write(key, token, Infinity);
    return token;
  }

  #read(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#now()) {
      this.#bytes -= entry.bytes;
      return undefined;
    }
    this.#entries.set(key, entry); // most recently used now
    return entry.value;
  }

  #write(key: string, value: string, expiresAt: number): void {
    const previous = this.#entries.get(key);
    if (previous) {
      this.#entries.delete(key);
      this.#bytes -= previous.bytes;
    }
    const bytes = (key.length + value.length) * 2 + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.#maxBytes) return; // could never fit: keep the rest instead
    this.#entries.set(key, { value, expiresAt, bytes });
    this.#bytes += bytes;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const [oldestKey, oldest] = this.#entries.entries().next().value!;
      this.#entries.delete(oldestKey);
      this.#bytes -= oldest.bytes;
      this.#evictions++;
    }
  }
}
