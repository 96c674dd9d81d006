/** /prompt answers are cached like API answers: repeated questions hit, writes invalidate. */
import assert from "node:assert/strict";
import { auth, KEY_A, KEY_B, metricRow, testApp } from "../support/test_app.ts";
import { CachedReader } from "../../lib/cache/cache.ts";
import { MemoryCache } from "../../lib/cache/memory.ts";
import { promptExtension } from "../../handlers/prompt.ts";

Deno.test("/prompt: a repeated question is a cache hit, and a write makes it fresh", async () => {
  const reader = new CachedReader({ cache: new MemoryCache({ maxEntries: 100, maxBytes: 1e6 }) });
  const { app, store, dispose } = await testApp({ cache: reader, extensions: [promptExtension()] });
  const ask = async (prompt: string, key = KEY_A) => {
    const response = await app.request("/prompt", {
      method: "POST",
      headers: { ...auth(key), "Content-Type": "application/json" },
      body: JSON.stringify({ prompt }),
    });
    assert.equal(response.status, 200);
    return await response.json();
  };
  try {
    await store.upsert([metricRow({ cost: "25.00" })]);
    const first = await ask("How much did I spend on cmp-42?");
    assert.match(first.reply, /\$25\.00/);
    const hits = reader.stats().hits;
    const second = await ask("how much did  I spend on CMP-42?");
    assert.equal(second.reply, first.reply);
    assert.ok(reader.stats().hits > hits, "answered from the cache");
    await store.upsert([metricRow({ ts: "2024-04-06T00:00:00Z", cost: "17.00" })]);
    await reader.bumpDataVersion("tenant-a");
    const third = await ask("How much did I spend on cmp-42?");
    assert.match(third.reply, /\$42\.00/, "the new spend (25 + 17) after the write");
    const other = await ask("How much did I spend on cmp-42?", KEY_B);
    assert.doesNotMatch(
      other.reply,
      /42\.00|25\.00/,
      "another tenant never gets tenant A's answer",
    );
  } finally {
    await reader.close();
    await dispose();
  }
});
