/**
 * POST /prompt latency with follow-ups on: the app as `serve` composes it (bot routes,
 * memory cache, conversations in that cache) over a seeded embedded store, called in
 * process with `app.request`, one request at a time. Each session asks a question and
 * then three follow-ups in the same conversation ("and for Meta?", "by week", "top 3
 * instead"), so the measured path includes reading and keeping the conversation.
 *
 *   deno run -A bench/prompt.ts [--sessions 60] [--passes 3] [--out file.json]
 *
 * The first pass answers every question for the first time (parse, API calls, SQL);
 * later passes ask the same sessions again in new conversations, as users repeating
 * the day's questions would, and are served from the answer cache. Both are reported,
 * beside the p95 over all requests. (No currency follow-up here: this deployment has no
 * exchange rates, and an answer about an unavailable conversion is never cached.)
 */
import { parseArgs } from "node:util";
import { silentLogger } from "../lib/log.ts";
import type { MetricRowInput } from "../lib/schema.ts";
import { openDatabase } from "../runtime/database.ts";
import { botExtensions } from "../runtime/bot.ts";
import { buildServices } from "../runtime/services.ts";
import { loadServeSettings } from "../runtime/settings.ts";
import { type LatencySummary, summarize } from "./stats.ts";
import { dailyBenchRows } from "./fixtures.ts";

const TENANT = "bench";
const API_KEY = "bench-prompt-key-0001";
const CAMPAIGNS = 24;
const DAYS = 120;

/** Openers and the follow-ups asked after each; every session pairs one of each. */
const OPENERS = [
  "ROAS for Google last week?",
  "how much did we spend on meta this month",
  "clicks on tiktok in the last 14 days",
  "cpa on linkedin last month",
  "top 5 campaigns by revenue this quarter",
  "ctr trend on google over the past 30 days",
  "compare spend across platforms last week",
  "conversions this week vs last week",
  "revenue for the bench campaign 3 campaign",
  "what's our cpc so far this month",
];
/** Asked once before timing, about other things than the sessions. */
const WARM_UP = [
  "spend yesterday",
  "roas on tiktok this year",
  "which campaign had the most clicks last week",
  "daily impressions on meta last 7 days",
  "list my campaigns",
  "revenue mtd vs last month",
  "compare cpc across platforms this month",
  "what is ctr?",
];
const FOLLOW_UPS = [
  ["and for Meta?", "by week", "top 3 instead"],
  ["what about last month", "also tiktok", "compare with the previous period"],
  ["and cpc", "just google", "now as a trend"],
  ["what about yesterday", "by platform", "only the last 7 days"],
  ["bottom 3", "what about roas?", "and for linkedin"],
];

function seedRows(today: Date): MetricRowInput[] {
  const start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) -
    DAYS * 86_400_000;
  return dailyBenchRows({ tenant: TENANT, campaigns: CAMPAIGNS, days: DAYS, start });
}

export interface PromptBenchResult {
  sessions: number;
  passes: number;
  rows: number;
  first_pass: LatencySummary;
  repeat_passes: LatencySummary;
  follow_ups: LatencySummary;
  all: LatencySummary;
  non_200: number;
}

export async function runPromptBench(
  options: { sessions: number; passes: number },
  log: (line: string) => void = () => {},
): Promise<PromptBenchResult> {
  const dir = await Deno.makeTempDir({ prefix: "bench-prompt-" });
  try {
    const rows = seedRows(new Date());
    const db = await openDatabase({ dataDir: dir, poolSize: 1 }, silentLogger);
    for (let i = 0; i < rows.length; i += 5_000) await db.store.upsert(rows.slice(i, i + 5_000));
    await db.close();
    log(`seeded ${rows.length} rows (${CAMPAIGNS} campaigns x ${DAYS} days)`);

    const settings = loadServeSettings({
      DATA_DIR: dir,
      API_KEY: `${TENANT}:${API_KEY}`,
      DATA_SOURCE: "fake",
      LOG_LEVEL: "warn",
      DEFAULT_TIME_ZONE: "UTC",
    });
    const services = await buildServices(settings, {
      logger: silentLogger,
      extensions: botExtensions(settings.bot),
    });
    const headers = { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" };
    const first: number[] = [];
    const repeat: number[] = [];
    const followUps: number[] = [];
    let non200 = 0;
    try {
      const ask = async (prompt: string, conversationId?: string) => {
        const started = performance.now();
        const response = await services.app.request("/prompt", {
          method: "POST",
          headers,
          body: JSON.stringify({ prompt, conversation_id: conversationId }),
        });
        const body = await response.json();
        const elapsed = performance.now() - started;
        if (response.status !== 200) non200++;
        return { elapsed, conversationId: body.conversation_id as string };
      };
      // Warm-up, not measured: compiles the routes, the parser's patterns and the SQL.
      for (const prompt of WARM_UP) await ask(prompt);
      const slowest: [number, string][] = [];
      for (let pass = 0; pass < options.passes; pass++) {
        const sink = pass === 0 ? first : repeat;
        for (let session = 0; session < options.sessions; session++) {
          const opener = OPENERS[session % OPENERS.length];
          const chain = FOLLOW_UPS[Math.floor(session / OPENERS.length) % FOLLOW_UPS.length];
          const start = await ask(opener);
          sink.push(start.elapsed);
          if (pass === 0) slowest.push([start.elapsed, opener]);
          for (const prompt of chain) {
            const { elapsed } = await ask(prompt, start.conversationId);
            sink.push(elapsed);
            followUps.push(elapsed);
            if (pass === 0) slowest.push([elapsed, `${opener} → ${prompt}`]);
          }
        }
        log(`pass ${pass + 1}: ${options.sessions} sessions`);
      }
      slowest.sort((a, b) => b[0] - a[0]);
      for (const [ms, prompt] of slowest.slice(0, 8)) log(`  slow: ${ms.toFixed(1)} ms  ${prompt}`);
    } finally {
      await services.close();
    }
    return {
      sessions: options.sessions,
      passes: options.passes,
      rows: rows.length,
      first_pass: summarize(first),
      repeat_passes: summarize(repeat),
      follow_ups: summarize(followUps),
      all: summarize([...first, ...repeat]),
      non_200: non200,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sessions: { type: "string", default: "50" },
      passes: { type: "string", default: "3" },
      out: { type: "string" },
    },
  });
  const result = await runPromptBench(
    { sessions: Number(values.sessions), passes: Number(values.passes) },
    (line) => console.error(line),
  );
  const text = JSON.stringify(result, null, 2);
  if (values.out) await Deno.writeTextFile(values.out, text + "\n");
  console.log(text);
}
