import assert from "node:assert/strict";
import { cacheKeys } from "../../lib/cache/cache.ts";
import { MemoryCache } from "../../lib/cache/memory.ts";

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => now += ms };
}

Deno.test("MemoryCache", async (t) => {
  await t.step("stores and returns values; unknown keys are undefined", async () => {
    const cache = new MemoryCache();
    await cache.set("a", "1", 60);
    assert.equal(await cache.get("a"), "1");
    assert.equal(await cache.get("missing"), undefined);
  });

  await t.step("entries expire after their TTL on the injected clock", async () => {
    const clock = fakeClock();
    const cache = new MemoryCache({ now: clock.now });
    await cache.set("a", "1", 10);
    clock.advance(9_999);
    assert.equal(await cache.get("a"), "1");
    clock.advance(1);
    assert.equal(await cache.get("a"), undefined);
    assert.equal(cache.size, 0, "an expired entry is dropped when read");
    assert.equal(cache.bytes, 0);
  });

  await t.step("evicts the least recently used entry beyond maxEntries", async () => {
    const cache = new MemoryCache({ maxEntries: 3 });
    await cache.set("a", "1", 60);
    await cache.set("b", "2", 60);
    await cache.set("c", "3", 60);
    assert.equal(await cache.get("a"), "1"); // a is now the most recently used
    await cache.set("d", "4", 60);
    assert.equal(await cache.get("b"), undefined, "b was the least recently used");
    assert.equal(await cache.get("a"), "1");
    assert.equal(await cache.get("c"), "3");
    assert.equal(await cache.get("d"), "4");
    assert.equal(cache.size, 3);
    assert.equal(cache.evictions, 1);
  });

  await t.step("evicts beyond maxBytes, counting replaced values once", async () => {
    const value = "x".repeat(100);
    const entryBytes = (1 + value.length) * 2 + 64;
    const cache = new MemoryCache({ maxBytes: entryBytes * 3 });
    for (const key of ["a", "b", "c"]) await cache.set(key, value, 60);
    assert.equal(cache.bytes, entryBytes * 3);
    await cache.set("a", value, 60); // replacing keeps the total
    assert.equal(cache.bytes, entryBytes * 3);
    assert.equal(cache.size, 3);
    await cache.set("d", value, 60);
    assert.equal(cache.size, 3);
    assert.equal(await cache.get("b"), undefined, "b is now the least recently used");
    assert.ok(cache.bytes <= entryBytes * 3);
  });

  await t.step("a value larger than the whole budget is not stored", async () => {
    const cache = new MemoryCache({ maxBytes: 1_000 });
    await cache.set("small", "1", 60);
    await cache.set("huge", "x".repeat(1_000), 60);
    assert.equal(await cache.get("huge"), undefined);
    assert.equal(await cache.get("small"), "1");
  });

  await t.step("versions: stable until bumped, never reused, fresh after eviction", async () => {
    const cache = new MemoryCache();
    const first = await cache.dataVersion("acme");
    assert.equal(await cache.dataVersion("acme"), first);
    const bumped = await cache.bumpDataVersion("acme");
    assert.notEqual(bumped, first);
    assert.equal(await cache.dataVersion("acme"), bumped);
    // A random prefix per process and a counter: unique across processes and restarts.
    assert.match(bumped, /^[A-Za-z0-9_-]{16}\.[0-9a-z]+$/);
    assert.notEqual(await cache.dataVersion("other"), bumped, "versions are per tenant");
    await cache.close(); // loses everything, like a Redis restart
    const fresh = await cache.dataVersion("acme");
    assert.ok(![first, bumped].includes(fresh), "a lost version is never recreated as an old one");
  });

  await t.step("lookup returns the version and the entry under it", async () => {
    const cache = new MemoryCache();
    const miss = await cache.lookup("acme", "q");
    assert.equal(miss.value, undefined);
    await cache.set(cacheKeys.entry("acme", miss.version, "q"), "answer", 60);
    assert.deepEqual(await cache.lookup("acme", "q"), { version: miss.version, value: "answer" });
    await cache.bumpDataVersion("acme");
    const after = await cache.lookup("acme", "q");
    assert.notEqual(after.version, miss.version);
    assert.equal(after.value, undefined, "entries of the old version are unreachable");
  });

  await t.step("an evicted version key makes old entries unreachable", async () => {
    const cache = new MemoryCache({ maxEntries: 2 });
    const { version } = await cache.lookup("acme", "q");
    await cache.set(cacheKeys.entry("acme", version, "q"), "old", 60);
    await cache.set("filler", "x", 60); // evicts the version key (least recently used)
    assert.equal(await cache.get(cacheKeys.version("acme")), undefined);
    const after = await cache.lookup("acme", "q");
    assert.notEqual(after.version, version);
    assert.equal(after.value, undefined);
  });
});
