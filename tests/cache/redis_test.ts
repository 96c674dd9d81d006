/**
 * The Redis (TCP) adapter against a real Redis (TEST_REDIS_URL), a Redis server this
 * test starts and restarts itself (reconnection, NOSCRIPT), and an unreachable one.
 * Keys carry a unique prefix per run and are deleted afterwards.
 */
import assert from "node:assert/strict";
import { CachedReader, cacheKeys } from "../../lib/cache/cache.ts";
import { MemoryCache } from "../../lib/cache/memory.ts";
import { redisCache, type RedisCommandClient } from "../../lib/cache/redis.ts";
import { ConfigError } from "../../lib/config.ts";
import { createLogger, silentLogger } from "../../lib/log.ts";
import { cacheSettingsFromEnv, redisClientFor } from "../../lib/cache/settings.ts";
import { createCache, createCachedReader, createRedisClient } from "../../runtime/cache_wiring.ts";
import { IN_CI, redisMissing, TEST_REDIS_URL, uniqueName } from "../support/databases.ts";
import {
  deleteKeysWith,
  freePort,
  redisServerInstalled,
  startRedisServer,
  stopRedisServer,
} from "../support/redis.ts";

/** Wraps a client and records every command sent (to count round trips). */
function recording(client: RedisCommandClient) {
  const sent: string[][] = [];
  const replies: unknown[] = [];
  return {
    sent,
    replies,
    client: {
      sendCommand: async (args: string[]) => {
        sent.push(args);
        const reply = await client.sendCommand(args);
        replies.push(reply);
        return reply;
      },
      close: () => client.close(),
    } satisfies RedisCommandClient,
  };
}

Deno.test({
  name: "Redis adapter against a real Redis",
  ignore: redisMissing,
  async fn(t) {
    const prefix = `${uniqueName("cachetest")}:`;
    const connection = createRedisClient(TEST_REDIS_URL!);
    assert.ok(await connection.waitUntilReady(5_000), "TEST_REDIS_URL is reachable");
    const { client, sent, replies } = recording(connection);
    const cache = redisCache(client, { keyPrefix: prefix, timeoutMs: 2_000 });
    try {
      await t.step("set stores under the prefix with a TTL; get reads it back", async () => {
        await cache.set("plain", "value", 60);
        assert.equal(await cache.get("plain"), "value");
        assert.equal(await cache.get("absent"), undefined);
        const ttl = await connection.sendCommand(["TTL", `${prefix}plain`]) as number;
        assert.ok(ttl > 0 && ttl <= 60, `TTL ${ttl}`);
      });

      await t.step("a hit is one round trip: one EVALSHA returns version and entry", async () => {
        const first = await cache.lookup("acme", "totals");
        assert.equal(first.value, undefined);
        await cache.set(cacheKeys.entry("acme", first.version, "totals"), '{"n":1}', 60);
        await cache.lookup("acme", "totals"); // loads the script if this Redis lacked it
        sent.length = 0;
        const hit = await cache.lookup("acme", "totals");
        assert.deepEqual(hit, { version: first.version, value: '{"n":1}' });
        assert.equal(sent.length, 1);
        assert.equal(sent[0][0], "EVALSHA");
      });

      await t.step(
        "an entry already read is not sent again while its version holds; a bump is seen",
        async () => {
          // Another process (replica) sharing the Redis.
          const other = redisCache(connection, { keyPrefix: prefix });
          const { version } = await cache.lookup("acme", "local");
          await cache.set(cacheKeys.entry("acme", version, "local"), "one", 60);
          assert.deepEqual(await cache.lookup("acme", "local"), { version, value: "one" });
          replies.length = 0;
          assert.deepEqual(await cache.lookup("acme", "local"), { version, value: "one" });
          assert.deepEqual(replies, [[version, 1]], "only the version came back");
          // A write on the other replica: bump, then its recomputed entry.
          const bumped = await other.bumpDataVersion("acme");
          replies.length = 0;
          assert.deepEqual(await cache.lookup("acme", "local"), {
            version: bumped,
            value: undefined,
          });
          await other.set(cacheKeys.entry("acme", bumped, "local"), "two", 60);
          assert.deepEqual(await cache.lookup("acme", "local"), { version: bumped, value: "two" });
          assert.deepEqual(replies, [[bumped, null], [bumped, "two"]]);
          // Switched off: every hit carries the entry.
          const { client: plain, replies: plainReplies } = recording(connection);
          const noLocal = redisCache(plain, { keyPrefix: prefix, localEntryMs: 0 });
          await noLocal.lookup("acme", "local");
          await noLocal.lookup("acme", "local");
          assert.deepEqual(plainReplies.slice(-2), [[bumped, "two"], [bumped, "two"]]);
        },
      );

      await t.step(
        "dataVersion agrees with lookup; a bump replaces it with a random token",
        async () => {
          const version = await cache.dataVersion("acme");
          assert.equal(version, (await cache.lookup("acme", "totals")).version);
          const bumped = await cache.bumpDataVersion("acme");
          assert.notEqual(bumped, version);
          assert.equal(await cache.dataVersion("acme"), bumped);
          const after = await cache.lookup("acme", "totals");
          assert.equal(after.version, bumped);
          assert.equal(after.value, undefined, "the entry of the old version is unreachable");
        },
      );

      await t.step(
        "a deleted version key is recreated fresh: old entries stay unreachable",
        async () => {
          const { version } = await cache.lookup("acme", "q");
          await cache.set(cacheKeys.entry("acme", version, "q"), "old", 60);
          await connection.sendCommand(["DEL", prefix + cacheKeys.version("acme")]);
          const after = await cache.lookup("acme", "q");
          assert.notEqual(after.version, version);
          assert.equal(after.value, undefined);
          assert.equal(
            await cache.get(cacheKeys.entry("acme", version, "q")),
            "old",
            "the old entry still exists, yet is never served",
          );
        },
      );

      await t.step("tenants never share versions or entries", async () => {
        const a = await cache.lookup("tenant:a", "q");
        await cache.set(cacheKeys.entry("tenant:a", a.version, "q"), "a", 60);
        const b = await cache.lookup("tenant:b", "q");
        assert.notEqual(a.version, b.version);
        assert.equal(b.value, undefined);
      });

      await t.step("ping answers", async () => {
        await cache.ping();
      });
    } finally {
      await deleteKeysWith(connection, prefix);
      await cache.close();
    }
  },
});

Deno.test("Redis adapter: an unreachable Redis fails fast and the reader computes", async () => {
  const connection = createRedisClient("redis://127.0.0.1:1", { connectTimeoutMs: 200 });
  const reader = new CachedReader({ cache: redisCache(connection), logger: silentLogger });
  try {
    let data = 1;
    const compute = () => Promise.resolve({ n: data });
    assert.deepEqual(await reader.read("acme", "q", compute), { n: 1 });
    data = 2;
    assert.deepEqual(await reader.read("acme", "q", compute), { n: 2 });
    const health = reader.health();
    assert.equal(health.healthy, false);
    assert.ok(health.lastError);
    const stats = reader.stats();
    assert.equal(stats.bypasses, 2);
    assert.equal(stats.hits + stats.misses, 0);
    assert.ok(stats.errors >= 2);
  } finally {
    await reader.close();
  }
});

const redisServerMissing = !redisServerInstalled && !IN_CI;

Deno.test({
  name: "Redis adapter survives a Redis restart: reconnects, reloads its script, never stale",
  // Needs a redis-server binary of its own; in CI the machine has one, so it must run.
  ignore: redisServerMissing,
  async fn() {
    const port = freePort();
    let server = await startRedisServer(port);
    const connection = createRedisClient(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 500 });
    const { client, sent } = recording(connection);
    const lines: string[] = [];
    const reader = new CachedReader({
      cache: redisCache(client, { timeoutMs: 500 }),
      logger: createLogger({ write: (line) => lines.push(line) }),
      bumpRetryInitialMs: 20,
      bumpRetryMaxMs: 100,
    });
    let data = "before";
    const compute = () => Promise.resolve({ data });
    try {
      assert.ok(await connection.waitUntilReady(5_000));
      assert.deepEqual(await reader.read("acme", "q", compute), { data: "before" });
      assert.deepEqual(
        sent.map((args) => args[0]),
        ["EVALSHA", "EVAL", "SET"],
        "a fresh server answers NOSCRIPT once; EVAL loads the script",
      );
      sent.length = 0;
      assert.deepEqual(await reader.read("acme", "q", compute), { data: "before" });
      assert.deepEqual(sent.map((args) => args[0]), ["EVALSHA"], "a hit is one round trip");

      await stopRedisServer(server);
      data = "during";
      await reader.bumpDataVersion("acme"); // fails: retried in the background
      assert.deepEqual(await reader.read("acme", "q", compute), { data: "during" });
      assert.equal(reader.health().healthy, false);
      assert.equal(reader.health().pendingBumps, 1);

      server = await startRedisServer(port);
      data = "after";
      for (let i = 0; i < 100 && !(await reader.probe()).healthy; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(reader.health().healthy, true, "the client reconnected by itself");
      for (let i = 0; i < 100 && reader.health().pendingBumps > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(reader.health().pendingBumps, 0, "the pending bump landed after recovery");
      assert.deepEqual(await reader.read("acme", "q", compute), { data: "after" });
      assert.deepEqual(await reader.read("acme", "q", compute), { data: "after" });
      const stats = reader.stats();
      assert.equal(stats.hits, 2);
      assert.ok(stats.bypasses >= 1);
      const states = lines.map((line) => JSON.parse(line).msg);
      assert.deepEqual(
        states,
        ["cache unavailable, answering from the database", "cache recovered"],
        "logged once per change of state",
      );
    } finally {
      await reader.close();
      await stopRedisServer(server);
    }
  },
});

Deno.test("cache settings from the environment", async (t) => {
  await t.step("defaults: memory, 300 s, enabled", async () => {
    const settings = cacheSettingsFromEnv({});
    assert.equal(settings.CACHE_TTL_SECONDS, 300);
    assert.equal(settings.CACHE_DISABLED, false);
    const cache = await createCache(cacheSettingsFromEnv({}), silentLogger);
    assert.ok(cache instanceof MemoryCache);
    await cache.close();
  });

  await t.step("the Redis client: native for redis://, node-redis for rediss://", () => {
    const client = (env: Record<string, string>) => redisClientFor(cacheSettingsFromEnv(env));
    assert.equal(client({ REDIS_URL: "redis://h:6379" }), "native");
    assert.equal(client({ REDIS_URL: "rediss://h:6380" }), "node-redis");
    assert.equal(client({ REDIS_URL: "redis://h", REDIS_CLIENT: "node-redis" }), "node-redis");
    assert.equal(client({ REDIS_URL: "rediss://h", REDIS_CLIENT: "native" }), "native");
    assert.throws(() => cacheSettingsFromEnv({ REDIS_CLIENT: "ioredis" }), /REDIS_CLIENT/);
  });

  await t.step("CACHE_DISABLED gives a reader that always computes", async () => {
    const reader = await createCachedReader(
      cacheSettingsFromEnv({ CACHE_DISABLED: "true" }),
      silentLogger,
    );
    let computed = 0;
    const compute = () => Promise.resolve(++computed);
    await reader.read("acme", "q", compute);
    await reader.read("acme", "q", compute);
    assert.equal(computed, 2);
    assert.equal(reader.stats().bypasses, 2);
    assert.equal(reader.enabled, false);
    await reader.close();
  });

  await t.step("bad values throw an error naming the variable", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ CACHE_TTL_SECONDS: "soon" }, /CACHE_TTL_SECONDS/],
      [{ CACHE_TTL_SECONDS: "0" }, /CACHE_TTL_SECONDS/],
      [{ CACHE_MAX_ENTRIES: "-5" }, /CACHE_MAX_ENTRIES/],
      [{ REDIS_URL: "http://localhost:6379" }, /REDIS_URL/],
      [{ REDIS_URL: "not a url" }, /REDIS_URL/],
      [{ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" }, /UPSTASH_REDIS_REST_TOKEN/],
      [{ UPSTASH_REDIS_REST_TOKEN: "t" }, /UPSTASH_REDIS_REST_URL/],
      [{ CACHE_DISABLED: "maybe" }, /CACHE_DISABLED/],
      [{
        REDIS_URL: "redis://localhost:6379",
        UPSTASH_REDIS_REST_URL: "https://x.upstash.io",
        UPSTASH_REDIS_REST_TOKEN: "t",
      }, /REDIS_URL/],
    ];
    for (const [env, name] of cases) {
      assert.throws(() => cacheSettingsFromEnv(env), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, name);
        return true;
      }, JSON.stringify(env));
    }
  });

  await t.step({
    name: "REDIS_URL gives a working Redis cache",
    ignore: redisMissing,
    fn: async () => {
      const prefix = `${uniqueName("cachetest")}:`;
      const reader = await createCachedReader(
        cacheSettingsFromEnv(
          { REDIS_URL: TEST_REDIS_URL, CACHE_KEY_PREFIX: prefix, CACHE_TTL_SECONDS: "30" },
        ),
        silentLogger,
      );
      const cleanup = createRedisClient(TEST_REDIS_URL!);
      try {
        assert.equal(reader.cache.backend, "redis");
        let computed = 0;
        const compute = () => Promise.resolve({ computed: ++computed });
        assert.deepEqual(await reader.read("acme", "q", compute), { computed: 1 });
        assert.deepEqual(await reader.read("acme", "q", compute), { computed: 1 });
        assert.equal(reader.stats().hits, 1);
      } finally {
        await cleanup.waitUntilReady(5_000);
        await deleteKeysWith(cleanup, prefix);
        await cleanup.close();
        await reader.close();
      }
    },
  });
});
