/**
 * Conversations: the last query of each one, kept per tenant for half an hour, so that
 * "and for Meta?" can lean on the question before it. Stored in the app's cache (memory,
 * Redis or Upstash) under a key that holds the tenant: another tenant's conversation is
 * never found, whatever id it is asked with.
 */
import { z } from "zod";
import { type Cache, cacheKeys } from "../cache/cache.ts";
import { MemoryCache } from "../cache/memory.ts";
import { type ParsedQuery, ParsedQuerySchema } from "./query.ts";

/** How long a conversation is remembered after its last question. */
export const CONVERSATION_TTL_SECONDS = 30 * 60;

/**
 * A conversation id: 8 to 128 letters, digits and `._:-` (a UUID, or a Slack thread as
 * `slack:T1:C1:1712345678.000100`), so it is safe inside a cache key.
 */
export const ConversationIdSchema = z.string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/,
    "conversation_id must be 8 to 128 letters, digits, '.', '_', ':' or '-'",
  )
  .describe("Continues a conversation: the id a previous answer returned");

export function newConversationId(): string {
  return crypto.randomUUID();
}

export interface ConversationStore {
  /** The conversation's last query, or null when there is none (or it expired). */
  previous(tenant: string, conversationId: string): Promise<ParsedQuery | null>;
  /** Keeps `query` as the conversation's last one for the next 30 minutes. */
  remember(tenant: string, conversationId: string, query: ParsedQuery): Promise<void>;
}

/**
 * Conversations in a cache backend. A cache outage only forgets: the question is then
 * answered on its own terms, never failed.
 */
export class CacheConversationStore implements ConversationStore {
  readonly #cache: Cache;
  readonly #ttlSeconds: number;

  constructor(cache: Cache, ttlSeconds = CONVERSATION_TTL_SECONDS) {
    this.#cache = cache;
    this.#ttlSeconds = ttlSeconds;
  }

  async previous(tenant: string, conversationId: string): Promise<ParsedQuery | null> {
    let text: string | undefined;
    try {
      text = await this.#cache.get(cacheKeys.conversation(tenant, conversationId));
    } catch {
      return null;
    }
    if (text === undefined) return null;
    try {
      const parsed = ParsedQuerySchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  async remember(tenant: string, conversationId: string, query: ParsedQuery): Promise<void> {
    try {
      await this.#cache.set(
        cacheKeys.conversation(tenant, conversationId),
        JSON.stringify(query),
        this.#ttlSeconds,
      );
    } catch {
      // Forgetting a conversation costs a follow-up its context, not the answer.
    }
  }
}

/** Conversations in this process's memory (a process without a shared cache). */
export function memoryConversationStore(): ConversationStore {
  return new CacheConversationStore(
    new MemoryCache({ maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 }),
  );
}

/**
 * Answers a prompt as part of a conversation: reads the previous query, answers, and
 * keeps the new query (unless the prompt was not understood, so that "thanks" or a typo
 * does not end the thread).
 */
export async function inConversation<T extends { query: ParsedQuery }>(
  store: ConversationStore,
  tenant: string,
  conversationId: string,
  answer: (previous: ParsedQuery | null) => Promise<T>,
): Promise<T> {
  const previous = await store.previous(tenant, conversationId);
  const result = await answer(previous);
  if (result.query.intent !== "unknown") {
    await store.remember(tenant, conversationId, result.query);
  }
  return result;
}
