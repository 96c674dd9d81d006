/**
 * The bot's answering layer as the library publishes it: a prompt answered from a
 * `MetricsStore` in this process, with no HTTP server. Only the reply and the parsed
 * query are public; the executor's intermediate data is internal until the bot's
 * version 2 settles its types.
 */
import { answerPrompt } from "../bot/answer.ts";
import { createStoreAnalyticsClient } from "../bot/store_client.ts";
import type { MetricsStore } from "../store/store_api.ts";
import type { ParsedQuery } from "./query.ts";

/** Options of {@linkcode answerPromptWithStore}. */
export interface AnswerWithStoreOptions {
  /** The tenant whose rows answer the question; no read crosses tenants. */
  readonly tenantId: string;
  /** The instant "today" is taken from for relative dates; defaults to the current time. */
  readonly now?: Date;
  /** IANA zone of the prompt's calendar dates (and of the store's day buckets); default UTC. */
  readonly timeZone?: string;
  /**
   * The conversation's previous query (a former answer's `query`): a follow-up ("and for
   * Meta?") then changes only the slots it names.
   */
  readonly previous?: ParsedQuery | null;
}

/** What {@linkcode answerPromptWithStore} returns. */
export interface StoreAnswer {
  /** The bot's reply, as plain text with the numbers it computed. */
  reply: string;
  /** The structured query the prompt parsed into; pass it as `previous` for a follow-up. */
  query: ParsedQuery;
}

/**
 * Answers a plain-English question about ad performance from a store, in this process:
 * parses the prompt, reads the tenant's rows from `store` (ratios of sums, money exact,
 * in each row's own currency) and formats the bot's reply, exactly as `POST /prompt`
 * would without currency conversion. A question the bot cannot answer still gets a
 * reply that says so; the promise rejects only when the store itself fails.
 *
 * @example Answer a prompt in-process
 * ```ts
 * import assert from "node:assert/strict";
 * import { PGlite } from "@electric-sql/pglite";
 * import {
 *   answerPromptWithStore,
 *   openMetricsStore,
 *   pgliteDriver,
 * } from "@campaign-analytics/core/store";
 *
 * const { store, close } = await openMetricsStore(pgliteDriver(new PGlite()));
 * await store.upsert([{
 *   tenant_id: "acme", platform: "google", account_id: "acc-1", campaign_id: "cmp-1",
 *   ts: "2024-05-08T12:00:00Z", impressions: 1000, clicks: 25, conversions: 2,
 *   cost: "50.00", revenue: "200.00", currency: "USD", source: "example",
 * }]);
 * const answer = await answerPromptWithStore(store, "What was my ROAS last week?", {
 *   tenantId: "acme",
 *   now: new Date("2024-05-15T12:00:00Z"),
 * });
 * assert.deepEqual(answer.query.date_range, { from: "2024-05-06", to: "2024-05-12" });
 * assert.match(answer.reply, /4\.00/); // 200.00 / 50.00
 * await close();
 * ```
 *
 * @param store The store to read, typically `openMetricsStore(...).store`.
 * @param prompt The question, as a person typed it.
 * @param options The tenant, the "now" and time zone relative dates resolve against, and
 *   the conversation's previous query for follow-ups.
 * @returns The reply and the parsed query.
 */
export async function answerPromptWithStore(
  store: MetricsStore,
  prompt: string,
  options: AnswerWithStoreOptions,
): Promise<StoreAnswer> {
  const client = createStoreAnalyticsClient(store, {
    tenantId: options.tenantId,
    timeZone: options.timeZone,
  });
  const answer = await answerPrompt(prompt, {
    client,
    now: options.now,
    timeZone: options.timeZone,
    previous: options.previous,
  });
  return { reply: answer.reply, query: answer.query };
}
