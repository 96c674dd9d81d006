/**
 * Conversations: the store (memory and a real Redis), POST /prompt with and without
 * `conversation_id`, tenant isolation, and the Slack thread as a conversation.
 */
import assert from "node:assert/strict";
import { promptExtension } from "../../handlers/prompt.ts";
import type { Cache } from "../../lib/cache/cache.ts";
import { MemoryCache } from "../../lib/cache/memory.ts";
import { redisCache } from "../../lib/cache/redis.ts";
import {
  CacheConversationStore,
  CONVERSATION_TTL_SECONDS,
  ConversationIdSchema,
  type ConversationStore,
} from "../../lib/bot/conversation.ts";
import { parseSlashCommand, slackConversationId } from "../../lib/bot/slack.ts";
import type { ParsedQuery } from "../../lib/bot/query.ts";
import { createRedisClient } from "../../runtime/cache_wiring.ts";
import { redisMissing, TEST_REDIS_URL, uniqueName } from "../support/databases.ts";
import { deleteKeysWith } from "../support/redis.ts";
import { auth, KEY_A, KEY_B } from "../support/test_app.ts";
import { seededApp } from "./fixtures.ts";

const ROAS_LAST_WEEK: ParsedQuery = {
  intent: "metric",
  metrics: ["roas"],
  platforms: ["google"],
  date_range: { from: "2024-04-15", to: "2024-04-21" },
  compare_to: null,
  campaign: null,
  group_by: null,
  order: null,
  limit: null,
  currency: null,
};

async function storeContract(store: ConversationStore) {
  const id = crypto.randomUUID();
  assert.equal(await store.previous("tenant-a", id), null);
  await store.remember("tenant-a", id, ROAS_LAST_WEEK);
  assert.deepEqual(await store.previous("tenant-a", id), ROAS_LAST_WEEK);
  // The key holds the tenant: the same id under another tenant finds nothing.
  assert.equal(await store.previous("tenant-b", id), null);
  await store.remember("tenant-a", id, { ...ROAS_LAST_WEEK, platforms: ["meta"] });
  assert.deepEqual((await store.previous("tenant-a", id))?.platforms, ["meta"]);
}

Deno.test("conversation store on the memory cache: per tenant, last query wins", async () => {
  await storeContract(new CacheConversationStore(new MemoryCache()));
});

Deno.test("conversation store keeps a query 30 minutes and forgets on a cache outage", async () => {
  const ttls: number[] = [];
  const memory = new MemoryCache();
  const recording = {
    ...memory,
    backend: "memory",
    get: (key: string) => memory.get(key),
    set: (key: string, value: string, ttl: number) => {
      ttls.push(ttl);
      return memory.set(key, value, ttl);
    },
  } as unknown as Cache;
  await new CacheConversationStore(recording).remember("t", "conversation-1", ROAS_LAST_WEEK);
  assert.deepEqual(ttls, [CONVERSATION_TTL_SECONDS]);
  assert.equal(CONVERSATION_TTL_SECONDS, 1800);
  const broken = {
    get: () => Promise.reject(new Error("down")),
    set: () => Promise.reject(new Error("down")),
  } as unknown as Cache;
  const store = new CacheConversationStore(broken);
  await store.remember("t", "conversation-1", ROAS_LAST_WEEK);
  assert.equal(await store.previous("t", "conversation-1"), null);
});

Deno.test({
  name: "conversation store on a real Redis",
  ignore: redisMissing,
  async fn() {
    const prefix = `${uniqueName("conversations")}:`;
    const connection = createRedisClient(TEST_REDIS_URL!);
    assert.ok(await connection.waitUntilReady(5_000));
    try {
      const cache = redisCache(connection, { keyPrefix: prefix, timeoutMs: 2_000 });
      await storeContract(new CacheConversationStore(cache));
      const [key] = (await connection.sendCommand(["KEYS", `${prefix}c:*`])) as string[];
      const ttl = await connection.sendCommand(["TTL", key]) as number;
      assert.ok(ttl > 1700 && ttl <= 1800, `TTL ${ttl}`);
    } finally {
      await deleteKeysWith(connection, prefix);
      await connection.close();
    }
  },
});

Deno.test("ConversationIdSchema: UUIDs and Slack threads, nothing that could break a key", () => {
  for (const id of [crypto.randomUUID(), "slack:T1:C1:t1712345678.000100", "my-chat_01"]) {
    assert.ok(ConversationIdSchema.safeParse(id).success, id);
  }
  for (const id of ["short", "has space in it", "a".repeat(129), "x}{y:1234567", "-leading-dash"]) {
    assert.ok(!ConversationIdSchema.safeParse(id).success, id);
  }
});

type Requester = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

function poster(app: Requester) {
  return async (body: unknown, key = KEY_A) => {
    const response = await app.request("/prompt", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...auth(key) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
}

async function conversationsOverHttp(conversations?: ConversationStore) {
  const { app, dispose } = await seededApp({ extensions: [promptExtension({ conversations })] });
  const post = poster(app);
  try {
    const first = await post({ prompt: "ROAS for Google last week?" });
    assert.equal(first.status, 200);
    const id = first.body.conversation_id;
    assert.ok(ConversationIdSchema.safeParse(id).success, `generated id ${id}`);

    const followUp = await post({ prompt: "and for Meta?", conversation_id: id });
    assert.equal(followUp.status, 200);
    assert.equal(followUp.body.conversation_id, id);
    assert.deepEqual(followUp.body.query.metrics, ["roas"]);
    assert.deepEqual(followUp.body.query.platforms, ["meta"]);
    assert.deepEqual(followUp.body.query.date_range, { from: "2024-04-15", to: "2024-04-21" });
    assert.match(followUp.body.reply, /Meta/);

    // The follow-up's query is now the conversation's last one.
    const next = await post({ prompt: "what about cpc", conversation_id: id });
    assert.deepEqual(next.body.query.platforms, ["meta"]);
    assert.deepEqual(next.body.query.metrics, ["cpc"]);

    // Another tenant with the same id starts from nothing.
    const other = await post({ prompt: "and for Meta?", conversation_id: id }, KEY_B);
    assert.equal(other.status, 200);
    assert.deepEqual(other.body.query.metrics, []);
    assert.equal(other.body.query.date_range, null);

    // A fresh conversation (no id) does not see the first one either.
    const fresh = await post({ prompt: "and for Meta?" });
    assert.notEqual(fresh.body.conversation_id, id);
    assert.deepEqual(fresh.body.query.metrics, []);

    const bad = await post({ prompt: "and for Meta?", conversation_id: "no spaces please" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, "conversation_id");
  } finally {
    await dispose();
  }
}

Deno.test("POST /prompt: a conversation_id carries the previous question (memory)", async () => {
  await conversationsOverHttp();
});

Deno.test({
  name: "POST /prompt: a conversation_id carries the previous question (Redis)",
  ignore: redisMissing,
  async fn() {
    const prefix = `${uniqueName("promptconv")}:`;
    const connection = createRedisClient(TEST_REDIS_URL!);
    assert.ok(await connection.waitUntilReady(5_000));
    try {
      const cache = redisCache(connection, { keyPrefix: prefix, timeoutMs: 2_000 });
      await conversationsOverHttp(new CacheConversationStore(cache));
    } finally {
      await deleteKeysWith(connection, prefix);
      await connection.close();
    }
  },
});

Deno.test("slackConversationId: the thread, else the user in the channel", () => {
  const base = "team_id=T1&channel_id=C1&user_id=U1&text=spend";
  const inThread = parseSlashCommand(`${base}&thread_ts=1712345678.000100`);
  const outside = parseSlashCommand(base);
  const otherUser = parseSlashCommand("team_id=T1&channel_id=C1&user_id=U2&text=spend");
  assert.equal(slackConversationId(inThread), "slack:T1:C1:t1712345678.000100");
  assert.equal(slackConversationId(outside), "slack:T1:C1:uU1");
  assert.notEqual(slackConversationId(outside), slackConversationId(otherUser));
  for (const command of [inThread, outside, parseSlashCommand("")]) {
    assert.ok(ConversationIdSchema.safeParse(slackConversationId(command)).success);
  }
});
