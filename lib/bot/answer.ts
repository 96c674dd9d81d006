/** The whole bot in one call: prompt → parse → execute → format. */
import type { AnalyticsClient } from "./client.ts";
import { execute, type ExecuteOptions } from "./execute.ts";
import { formatReply } from "./format.ts";
import type { Outcome } from "./outcome.ts";
import { parsePrompt } from "./parse/parse.ts";
import type { ParsedQuery } from "./query.ts";

export interface Answer {
  reply: string;
  query: ParsedQuery;
  data: Outcome;
}

/** Parse, execute, format: a prompt in, `{reply, query, data}` out. */
export async function answerPrompt(
  prompt: string,
  options: { client: AnalyticsClient; now?: Date; timeZone?: string } & ExecuteOptions,
): Promise<Answer> {
  const now = options.now ?? new Date();
  const query = parsePrompt(prompt, { now, timeZone: options.timeZone });
  const data = await execute(query, options.client, { ...options, now });
  return { reply: formatReply(data, { now }), query, data };
}
