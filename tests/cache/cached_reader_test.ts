/**
 * CachedReader: freshness, single flight and outage behaviour through every backend
 * (memory; Redis and Upstash against the real Redis named by TEST_REDIS_URL), plus the
 * failure paths with fake caches: outages, frozen servers, NOSCRIPT, bump retries.
 */
import assert from "node:assert/strict";
import {
  type Cache,
  CachedReader,
  cacheKeys,
  registerCacheMetrics,
} from "../../lib/cache/cache.ts";
import { MemoryCache } from "../../lib/cache/memory.ts";
import {
  CacheReplyError,
  CacheTimeoutError,
  redisCache,
  RedisProtocolCache,
} from "../../lib/cache/redis.ts";
import { createUpstashClient, upstashCache } from "../../lib/cache/upstash.ts";
import { createLogger, silentLogger } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
import { createRedisClient } from "../../runtime/cache_wiring.ts";
import { type FakeUpstash, startFakeUpstash } from "../fakes/upstash_server.ts";
import { redisMissing, TEST_REDIS_URL, uniqueName } from "../support/databases.ts";
import { deleteRedisKeys } from "../support/redis.ts";

/** One backend under test, with the knobs to simulate a lost version key or a FLUSH. */
interface Backend {
  cache: Cache;
  /** A second handle on the same shared store, as another app replica would have. */
  replica(): Promise<Cache>;
  deleteVersionKey(tenant: string): Promise<void>;
  /** Loses every key of this run, as a Redis restart or FLUSHDB would. */
  flush(): Promise<void>;
  dispose(): Promise<void>;
}

/** A view of a cache whose close() does nothing (the owner closes the real one). */
function sharedView(cache: Cache): Cache {
  return {
    backend: cache.backend,
    get: (key) => cache.get(key),
    set: (key, value, ttlSeconds) => cache.set(key, value, ttlSeconds),
    dataVersion: (tenant) => cache.dataVersion(tenant),
    bumpDataVersion: (tenant) => cache.bumpDataVersion(tenant),
    lookup: (tenant, queryKey) => cache.lookup(tenant, queryKey),
    ping: () => cache.ping(),
    close: () => Promise.resolve(),
  };
}

async function redisBackend(
  kind: "redis" | "upstash",
): Promise<Backend> {
  // The key prefix is the namespace FLUSH clears here: the shared Redis has other users.
  const prefix = `${uniqueName("cachetest")}:`;
  const admin = createRedisClient(TEST_REDIS_URL!);
  assert.ok(await admin.waitUntilReady(5_000), "TEST_REDIS_URL is reachable");
  let fake: FakeUpstash | undefined;
  const opened: Cache[] = [];
  const open = async (): Promise<Cache> => {
    let cache: Cache;
    if (kind === "redis") {
      const connection = createRedisClient(TEST_REDIS_URL!);
      assert.ok(await connection.waitUntilReady(5_000));
      cache = redisCache(connection, { keyPrefix: prefix, timeoutMs: 2_000 });
    } else {
      fake ??= await startFakeUpstash({ redisUrl: TEST_REDIS_URL! });
      cache = upstashCache(createUpstashClient(fake.url, fake.token, 2_000), {
        keyPrefix: prefix,
        timeoutMs: 2_000,
      });
    }
    opened.push(cache);
    return cache;
  };
  const cache = await open();
  return {
    cache,
    replica: open,
    async deleteVersionKey(tenant) {
      await admin.sendCommand(["DEL", prefix + cacheKeys.version(tenant)]);
    },
    flush: () => deleteRedisKeys(prefix),
    async dispose() {
      for (const each of opened) await each.close();
      await fake?.close();
      await deleteRedisKeys(prefix);
      await admin.close();
    },
  };
}

const BACKENDS: { name: string; missing: boolean; open(): Promise<Backend> }[] = [
  {
    name: "memory",
    missing: false,
    open() {
      const cache = new MemoryCache();
      return Promise.resolve({
        cache,
        replica: () => Promise.resolve(sharedView(cache)),
        deleteVersionKey: (tenant) => cache.delete(cacheKeys.version(tenant)),
        flush: () => cache.close(),
        dispose: () => cache.close(),
      });
    },
  },
  { name: "redis", missing: redisMissing, open: () => redisBackend("redis") },
  { name: "upstash", missing: redisMissing, open: () => redisBackend("upstash") },
];

/** A data source whose answer changes when written, counting computations. */
function dataSource(initial: number) {
  const source = {
    value: initial,
    computes: 0,
    compute: () => {
      source.computes++;
      return Promise.resolve({ total: source.value });
    },
  };
  return source;
}

for (const backend of BACKENDS) {
  Deno.test({
    name: `CachedReader over ${backend.name}`,
    ignore: backend.missing,
    async fn(t) {
      const store = await backend.open();
      const reader = new CachedReader({ cache: sharedView(store.cache), ttlSeconds: 60 });
      try {
        await t.step("read → write + bump → read shows the new data", async () => {
          const data = dataSource(1);
          assert.deepEqual(await reader.read("acme", "totals", data.compute), { total: 1 });
          assert.deepEqual(await reader.read("acme", "totals", data.compute), { total: 1 });
          assert.equal(data.computes, 1, "the second read was a hit");
          data.value = 2;
          await reader.bumpDataVersion("acme");
          assert.deepEqual(await reader.read("acme", "totals", data.compute), { total: 2 });
          assert.equal(data.computes, 2);
        });

        await t.step("another replica sees a bump at once", async () => {
          const other = new CachedReader({ cache: await store.replica() });
          const data = dataSource(10);
          assert.deepEqual(await reader.read("acme", "replicas", data.compute), { total: 10 });
          assert.deepEqual(await other.read("acme", "replicas", data.compute), { total: 10 });
          assert.equal(data.computes, 1, "the replica hit the shared entry");
          data.value = 11;
          await reader.bumpDataVersion("acme");
          assert.deepEqual(await other.read("acme", "replicas", data.compute), { total: 11 });
          await other.close();
        });

        await t.step("a lost version key never brings back an old entry", async () => {
          const data = dataSource(1);
          await reader.read("acme", "lost", data.compute);
          data.value = 2; // as if written while the version key was gone
          await store.deleteVersionKey("acme");
          assert.deepEqual(await reader.read("acme", "lost", data.compute), { total: 2 });
        });

        await t.step("a FLUSH (all keys lost) never serves old data", async () => {
          const data = dataSource(1);
          await reader.read("acme", "flush", data.compute);
          const before = await store.cache.dataVersion("acme");
          data.value = 2;
          await store.flush();
          assert.deepEqual(await reader.read("acme", "flush", data.compute), { total: 2 });
          assert.notEqual(await store.cache.dataVersion("acme"), before);
        });

        await t.step("single flight: concurrent misses compute once, serialize once", async () => {
          let computes = 0;
          let serializations = 0;
          let release!: () => void;
          const gate = new Promise<void>((resolve) => release = resolve);
          const compute = async () => {
            computes++;
            await gate;
            return { total: 7, toJSON: () => (serializations++, { total: 7 }) };
          };
          const reads = Array.from({ length: 25 }, () => reader.read("acme", "flight", compute));
          await new Promise((resolve) => setTimeout(resolve, 50)); // all lookups done
          release();
          const results = await Promise.all(reads);
          assert.equal(computes, 1);
          assert.equal(serializations, 1);
          assert.ok(results.every((result) => result.total === 7));
          assert.deepEqual(await reader.read("acme", "flight", compute), { total: 7 });
          assert.equal(computes, 1, "stored for the next reader");
        });

        await t.step("a read that starts after a bump never joins a pre-bump flight", async () => {
          const data = dataSource(1);
          let release!: () => void;
          const gate = new Promise<void>((resolve) => release = resolve);
          const slow = async () => {
            const answer = await data.compute(); // reads the data before the write
            await gate;
            return answer;
          };
          const early = reader.read("acme", "join", slow);
          await new Promise((resolve) => setTimeout(resolve, 30));
          data.value = 2;
          await reader.bumpDataVersion("acme");
          const late = await reader.read("acme", "join", data.compute);
          release();
          assert.deepEqual(await early, { total: 1 });
          assert.deepEqual(late, { total: 2 });
          assert.deepEqual(await reader.read("acme", "join", data.compute), { total: 2 });
        });

        await t.step("readJson answers the stored text on miss and hit alike", async () => {
          const data = dataSource(3);
          const miss = await reader.readJson("acme", "json", data.compute);
          const hit = await reader.readJson("acme", "json", data.compute);
          assert.equal(miss, '{"total":3}');
          assert.equal(hit, miss);
          assert.equal(data.computes, 1);
        });

        await t.step("tenants are isolated", async () => {
          const a = dataSource(1);
          const b = dataSource(2);
          assert.deepEqual(await reader.read("tenant-a", "q", a.compute), { total: 1 });
          assert.deepEqual(await reader.read("tenant-b", "q", b.compute), { total: 2 });
          await reader.bumpDataVersion("tenant-a");
          assert.deepEqual(await reader.read("tenant-b", "q", b.compute), { total: 2 });
          assert.equal(b.computes, 1, "tenant-a's bump left tenant-b's entries alone");
        });

        await t.step("counters and health", () => {
          const stats = reader.stats();
          assert.ok(stats.hits > 0 && stats.misses > 0);
          assert.equal(stats.errors, 0);
          assert.equal(stats.bypasses, 0);
          assert.equal(reader.health().healthy, true);
          assert.equal(reader.health().backend, backend.name);
        });
      } finally {
        await reader.close();
        await store.dispose();
      }
    },
  });
}

/** Wraps a cache; each operation can be made to fail. */
class FlakyCache implements Cache {
  readonly backend = "memory" as const;
  failLookups = false;
  failBumps = false;
  failStores = false;
  calls = 0;
  constructor(readonly inner: Cache) {}
  #check(fail: boolean): void {
    this.calls++;
    if (fail) throw new Error("connect ECONNREFUSED 127.0.0.1:6379");
  }
  get(key: string) {
    this.#check(this.failLookups);
    return this.inner.get(key);
  }
  async set(key: string, value: string, ttlSeconds: number) {
    this.#check(this.failStores);
    await this.inner.set(key, value, ttlSeconds);
  }
  dataVersion(tenant: string) {
    this.#check(this.failLookups);
    return this.inner.dataVersion(tenant);
  }
  async bumpDataVersion(tenant: string) {
    await Promise.resolve();
    this.#check(this.failBumps);
    return this.inner.bumpDataVersion(tenant);
  }
  async lookup(tenant: string, queryKey: string) {
    await Promise.resolve();
    this.#check(this.failLookups);
    return this.inner.lookup(tenant, queryKey);
  }
  async ping() {
    await Promise.resolve();
    this.#check(this.failLookups);
  }
  close() {
    return this.inner.close();
  }
  set down(down: boolean) {
    this.failLookups = this.failBumps = this.failStores = down;
  }
}

async function waitFor(condition: () => boolean, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("CachedReader: an outage never fails a read, and is logged once per change", async () => {
  const lines: { level: string; msg: string }[] = [];
  const flaky = new FlakyCache(new MemoryCache());
  const reader = new CachedReader({
    cache: flaky,
    logger: createLogger({ write: (line) => lines.push(JSON.parse(line)) }),
    bumpRetryInitialMs: 5,
    bumpRetryMaxMs: 20,
  });
  try {
    const data = dataSource(1);
    await reader.read("acme", "q", data.compute);
    flaky.down = true;
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(await reader.read("acme", "q", data.compute), { total: 1 });
    }
    assert.equal(reader.health().healthy, false);
    assert.match(reader.health().lastError ?? "", /ECONNREFUSED/);
    assert.ok(reader.health().lastErrorAt);
    assert.deepEqual(reader.stats(), {
      hits: 0,
      misses: 1,
      errors: 10,
      bypasses: 10,
      bumpRetries: 0,
    });
    flaky.down = false;
    assert.equal((await reader.probe()).healthy, true);
    await reader.read("acme", "q", data.compute);
    assert.equal(reader.stats().hits, 1);
    assert.deepEqual(lines.map((line) => [line.level, line.msg]), [
      ["warn", "cache unavailable, answering from the database"],
      ["info", "cache recovered"],
    ]);
    const registry = new Registry();
    registerCacheMetrics(registry, reader);
    const text = registry.render();
    assert.match(text, /^cache_hits_total\{backend="memory"\} 1$/m);
    assert.match(text, /^cache_errors_total\{backend="memory"\} 10$/m);
    assert.match(text, /^cache_bypasses_total\{backend="memory"\} 10$/m);
    assert.match(text, /^cache_healthy\{backend="memory"\} 1$/m);
    assert.match(text, /^# TYPE cache_misses_total counter$/m);
  } finally {
    await reader.close();
  }
});

Deno.test("CachedReader: a failed bump is retried in the background until it lands", async () => {
  const shared = new FlakyCache(new MemoryCache());
  const writer = new CachedReader({
    cache: shared,
    bumpRetryInitialMs: 5,
    bumpRetryMaxMs: 20,
  });
  const otherReplica = new CachedReader({ cache: sharedView(shared) });
  try {
    const data = dataSource(1);
    assert.deepEqual(await writer.read("acme", "q", data.compute), { total: 1 });

    // A partition: the cache keeps its data but cannot be reached.
    shared.down = true;
    data.value = 2;
    await writer.bumpDataVersion("acme"); // resolves: never throws at the caller
    assert.equal(writer.health().pendingBumps, 1);
    assert.deepEqual(await writer.read("acme", "q", data.compute), { total: 2 });
    assert.deepEqual(await otherReplica.read("acme", "q", data.compute), { total: 2 });

    // Reads recover before bumps do: the writer still bypasses its own pending tenant.
    shared.failLookups = false;
    shared.failStores = false;
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await writer.read("acme", "q", data.compute), { total: 2 });
    }
    assert.ok(writer.stats().bypasses >= 6);
    await waitFor(() => writer.stats().bumpRetries >= 2);
    assert.equal(writer.health().pendingBumps, 1, "still failing: still pending");

    shared.failBumps = false;
    await waitFor(() => writer.health().pendingBumps === 0);
    assert.deepEqual(await otherReplica.read("acme", "q", data.compute), { total: 2 });
    assert.deepEqual(await writer.read("acme", "q", data.compute), { total: 2 });
    assert.equal(writer.health().healthy, true);
  } finally {
    await otherReplica.close();
    await writer.close();
  }
});

Deno.test("CachedReader: a retry that began before a newer write does not settle it", async () => {
  // Every bump waits for the test to settle it, so the interleaving is exact.
  const bumps: { resolve: (token: string) => void; reject: (error: Error) => void }[] = [];
  const cache: Cache = {
    ...sharedView(new MemoryCache()),
    bumpDataVersion: () => new Promise((resolve, reject) => bumps.push({ resolve, reject })),
  };
  const reader = new CachedReader({ cache, bumpRetryInitialMs: 1, bumpRetryMaxMs: 2 });
  const down = new Error("down");
  try {
    const firstWrite = reader.bumpDataVersion("acme");
    bumps[0].reject(down);
    await firstWrite;
    await waitFor(() => bumps.length === 2); // the background retry for write 1 is in flight
    const secondWrite = reader.bumpDataVersion("acme");
    bumps[2].reject(down);
    await secondWrite;
    bumps[1].resolve("landed-for-write-1");
    await waitFor(() => bumps.length === 4); // write 2 still needs a bump: retried again
    assert.equal(reader.health().pendingBumps, 1);
    bumps[3].resolve("landed-for-write-2");
    await waitFor(() => reader.health().pendingBumps === 0);
    assert.equal(reader.stats().bumpRetries, 2);
  } finally {
    await reader.close();
  }
});

Deno.test("CachedReader: repeated failed bumps keep one pending state per tenant", async () => {
  const shared = new FlakyCache(new MemoryCache());
  const reader = new CachedReader({ cache: shared, bumpRetryInitialMs: 5, bumpRetryMaxMs: 10 });
  try {
    shared.failBumps = true;
    await reader.bumpDataVersion("acme");
    await reader.bumpDataVersion("acme");
    assert.equal(reader.health().pendingBumps, 1);
    shared.failBumps = false;
    await reader.bumpDataVersion("acme"); // began after the newest write: settles it
    assert.equal(reader.health().pendingBumps, 0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(reader.health().pendingBumps, 0, "no retry timer left behind");
  } finally {
    await reader.close();
  }
});

Deno.test("CachedReader: close() makes one last attempt at pending bumps", async () => {
  const shared = new FlakyCache(new MemoryCache());
  const reader = new CachedReader({ cache: shared, bumpRetryInitialMs: 60_000 });
  shared.failBumps = true;
  await reader.bumpDataVersion("acme");
  const before = await shared.inner.dataVersion("acme");
  shared.failBumps = false;
  const inner = shared.inner as MemoryCache;
  let versionAtClose = "";
  shared.close = async () => {
    versionAtClose = await inner.dataVersion("acme");
    await inner.close();
  };
  await reader.close();
  assert.notEqual(versionAtClose, before);
});

Deno.test("CachedReader: caching disabled computes every time and touches no cache", async () => {
  const flaky = new FlakyCache(new MemoryCache());
  const reader = new CachedReader({ cache: flaky, enabled: false });
  const data = dataSource(1);
  await reader.read("acme", "q", data.compute);
  assert.equal(await reader.readJson("acme", "q", data.compute), '{"total":1}');
  assert.equal(data.computes, 2);
  assert.equal(flaky.calls, 0);
  assert.deepEqual(reader.stats(), { hits: 0, misses: 0, errors: 0, bypasses: 2, bumpRetries: 0 });
  assert.equal(reader.health().enabled, false);
  await reader.close();
});

Deno.test("CachedReader: compute errors reach every joiner and are not cached", async () => {
  const reader = new CachedReader({ cache: new MemoryCache() });
  let calls = 0;
  const failing = async () => {
    calls++;
    await new Promise((resolve) => setTimeout(resolve, 10));
    throw new Error("database down");
  };
  const reads = [1, 2, 3].map(() => reader.read("acme", "q", failing));
  for (const read of reads) await assert.rejects(read, /database down/);
  assert.equal(calls, 1);
  assert.deepEqual(await reader.read("acme", "q", () => Promise.resolve("ok")), "ok");
  await reader.close();
});

Deno.test("CachedReader: unreadable cached text is treated as a cache failure", async () => {
  const cache = new MemoryCache();
  const reader = new CachedReader({ cache });
  const { version } = await cache.lookup("acme", "q");
  await cache.set(cacheKeys.entry("acme", version, "q"), "{not json", 60);
  assert.deepEqual(await reader.read("acme", "q", () => Promise.resolve({ ok: true })), {
    ok: true,
  });
  assert.equal(reader.stats().errors, 1);
  await reader.close();
});

Deno.test("RedisProtocolCache: NOSCRIPT falls back to EVAL; replies are validated", async () => {
  const sent: string[][] = [];
  let scriptLoaded = false;
  const send = (args: string[]): Promise<unknown> => {
    sent.push(args);
    if (args[0] === "EVALSHA" && !scriptLoaded) {
      return Promise.reject(new Error("NOSCRIPT No matching script. Please use EVAL."));
    }
    if (args[0] === "EVAL") scriptLoaded = true;
    if (args[0] === "EVAL" || args[0] === "EVALSHA") return Promise.resolve(["tok", "cached"]);
    if (args[0] === "GET") return Promise.resolve(42); // not a string: a protocol surprise
    return Promise.resolve("OK");
  };
  const cache = new RedisProtocolCache("redis", send, () => Promise.resolve());
  assert.deepEqual(await cache.lookup("acme", "q"), { version: "tok", value: "cached" });
  assert.deepEqual(sent.map((args) => args[0]), ["EVALSHA", "EVAL"]);
  assert.equal(sent[0][1], sent[0][1].match(/^[0-9a-f]{40}$/)?.[0], "EVALSHA sends a SHA1");
  assert.deepEqual(sent[1].slice(2, 4), ["1", "ca:v:{acme}"]);
  // Entry prefix, a fresh token, then the query and the version of its local copy (none).
  assert.equal(sent[1][4], "ca:e:{acme}:");
  assert.deepEqual(sent[1].slice(6), [":q", ""]);
  sent.length = 0;
  await cache.lookup("acme", "q");
  assert.deepEqual(sent.map((args) => args[0]), ["EVALSHA"], "one round trip once loaded");
  await assert.rejects(cache.get("k"), CacheReplyError);
});

Deno.test("RedisProtocolCache: lookups coalesce only into a read sent after they arrived", async () => {
  // A transport whose replies the test releases one by one.
  const sent: { args: string[]; answer: (reply: unknown) => void; fail: (e: Error) => void }[] = [];
  const send = (args: string[]) =>
    new Promise<unknown>((answer, fail) => sent.push({ args, answer, fail }));
  const cache = new RedisProtocolCache("redis", send, () => Promise.resolve(), {
    localEntryMs: 0,
  });
  const queriesOf = (args: string[]) => args.slice(6).filter((_, i) => i % 2 === 0);
  // Lets pending promise callbacks run (the script's SHA is computed asynchronously once).
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  // Nothing in flight: the first lookup is sent at once.
  const first = cache.lookup("acme", "q1");
  await settle();
  assert.equal(sent.length, 1);
  assert.deepEqual(queriesOf(sent[0].args), [":q1"]);
  // These arrive while it is in flight: none may use it (a write may have landed since it
  // was sent). They wait together; another tenant is not held up.
  const late = [cache.lookup("acme", "q1"), cache.lookup("acme", "q2"), cache.lookup("acme", "q1")];
  const other = cache.lookup("other", "q1");
  await settle();
  assert.equal(sent.length, 2, "acme's second read waits; other's is sent");
  assert.equal(sent[1].args[3], "ca:v:{other}");
  sent[1].answer(["o1", null]);
  assert.deepEqual(await other, { version: "o1", value: undefined });
  sent[0].answer(["v1", "one"]);
  assert.deepEqual(await first, { version: "v1", value: "one" });
  // Sent once the first answered: one read for all three, each query key once.
  await settle();
  assert.equal(sent.length, 3);
  assert.equal(sent[2].args[3], "ca:v:{acme}");
  assert.deepEqual(queriesOf(sent[2].args), [":q1", ":q2"]);
  sent[2].answer(["v2", "one-v2", null]);
  assert.deepEqual(await Promise.all(late), [
    { version: "v2", value: "one-v2" },
    { version: "v2", value: undefined },
    { version: "v2", value: "one-v2" },
  ]);
  // Idle again: the next lookup is sent at once; a failed read fails all who shared it.
  const again = cache.lookup("acme", "q1");
  const sharing = cache.lookup("acme", "q3");
  await settle();
  assert.equal(sent.length, 4);
  sent[3].answer(["v2", 1]); // "yours is current", but this process holds no copy
  await assert.rejects(again, CacheReplyError);
  await settle();
  assert.equal(sent.length, 5);
  sent[4].fail(new Error("connection lost"));
  await assert.rejects(sharing, /connection lost/);
  const after = cache.lookup("acme", "q1");
  await settle();
  assert.equal(sent.length, 6, "nothing left in flight after a failure");
  sent[5].answer(["v3", null]);
  assert.deepEqual(await after, { version: "v3", value: undefined });
});

Deno.test("RedisProtocolCache: a frozen server costs at most the deadline", async () => {
  const never = () => new Promise<unknown>(() => {});
  const cache = new RedisProtocolCache("redis", never, () => Promise.resolve(), { timeoutMs: 30 });
  await assert.rejects(cache.ping(), CacheTimeoutError);
  const reader = new CachedReader({ cache, logger: silentLogger });
  assert.deepEqual(await reader.read("acme", "q", () => Promise.resolve(1)), 1);
  assert.match(reader.health().lastError ?? "", /timed out after 30 ms/);
  await reader.close();
});

Deno.test("tenant ids cannot break out of their keys", () => {
  assert.equal(cacheKeys.version("a}:{b"), "v:{a%7D%3A%7Bb}");
  assert.equal(cacheKeys.entry("a:b", "tok", "q:1"), "e:{a%3Ab}:tok:q:1");
});
