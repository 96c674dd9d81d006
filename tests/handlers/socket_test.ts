/**
 * The API over a real socket with every cache adapter: never stale (read → push →
 * read shows the new numbers), and a cache outage still answers 200 from the database.
 */
import assert from "node:assert/strict";
import { auth, KEY_A, metricRow, testApp } from "../support/test_app.ts";
import { redisMissing, TEST_REDIS_URL, uniqueName } from "../support/databases.ts";
import { cacheSettingsFromEnv } from "../../lib/cache/settings.ts";
import { createCachedReader } from "../../runtime/cache_wiring.ts";
import { startFakeUpstash } from "../fakes/upstash_server.ts";
import { deleteRedisKeys } from "../support/redis.ts";
import { ingestHttp } from "../../handlers/ingest.ts";
import { Processor } from "../../ingest/processor.ts";
import { IngestJournal } from "../../lib/store/ingest_journal.ts";
import { silentLogger } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
import type { CachedReader } from "../../lib/cache/cache.ts";
import type { Env } from "../../lib/config.ts";

interface Backend {
  name: string;
  missing: boolean;
  env: () => Promise<{ env: Env; close: () => Promise<void> }>;
}

const newPrefix = () => `${uniqueName("sock")}:`;

const BACKENDS: Backend[] = [
  {
    name: "memory",
    missing: false,
    env: () => Promise.resolve({ env: {}, close: async () => {} }),
  },
  {
    name: "redis",
    missing: redisMissing,
    env: () => {
      const prefix = newPrefix();
      return Promise.resolve({
        // A generous deadline: this test is about staleness, and on a busy machine the
        // default 250 ms turns a slow hit into a bypass.
        env: { REDIS_URL: TEST_REDIS_URL, CACHE_KEY_PREFIX: prefix, CACHE_TIMEOUT_MS: "3000" },
        close: () => deleteRedisKeys(prefix),
      });
    },
  },
  {
    name: "upstash",
    missing: redisMissing,
    env: async () => {
      const upstash = await startFakeUpstash({ redisUrl: TEST_REDIS_URL! });
      const prefix = newPrefix();
      return {
        env: {
          UPSTASH_REDIS_REST_URL: upstash.url,
          UPSTASH_REDIS_REST_TOKEN: upstash.token,
          CACHE_KEY_PREFIX: prefix,
          CACHE_TIMEOUT_MS: "3000",
        },
        close: async () => {
          await upstash.close();
          await deleteRedisKeys(prefix);
        },
      };
    },
  },
];

async function serveWith(reader: CachedReader) {
  const harness = await testApp({ cache: reader });
  const journal = new IngestJournal(harness.db.driver);
  const processor = new Processor({
    store: harness.store,
    journal,
    invalidate: (tenant) => reader.bumpDataVersion(tenant),
    logger: silentLogger,
    telemetry: new Registry(),
  });
  const withPush = await testApp({
    db: harness.db,
    cache: reader,
    extensions: [ingestHttp({
      sink: processor,
      sourceStatus: (tenant) => journal.sourceStatus(tenant),
      configuredSources: () => [],
      clock: () => new Date(),
    })],
  });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    withPush.app.fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    async close() {
      await server.shutdown();
      await harness.dispose();
    },
  };
}

for (const backend of BACKENDS) {
  Deno.test({
    name: `over a socket with the ${backend.name} cache: never stale`,
    ignore: backend.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const { env, close } = await backend.env();
      const reader = await createCachedReader(cacheSettingsFromEnv(env), silentLogger);
      const server = await serveWith(reader);
      const get = async (path: string) => {
        const response = await fetch(`${server.base}${path}`, { headers: auth(KEY_A) });
        assert.equal(response.status, 200, path);
        return await response.json();
      };
      const push = async (rows: unknown[]) => {
        const response = await fetch(`${server.base}/ingest/rows`, {
          method: "POST",
          headers: { ...auth(KEY_A), "Content-Type": "application/json" },
          body: JSON.stringify(rows),
        });
        assert.equal(response.status, 200);
        await response.body?.cancel();
      };
      try {
        await push([metricRow({ impressions: 100 })]);
        const path = "/campaign/cmp-42/insights";
        assert.equal((await get(path)).totals.impressions, 100);
        assert.equal((await get(path)).totals.impressions, 100, "second read (a hit)");
        const before = reader.stats().hits;
        assert.equal((await get(path)).totals.impressions, 100);
        assert.equal(reader.stats().hits, before + 1, "answered from the cache");
        await push([metricRow({ impressions: 250 })]); // restates the same row
        assert.equal((await get(path)).totals.impressions, 250, "first read after the write");
        await push([metricRow({ ts: "2024-04-07T00:00:00Z", impressions: 1 })]);
        assert.equal((await get(path)).totals.impressions, 251);
        assert.equal((await get("/insights")).totals.impressions, 251);
      } finally {
        await server.close();
        await reader.close();
        await close();
      }
    },
  });
}

Deno.test({
  name: "an unreachable Redis or Upstash still answers 200 from the database",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    for (
      const env of [
        { REDIS_URL: "redis://127.0.0.1:1" },
        { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1", UPSTASH_REDIS_REST_TOKEN: "token" },
      ]
    ) {
      const reader = await createCachedReader(cacheSettingsFromEnv(env), silentLogger);
      const server = await serveWith(reader);
      try {
        const response = await fetch(`${server.base}/ingest/rows`, {
          method: "POST",
          headers: { ...auth(KEY_A), "Content-Type": "application/json" },
          body: JSON.stringify([metricRow({ impressions: 7 })]),
        });
        assert.equal(response.status, 200, "writes go through");
        await response.body?.cancel();
        for (let i = 0; i < 3; i++) {
          const read = await fetch(`${server.base}/campaign/cmp-42/insights`, {
            headers: auth(KEY_A),
          });
          assert.equal(read.status, 200);
          assert.equal((await read.json()).totals.impressions, 7);
        }
        const ready = await fetch(`${server.base}/readyz`);
        await ready.body?.cancel();
        assert.equal(reader.health().healthy, false, "the reader knows the cache is down");
        assert.ok(reader.stats().bypasses >= 3);
      } finally {
        await server.close();
        await reader.close();
      }
    }
  },
});
