/** The whole bot in one call: prompt → parse → execute → format. */
import type { AnalyticsClient } from "./client.ts";
import { execute, type ExecuteOptions } from "./execute.ts";
import { formatReply } from "./format.ts";
import type { Outcome } from "./outcome.ts";
import { parsePrompt } from "./parse/parse.ts";
import type { ParsedQuery } from "./query.ts";
import { viewUrl } from "./view_url.ts";

export interface Answer {
  reply: string;
  query: ParsedQuery;
  data: Outcome;
  /** The dashboard selection showing the same numbers; null when the answer has none. */
  view_url: string | null;
}

export interface AnswerOptions extends ExecuteOptions {
  client: AnalyticsClient;
  now?: Date;
  timeZone?: string;
  /** The conversation's previous query, for follow-ups ("and for Meta?"). */
  previous?: ParsedQuery | null;
}

/** Parse, execute, format: a prompt in, `{reply, query, data, view_url}` out. */
export async function answerPrompt(prompt: string, options: AnswerOptions): Promise<Answer> {
  const now = options.now ?? new Date();
  const query = parsePrompt(prompt, {
    now,
    timeZone: options.timeZone,
    previous: options.previous,
  });
  const data = await execute(query, options.client, { ...options, now });
  return {
    reply: formatReply(data, { now }),
    query,
    data,
    view_url: viewUrl(query, data, { timeZone: options.timeZone }),
  };
}
