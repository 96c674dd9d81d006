/**
 * The formatter: number honesty across many questions (every number in a reply is found
 * in the `data` returned beside it), formats (money, percentages, ROAS), and the
 * replies for ambiguity, no data, unknown questions and API failures.
 */
import assert from "node:assert/strict";
import { CatalogIndexCache, createInProcessAnalyticsClient } from "../../lib/bot/client.ts";
import { type Answer, answerPrompt } from "../../lib/bot/answer.ts";
import type { Outcome } from "../../lib/bot/outcome.ts";
import {
  formatCount,
  formatMoney,
  formatPercent,
  formatRatio,
  formatReply,
} from "../../lib/bot/format.ts";
import { KEY_A, KEY_B } from "../support/test_app.ts";
import { fakeApp, NOW, seededApp } from "./fixtures.ts";

// ---------------------------------------------------------------------------------
// The honesty check. Independent of the formatter's code: it formats the numbers found
// in `data` in every way a reply may show them, and requires each number token of the
// reply to be one of those forms.
// ---------------------------------------------------------------------------------

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const NUMBER_TOKEN = /\d[\d,]*(?:\.\d+)?/g;

interface Collected {
  numbers: number[];
  strings: string[];
  currencies: Set<string>;
}

function collect(value: unknown, into: Collected, key = ""): void {
  if (typeof value === "number") into.numbers.push(value);
  else if (typeof value === "string") {
    into.strings.push(value);
    if (key === "currency" && /^[A-Z]{3}$/.test(value)) into.currencies.add(value);
  } else if (Array.isArray(value)) {
    // A count of items the reply may state ("3 campaigns") is a number of the data too.
    into.numbers.push(value.length);
    for (const item of value) collect(item, into);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collect(v, into, k);
  }
}

function allowedTokens(data: unknown): { tokens: Set<string>; collected: Collected } {
  const collected: Collected = { numbers: [], strings: [], currencies: new Set() };
  collect(data, collected);
  const forms: string[] = [];
  for (const n of collected.numbers) {
    for (const v of [Math.abs(n), Math.abs(n * 100)]) {
      for (const digits of [0, 1, 2]) {
        for (const useGrouping of [true, false]) {
          forms.push(
            new Intl.NumberFormat("en-US", {
              minimumFractionDigits: digits,
              maximumFractionDigits: digits,
              useGrouping,
            }).format(v),
            new Intl.NumberFormat("en-US", { maximumFractionDigits: digits, useGrouping })
              .format(v),
          );
        }
      }
    }
    for (const currency of collected.currencies) {
      forms.push(
        new Intl.NumberFormat("en-US", { style: "currency", currency }).format(Math.abs(n)),
      );
    }
  }
  const tokens = new Set(forms.flatMap((form) => form.match(NUMBER_TOKEN) ?? []));
  return { tokens, collected };
}

/** Dates of the data as a reply may write them ("3 Mar", "3 Mar 2024", "March 2024"). */
function dateForms(strings: readonly string[]): string[] {
  const forms: string[] = [];
  for (const text of strings) {
    const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
    if (!match) continue;
    const [, year, month, day] = match;
    const d = Number(day);
    const m = Number(month) - 1;
    forms.push(`${d} ${MONTHS[m]} ${year}`, `${d} ${MONTHS[m]}`);
    forms.push(`${MONTH_NAMES[m]} ${year}`);
  }
  return forms;
}

/** The number tokens of a reply that are not found in its data (empty = honest). */
export function unsupportedNumbers(reply: string, data: unknown): string[] {
  const { tokens, collected } = allowedTokens(data);
  let text = reply;
  // Names and ids of the data (they may contain digits: "Q1", "cmp-42"): only strings
  // with a letter, so a bare number is never excused this way.
  const names = collected.strings.filter((s) => /\p{L}/u.test(s) && /\d/.test(s));
  for (
    const form of [...dateForms(collected.strings), ...names].sort((a, b) => b.length - a.length)
  ) {
    text = text.split(form).join(" ");
  }
  // List ordinals: "1. ", "2. " at the start of a line.
  text = text.replace(/^\s*\d+\.\s/gm, " ");
  return (text.match(NUMBER_TOKEN) ?? []).filter((token) => !tokens.has(token));
}

const PROMPTS_A = [
  "What's the ROAS for my latest Google campaign?",
  "Show me CTR trends for last week's Meta campaigns.",
  "How much did I spend on LinkedIn ads this quarter?",
  "How much did I spend this month?",
  'revenue and roas for the "Spring Sale" campaign',
  "roas for the spring promo retargeting campaign",
  "ctr for the spring promo campaign",
  "roas for the blck fridy campaign",
  "cpa for cmp-42 yesterday",
  "what was the click-through rate for cmp-42 on 2024-04-05",
  "daily spend this month",
  "weekly revenue trend for the last 4 weeks",
  "monthly revenue trend this year",
  "daily roas for the spring sale campaign last week",
  "Compare ROAS between Google and Facebook this month",
  "conversion rate across platforms this year",
  "Google vs TikTok clicks this month",
  "How is my spend this week compared to last week?",
  "ROAS this month vs last month on Meta",
  "Which campaign had the highest ROAS this month?",
  "top 3 campaigns by spend",
  "worst 5 campaigns by ROAS in the past 14 days",
  "cheapest campaign by CPC on Google this month",
  "Which platform had the best CPA last quarter?",
  "List my campaigns",
  "which campaigns are live on fb?",
  "How did my Facebook campaigns do yesterday?",
  "How did my campaigns do this month?",
  "cpm on linkedin in february",
  "impressions, clicks and conversions on tiktok",
  "What's the weather in Paris?",
  "roas for the summer blowout campaign",
  "cpa for cmp-999",
];

async function answers(
  prompts: readonly string[],
  app: { request: (r: Request) => Response | Promise<Response> },
  key: string,
  tenant: string,
): Promise<Answer[]> {
  const cache = new CatalogIndexCache();
  const out: Answer[] = [];
  for (const prompt of prompts) {
    const client = createInProcessAnalyticsClient({
      request: (r) => Promise.resolve(app.request(r)),
      token: key,
      tenant,
      catalogCache: cache,
    });
    out.push(await answerPrompt(prompt, { client, now: NOW, timeZone: "UTC" }));
  }
  return out;
}

Deno.test("number honesty: every number in a reply is in the data beside it", async (t) => {
  const seeded = await seededApp();
  const fake = await fakeApp();
  try {
    const runs = [
      { name: "seeded, tenant A", list: await answers(PROMPTS_A, seeded.app, KEY_A, "tenant-a") },
      { name: "seeded, tenant B", list: await answers(PROMPTS_A, seeded.app, KEY_B, "tenant-b") },
      { name: "fake advertiser", list: await answers(PROMPTS_A, fake.app, KEY_A, "tenant-a") },
    ];
    let numbersChecked = 0;
    for (const run of runs) {
      await t.step(run.name, () => {
        for (const answer of run.list) {
          const bad = unsupportedNumbers(answer.reply, answer.data);
          assert.deepEqual(bad, [], `numbers not in data: ${bad.join(", ")}\n${answer.reply}`);
          numbersChecked += (answer.reply.match(NUMBER_TOKEN) ?? []).length;
        }
      });
    }
    // The check ran on real replies, not on empty ones.
    assert.ok(numbersChecked > 300, `only ${numbersChecked} number tokens were checked`);
    const kinds = new Set(runs.flatMap((run) => run.list.map((a) => a.data.kind)));
    for (
      const kind of [
        "metric",
        "trend",
        "compare_platforms",
        "compare_periods",
        "rank",
        "list_campaigns",
        "ambiguous",
        "not_found",
        "unknown",
      ]
    ) {
      assert.ok(kinds.has(kind as Outcome["kind"]), `no reply of kind ${kind} was checked`);
    }

    await t.step("the check catches a number that is not in the data", () => {
      const sample = runs[0].list.filter((a) => /\d\.\d\d/.test(a.reply)).slice(0, 8);
      assert.ok(sample.length >= 5);
      for (const answer of sample) {
        const forged = answer.reply.replace(/\d[\d,]*\.\d\d/, "7,654.31");
        assert.deepEqual(unsupportedNumbers(forged, answer.data), ["7,654.31"], forged);
        const appended = `${answer.reply} That is 13.37 better than before.`;
        assert.ok(unsupportedNumbers(appended, answer.data).includes("13.37"));
      }
    });
  } finally {
    await seeded.dispose();
    await fake.dispose();
  }
});

Deno.test("formats: money in its currency, rates as percentages, ROAS with two decimals", () => {
  assert.equal(formatMoney(1234.5, "USD"), "$1,234.50");
  assert.equal(formatMoney(1234.5, "EUR"), "€1,234.50");
  assert.equal(formatMoney(1234, "JPY"), "¥1,234");
  assert.match(formatMoney(1.234, "BHD"), /^BHD\s1\.234$/);
  assert.equal(formatPercent(0.0512), "5.12%");
  assert.equal(formatRatio(7.8249), "7.82");
  assert.equal(formatCount(1234567), "1,234,567");
  assert.equal(formatCount(4.5), "4.5");
});

Deno.test("replies: the example sentence, ambiguity, no data, unknown, errors", async (t) => {
  const { app, dispose } = await seededApp();
  try {
    const ask = async (prompt: string, key = KEY_A, tenant = "tenant-a") =>
      (await answers([prompt], app, key, tenant))[0];

    await t.step("a metric names the campaign, the period and the platform", async () => {
      const answer = await ask("What's the ROAS for my latest Google campaign?");
      assert.equal(answer.data.kind, "metric");
      assert.match(
        answer.reply,
        /^The ROAS for your latest Google campaign, Spring Sale \(cmp-42\), is \d+\.\d\d over its lifetime, 3 Mar – 23 Apr\.$/,
      );
    });

    await t.step("an ambiguous name asks which one and lists the candidates", async () => {
      const answer = await ask("ctr for the spring promo campaign");
      assert.equal(answer.data.kind, "ambiguous");
      assert.match(answer.reply, /Which one did you mean\?/);
      assert.match(answer.reply, /Spring Promo 2024 – Retargeting \(m-1, Meta\)/);
      assert.match(answer.reply, /Spring Promo 2024 – Prospecting \(m-2, Meta\)/);
    });

    await t.step("no data says so and what it looked for", async () => {
      const answer = await ask("How much did I spend on LinkedIn ads this quarter?");
      assert.equal(
        answer.reply,
        "I found no activity for your LinkedIn campaigns from 1 Apr to 24 Apr, so I have no " +
          "spend to report.",
      );
      const trend = await ask("daily ctr on linkedin last week");
      assert.match(
        trend.reply,
        /^I found no data for your LinkedIn campaigns from 15 Apr to 21 Apr/,
      );
    });

    await t.step("unknown says what it can answer, with three example questions", async () => {
      const answer = await ask("tell me a joke");
      assert.equal(answer.data.kind, "unknown");
      assert.match(answer.reply, /ad performance/);
      assert.equal(answer.reply.split("\n").filter((line) => line.startsWith('• "')).length, 3);
      assert.deepEqual(answer.data.requests, []);
    });

    await t.step("a lifetime answer says it used the lifetime; a trend says 30 days", async () => {
      const all = await ask("how much did I spend on tiktok");
      assert.match(all.reply, /over all time \(you didn't name a period\)/);
      const trend = await ask("show me the ctr trend on google");
      assert.match(trend.reply, /over the last 30 days \(25 Mar – 23 Apr\), since you didn't name/);
    });

    await t.step("several currencies are reported side by side, never summed", async () => {
      const answer = await ask("How much did I spend this month?");
      assert.match(answer.reply, /€[\d,.]+ in EUR and \$[\d,.]+ in USD/);
      assert.match(answer.reply, /never added up/);
    });

    await t.step("rankings are numbered; comparisons side by side", async () => {
      const rank = await ask("top 3 campaigns by roas this month");
      assert.match(rank.reply, /^1\. /m);
      assert.match(rank.reply, /^2\. /m);
      const compare = await ask("Compare ROAS between Google and Facebook this month");
      assert.match(compare.reply, /• Google: \d+\.\d\d/);
      assert.match(compare.reply, /• Meta: \d+\.\d\d/);
    });

    await t.step("an API error is told honestly", () => {
      const base = { requests: ["/insights"] };
      const unauthorized = formatReply({
        ...base,
        kind: "error",
        reason: "unauthorized",
        status: 401,
        message: "invalid token",
      });
      assert.match(unauthorized, /Your token can't read insights/);
      const down = formatReply({
        ...base,
        kind: "error",
        reason: "unavailable",
        status: 503,
        message: "database unavailable, retry later",
      });
      assert.match(down, /unavailable right now/);
      assert.deepEqual(unsupportedNumbers(down, { ...base, status: 503 }), []);
    });
  } finally {
    await dispose();
  }
});

Deno.test("a campaign name that matches nothing is answered as such, not with all campaigns", async () => {
  const { app, dispose } = await seededApp();
  try {
    const [answer] = await answers(
      ["ROAS of the Zebra Secret Launch campaign"],
      app,
      KEY_A,
      "tenant-a",
    );
    assert.deepEqual(answer.query.campaign, { type: "name", value: "zebra secret launch" });
    assert.equal(answer.data.kind, "not_found");
    assert.match(answer.reply, /couldn't find a campaign called "zebra secret launch"/);
    assert.doesNotMatch(answer.reply, /\d/);
  } finally {
    await dispose();
  }
});
