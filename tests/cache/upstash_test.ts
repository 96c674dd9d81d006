/**
 * The Upstash (REST) adapter with the real @upstash/redis client, against the fake
 * Upstash endpoint in front of the real Redis (TEST_REDIS_URL), and against a closed
 * port. Keys carry a unique prefix per run and are deleted afterwards.
 */
import assert from "node:assert/strict";
import { CachedReader, cacheKeys } from "../../lib/cache/cache.ts";
import { upstashCache } from "../../lib/cache/upstash.ts";
import { silentLogger } from "../../lib/log.ts";
import { cacheSettingsFromEnv } from "../../lib/cache/settings.ts";
import { createUpstashClient } from "../../lib/cache/upstash.ts";
import { createCachedReader } from "../../runtime/cache_wiring.ts";
import { startFakeUpstash } from "../fakes/upstash_server.ts";
import { redisMissing, TEST_REDIS_URL, uniqueName } from "../support/databases.ts";
import { deleteRedisKeys } from "../support/redis.ts";

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

Deno.test({
  name: "fake Upstash endpoint speaks the REST protocol",
  ignore: redisMissing,
  async fn(t) {
    const prefix = `${uniqueName("cachetest")}:`;
    const fake = await startFakeUpstash({ redisUrl: TEST_REDIS_URL! });
    const auth = { authorization: `Bearer ${fake.token}` };
    try {
      await t.step("requires the bearer token", async () => {
        const missing = await post(fake.url, ["PING"]);
        assert.equal(missing.status, 401);
        await missing.body?.cancel();
        const wrong = await post(fake.url, ["PING"], { authorization: "Bearer nope" });
        assert.equal(wrong.status, 401);
        assert.deepEqual(await wrong.json(), { error: "Unauthorized" });
      });

      await t.step("POST / runs one command", async () => {
        const set = await post(fake.url, ["SET", `${prefix}k`, "héllo"], auth);
        assert.deepEqual(await set.json(), { result: "OK" });
        const get = await post(fake.url, ["GET", `${prefix}k`], auth);
        assert.deepEqual(await get.json(), { result: "héllo" });
        const incr = await post(fake.url, ["INCR", `${prefix}n`], auth);
        assert.deepEqual(await incr.json(), { result: 1 });
        const missing = await post(fake.url, ["GET", `${prefix}none`], auth);
        assert.deepEqual(await missing.json(), { result: null });
      });

      await t.step("Redis errors are 400 with an error message", async () => {
        const response = await post(fake.url, ["INCR", `${prefix}k`], auth);
        assert.equal(response.status, 400);
        assert.match((await response.json()).error, /not an integer/);
      });

      await t.step("Upstash-Encoding: base64 encodes strings but not OK or numbers", async () => {
        const headers = { ...auth, "upstash-encoding": "base64" };
        const set = await post(fake.url, ["SET", `${prefix}b`, "héllo"], headers);
        assert.deepEqual(await set.json(), { result: "OK" });
        const get = await post(fake.url, ["GET", `${prefix}b`], headers);
        const expected = btoa(String.fromCharCode(...new TextEncoder().encode("héllo")));
        assert.deepEqual(await get.json(), { result: expected });
        const list = await post(fake.url, ["MGET", `${prefix}b`, `${prefix}none`], headers);
        assert.deepEqual(await list.json(), { result: [expected, null] });
        const incr = await post(fake.url, ["INCR", `${prefix}n`], headers);
        assert.deepEqual(await incr.json(), { result: 2 });
      });

      await t.step("POST /pipeline runs commands in order, each with its own outcome", async () => {
        const response = await post(`${fake.url}/pipeline`, [
          ["SET", `${prefix}p`, "1"],
          ["INCR", `${prefix}p`],
          ["INCR", `${prefix}k`],
          ["GET", `${prefix}p`],
        ], auth);
        assert.equal(response.status, 200);
        const outcomes = await response.json();
        assert.deepEqual(outcomes[0], { result: "OK" });
        assert.deepEqual(outcomes[1], { result: 2 });
        assert.match(outcomes[2].error, /not an integer/);
        assert.deepEqual(outcomes[3], { result: "2" });
      });

      await t.step("malformed bodies are 400", async () => {
        const response = await post(fake.url, { not: "an array" }, auth);
        assert.equal(response.status, 400);
        await response.body?.cancel();
      });
    } finally {
      await fake.close();
      await deleteRedisKeys(prefix);
    }
  },
});

Deno.test({
  name: "Upstash adapter through @upstash/redis and the fake endpoint",
  ignore: redisMissing,
  async fn(t) {
    const prefix = `${uniqueName("cachetest")}:`;
    const fake = await startFakeUpstash({ redisUrl: TEST_REDIS_URL! });
    const cache = upstashCache(createUpstashClient(fake.url, fake.token, 2_000), {
      keyPrefix: prefix,
    });
    try {
      await t.step("values come back as stored text, JSON-looking or not", async () => {
        await cache.set("json", '{"n":1,"s":"ünï"}', 60);
        assert.equal(await cache.get("json"), '{"n":1,"s":"ünï"}');
        await cache.set("number", "42", 60);
        assert.equal(await cache.get("number"), "42");
        assert.equal(await cache.get("absent"), undefined);
      });

      await t.step("a hit is one HTTP request returning version and entry", async () => {
        const first = await cache.lookup("acme", "totals");
        assert.equal(first.value, undefined);
        await cache.set(cacheKeys.entry("acme", first.version, "totals"), "[1,2]", 60);
        await cache.lookup("acme", "totals");
        const before = fake.requests;
        const hit = await cache.lookup("acme", "totals");
        assert.equal(fake.requests - before, 1);
        assert.deepEqual(hit, { version: first.version, value: "[1,2]" });
      });

      await t.step("a bump replaces the version: the old entry is never served", async () => {
        const { version } = await cache.lookup("acme", "totals");
        const bumped = await cache.bumpDataVersion("acme");
        assert.notEqual(bumped, version);
        assert.equal(await cache.dataVersion("acme"), bumped);
        const after = await cache.lookup("acme", "totals");
        assert.deepEqual(after, { version: bumped, value: undefined });
      });

      await t.step("ping answers", async () => {
        await cache.ping();
      });
    } finally {
      await cache.close();
      await fake.close();
      await deleteRedisKeys(prefix);
    }
  },
});

Deno.test("Upstash adapter: a closed port fails fast and the reader computes", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedUrl = `http://127.0.0.1:${listener.addr.port}`;
  listener.close();
  const reader = new CachedReader({
    cache: upstashCache(createUpstashClient(closedUrl, "token", 1_000)),
    logger: silentLogger,
  });
  try {
    let data = 1;
    const compute = () => Promise.resolve({ n: data });
    assert.deepEqual(await reader.read("acme", "q", compute), { n: 1 });
    data = 2;
    assert.deepEqual(await reader.read("acme", "q", compute), { n: 2 });
    await reader.bumpDataVersion("acme");
    assert.equal(reader.health().healthy, false);
    assert.ok(reader.health().lastError);
    const stats = reader.stats();
    assert.equal(stats.bypasses, 2);
    assert.ok(stats.errors >= 3);
  } finally {
    await reader.close();
  }
});

Deno.test({
  name: "UPSTASH_REDIS_REST_URL and _TOKEN give a working Upstash cache",
  ignore: redisMissing,
  async fn() {
    const prefix = `${uniqueName("cachetest")}:`;
    const fake = await startFakeUpstash({ redisUrl: TEST_REDIS_URL! });
    const reader = await createCachedReader(
      cacheSettingsFromEnv({
        UPSTASH_REDIS_REST_URL: fake.url,
        UPSTASH_REDIS_REST_TOKEN: fake.token,
        CACHE_KEY_PREFIX: prefix,
      }),
      silentLogger,
    );
    try {
      assert.equal(reader.cache.backend, "upstash");
      let computed = 0;
      const compute = () => Promise.resolve({ computed: ++computed });
      assert.deepEqual(await reader.read("acme", "q", compute), { computed: 1 });
      assert.deepEqual(await reader.read("acme", "q", compute), { computed: 1 });
      assert.deepEqual(reader.health().healthy, true);
    } finally {
      await reader.close();
      await fake.close();
      await deleteRedisKeys(prefix);
    }
  },
});
