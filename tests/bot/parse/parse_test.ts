import assert from "node:assert/strict";
import { evaluateCases, normalizeCampaignValue, scoreCase } from "../../../lib/bot/evaluate.ts";
import { parsePrompt } from "../../../lib/bot/parse/parse.ts";
import { type ParsedQuery, ParsedQuerySchema } from "../../../lib/bot/query.ts";

/** The evaluation files' default "now": Wednesday 2024-04-24. */
const NOW = "2024-04-24T10:00:00Z";

function parse(prompt: string, now = NOW): ParsedQuery {
  return parsePrompt(prompt, { now: new Date(now) });
}

function range(from: string, to: string) {
  return { from, to };
}

/** Asserts the date range of `prompt` (at `now`, a calendar date at 10:00 UTC). */
function assertRange(prompt: string, from: string, to: string, nowDate = "2024-04-24") {
  assert.deepEqual(parse(prompt, `${nowDate}T10:00:00Z`).date_range, range(from, to), prompt);
}

/** Asserts the listed keys only, metrics and platforms as sets. */
function assertQuery(prompt: string, expected: Partial<ParsedQuery>, now = NOW) {
  const got = parse(prompt, now);
  const sorted = (values: readonly string[]) => [...values].sort();
  for (const [key, value] of Object.entries(expected)) {
    const actual = got[key as keyof ParsedQuery];
    if (key === "metrics" || key === "platforms") {
      assert.deepEqual(sorted(actual as string[]), sorted(value as string[]), `${prompt}: ${key}`);
    } else {
      assert.deepEqual(actual, value, `${prompt}: ${key}`);
    }
  }
}

Deno.test("labelled prompts: every case of the fixture passes", async () => {
  const text = await Deno.readTextFile(new URL("../fixtures/prompts.jsonl", import.meta.url));
  const report = evaluateCases(text);
  const failures = report.results.filter((result) => !result.passed).map((result) =>
    `${result.id}: ${result.prompt} → ${result.mismatches.join(", ")}`
  );
  assert.ok(report.total >= 60, `only ${report.total} cases`);
  assert.equal(report.passed, report.total, failures.join("\n"));
});

/** The held-out v2 set's score once the parser was improved; it must not fall. */
const HELDOUT_V2_FLOOR = 91;

Deno.test("held-out v2 set (written before the v2 parser): the score does not fall", async () => {
  const text = await Deno.readTextFile(new URL("../fixtures/heldout_v2.jsonl", import.meta.url));
  const report = evaluateCases(text);
  const failures = report.results.filter((result) => !result.passed).map((result) =>
    `${result.id}: ${result.prompt} → ${result.mismatches.join(", ")}`
  );
  assert.ok(report.total >= 60, `only ${report.total} cases`);
  assert.ok(report.passed >= HELDOUT_V2_FLOOR, failures.join("\n"));
});

Deno.test("version 2 words: yday, fortnight, number words, quarters without a year, WoW/MoM/YoY", () => {
  assertRange("spend yday", "2024-04-23", "2024-04-23");
  assertRange("clicks over the past fortnight", "2024-04-10", "2024-04-23");
  assertRange("clicks the previous 2 weeks", "2024-04-10", "2024-04-23");
  assertRange("roas in the last seven days", "2024-04-17", "2024-04-23");
  assertRange("spend in q3", "2023-07-01", "2023-09-30");
  assertRange("spend so far this month", "2024-04-01", "2024-04-24");
  assertRange("roas atm", "2024-04-24", "2024-04-24");
  assertRange("conversions dec 15 to jan 10", "2023-12-15", "2024-01-10");
  assertRange("conversions from april 1 to may 15", "2024-04-01", "2024-04-24");
  assertQuery("WoW clicks", {
    intent: "compare",
    date_range: range("2024-04-15", "2024-04-21"),
    compare_to: range("2024-04-08", "2024-04-14"),
  });
  assertQuery("spend MoM", {
    date_range: range("2024-03-01", "2024-03-31"),
    compare_to: range("2024-02-01", "2024-02-29"),
  });
  assertQuery("spend this month MoM", { compare_to: range("2024-03-01", "2024-03-24") });
  assertQuery("YoY revenue", {
    date_range: range("2024-03-01", "2024-03-31"),
    compare_to: range("2023-03-01", "2023-03-31"),
  });
  assertQuery("ctr last 30 days vs the previous period", {
    compare_to: range("2024-02-24", "2024-03-24"),
  });
  assertQuery("compare january and february spend", {
    intent: "compare",
    date_range: range("2024-01-01", "2024-01-31"),
    compare_to: range("2024-02-01", "2024-02-29"),
  });
  assertRange("what did we spend on the 5th", "2024-04-05", "2024-04-05");
  assertRange("spend on the 28th", "2024-03-28", "2024-03-28");
  assertRange("spend from the 1st to the 15th", "2024-04-01", "2024-04-15");
  assertQuery("roas over the last two weeks vs the two weeks before", {
    compare_to: range("2024-03-27", "2024-04-09"),
  });
  assertQuery("compare march to april for conversions", {
    date_range: range("2024-03-01", "2024-03-31"),
    compare_to: range("2024-04-01", "2024-04-24"),
  });
  assertQuery("revenue: dec vs jan", {
    date_range: range("2023-12-01", "2023-12-31"),
    compare_to: range("2024-01-01", "2024-01-31"),
  });
  assertQuery("which campaigns are currently running", {
    intent: "list_campaigns",
    date_range: null,
  });
});

Deno.test("version 2 rankings: bottom N, most expensive, no direction word, cost per lead", () => {
  assertQuery("bottom 3 campaigns by ctr", { intent: "rank", order: "asc", limit: 3 });
  assertQuery("most expensive campaigns", { metrics: ["spend"], order: "desc", limit: 5 });
  assertQuery("most expensive platform per conversion", {
    metrics: ["cpa"],
    group_by: "platform",
    order: "desc",
    limit: 1,
  });
  assertQuery("sort campaigns by cpc", { order: "asc", limit: 5 });
  assertQuery("rank platforms by roas", { group_by: "platform", order: "desc" });
  assertQuery("cost per lead on linkedin", { intent: "metric", metrics: ["cpa"] });
  assertQuery("top 5 ad sets by conversions", { group_by: "campaign", limit: 5 });
  assertQuery("how has ctr trended on meta", { intent: "trend", group_by: "day" });
});

Deno.test("the calendar's today follows the time zone", () => {
  const query = parsePrompt("spend yesterday", {
    now: new Date("2024-04-24T02:00:00Z"),
    timeZone: "America/Los_Angeles",
  });
  assert.deepEqual(query.date_range, range("2024-04-22", "2024-04-22"));
});

Deno.test("output always matches ParsedQuerySchema", () => {
  for (
    const prompt of [
      "",
      "   ",
      "hi",
      "spend",
      "top 3 campaigns by spend on tiktok this month",
      "ctr this week vs last week",
      'revenue for the "Spring Sale" campaign',
      "\u{1F4B8}\u{1F4B8} on fb???",
      "a".repeat(5000),
    ]
  ) {
    ParsedQuerySchema.parse(parse(prompt));
  }
});

Deno.test("dates per the documented table (now = Wednesday 2024-04-24)", async (t) => {
  await t.step("today / yesterday", () => {
    assertRange("spend today", "2024-04-24", "2024-04-24");
    assertRange("spend yesterday", "2024-04-23", "2024-04-23");
    assertRange("spend yesterday", "2024-02-29", "2024-02-29", "2024-03-01");
    assertRange("spend yesterday", "2023-12-31", "2023-12-31", "2024-01-01");
  });
  await t.step("this week / week to date", () => {
    assertRange("clicks this week", "2024-04-22", "2024-04-24");
    assertRange("clicks week to date", "2024-04-22", "2024-04-24");
    assertRange("clicks this week", "2024-04-22", "2024-04-22", "2024-04-22");
    assertRange("clicks this week", "2024-04-22", "2024-04-28", "2024-04-28");
  });
  await t.step("last week / last week's", () => {
    assertRange("clicks last week", "2024-04-15", "2024-04-21");
    assertRange("ctr for last week's campaigns", "2024-04-15", "2024-04-21");
    assertRange("clicks last week", "2024-03-25", "2024-03-31", "2024-04-01");
    assertRange("clicks last week", "2023-12-25", "2023-12-31", "2024-01-03");
  });
  await t.step("last N days / past N days", () => {
    assertRange("clicks last 7 days", "2024-04-17", "2024-04-23");
    assertRange("clicks in the past 30 days", "2024-03-25", "2024-04-23");
    assertRange("clicks last seven days", "2024-04-17", "2024-04-23");
    assertRange("clicks last 7 days", "2024-02-25", "2024-03-02", "2024-03-03");
    assertRange("clicks l7d", "2024-04-17", "2024-04-23");
  });
  await t.step("past week, the last week, over the last week (rolling)", () => {
    assertRange("spend past week", "2024-04-17", "2024-04-23");
    assertRange("spend for the last week", "2024-04-17", "2024-04-23");
    assertRange("spend over the last week", "2024-04-17", "2024-04-23");
    assertRange("spend this past week", "2024-04-17", "2024-04-23");
  });
  await t.step("last N weeks", () => {
    assertRange("ctr last 4 weeks", "2024-03-27", "2024-04-23");
    assertRange("ctr past two weeks", "2024-04-10", "2024-04-23");
  });
  await t.step("this month / MTD", () => {
    assertRange("spend this month", "2024-04-01", "2024-04-24");
    assertRange("spend MTD", "2024-04-01", "2024-04-24");
    assertRange("spend month to date", "2024-04-01", "2024-04-24");
    assertRange("spend this month", "2024-04-01", "2024-04-01", "2024-04-01");
  });
  await t.step("last month", () => {
    assertRange("spend last month", "2024-03-01", "2024-03-31");
    assertRange("spend last month", "2024-02-01", "2024-02-29", "2024-03-15");
    assertRange("spend last month", "2023-12-01", "2023-12-31", "2024-01-10");
  });
  await t.step("last N months", () => {
    assertRange("spend last 3 months", "2024-01-01", "2024-03-31");
    assertRange("spend last 3 months", "2023-11-01", "2024-01-31", "2024-02-10");
    assertRange("spend past 6 months", "2023-10-01", "2024-03-31");
  });
  await t.step("this quarter / QTD", () => {
    assertRange("spend this quarter", "2024-04-01", "2024-04-24");
    assertRange("spend QTD", "2024-04-01", "2024-04-24");
    assertRange("spend this quarter", "2024-01-01", "2024-03-31", "2024-03-31");
  });
  await t.step("last quarter", () => {
    assertRange("spend last quarter", "2024-01-01", "2024-03-31");
    assertRange("spend last quarter", "2023-10-01", "2023-12-31", "2024-02-15");
  });
  await t.step("Q1..Q4 [YYYY]: whole quarter, or up to today while it runs", () => {
    assertRange("cpm in Q1", "2024-01-01", "2024-03-31");
    assertRange("cpm in Q2", "2024-04-01", "2024-04-24");
    assertRange("cpm in Q3", "2023-07-01", "2023-09-30");
    assertRange("cpm in Q4 2023", "2023-10-01", "2023-12-31");
    assertRange("cpm q2 2023", "2023-04-01", "2023-06-30");
    assertRange("cpm in the first quarter", "2024-01-01", "2024-03-31");
  });
  await t.step("this year / YTD / last year", () => {
    assertRange("revenue this year", "2024-01-01", "2024-04-24");
    assertRange("revenue YTD", "2024-01-01", "2024-04-24");
    assertRange("revenue last year", "2023-01-01", "2023-12-31");
    assertRange("revenue in 2023", "2023-01-01", "2023-12-31");
    assertRange("revenue last year", "2023-01-01", "2023-12-31", "2024-01-01");
  });
  await t.step("in March: the latest March that has begun", () => {
    assertRange("impressions in March", "2024-03-01", "2024-03-31");
    assertRange("impressions in March", "2023-03-01", "2023-03-31", "2024-02-10");
    assertRange("impressions in March", "2024-03-01", "2024-03-10", "2024-03-10");
    assertRange("impressions March 2023", "2023-03-01", "2023-03-31");
    assertRange("impressions in february", "2024-02-01", "2024-02-29");
    assertRange("spend in may", "2023-05-01", "2023-05-31");
  });
  await t.step("since April 1", () => {
    assertRange("conversions since April 1", "2024-04-01", "2024-04-24");
    assertRange("conversions since april 1st", "2024-04-01", "2024-04-24");
    assertRange("conversions since April 1", "2023-04-01", "2024-03-10", "2024-03-10");
    assertRange("conversions since march", "2024-03-01", "2024-04-24");
    assertRange("conversions since last week", "2024-04-15", "2024-04-24");
  });
  await t.step("from/between X to/and Y", () => {
    assertRange("cpa between April 1 and April 20", "2024-04-01", "2024-04-20");
    assertRange("cpa from March 28 to April 2", "2024-03-28", "2024-04-02");
    assertRange("cpa from 2024-03-01 to 2024-03-15", "2024-03-01", "2024-03-15");
    assertRange("cpa april 1-20", "2024-04-01", "2024-04-20");
    assertRange("cpa from Dec 20 to Jan 5", "2023-12-20", "2024-01-05");
    assertRange("cpa between 1 March and 15 March", "2024-03-01", "2024-03-15");
    assertRange("cpa from 4/1 to 4/10", "2024-04-01", "2024-04-10");
  });
  await t.step("on April 5 / 2024-04-05", () => {
    assertRange("ctr on April 5", "2024-04-05", "2024-04-05");
    assertRange("ctr on 2024-04-05", "2024-04-05", "2024-04-05");
    assertRange("ctr on the 5th of april", "2024-04-05", "2024-04-05");
    assertRange("ctr on 4/5", "2024-04-05", "2024-04-05");
    assertRange("ctr on December 25", "2023-12-25", "2023-12-25");
  });
  await t.step("recently, lately", () => {
    assertRange("how is ctr recently", "2024-04-17", "2024-04-23");
    assertRange("spend lately", "2024-04-17", "2024-04-23");
  });
  await t.step("no time said → null", () => {
    assert.equal(parse("roas for google").date_range, null);
    assert.equal(parse("roas for my latest google campaign").date_range, null);
  });
  await t.step("other everyday expressions", () => {
    assertRange("spend the day before yesterday", "2024-04-22", "2024-04-22");
    assertRange("spend 3 days ago", "2024-04-21", "2024-04-21");
    assertRange("clicks last monday", "2024-04-22", "2024-04-22");
    assertRange("clicks over the weekend", "2024-04-20", "2024-04-21");
    assertRange("revenue H1 2023", "2023-01-01", "2023-06-30");
    assertRange("spend since the start of the month", "2024-04-01", "2024-04-24");
    assertRange("spend since monday", "2024-04-22", "2024-04-24");
    assertRange("spend 2 weeks ago", "2024-04-08", "2024-04-14");
    assertRange("spend for the week of april 8", "2024-04-08", "2024-04-14");
    assertRange("spend in the first week of april", "2024-04-01", "2024-04-07");
    assertRange("clicks yesterday and today", "2024-04-23", "2024-04-24");
    assertRange("clicks last 2 wks", "2024-04-10", "2024-04-23");
  });
  await t.step("the time zone decides which day is today", () => {
    const late = new Date("2024-04-24T23:30:00Z");
    assert.deepEqual(
      parsePrompt("spend today", { now: late, timeZone: "Asia/Tokyo" }).date_range,
      range("2024-04-25", "2024-04-25"),
    );
    assert.deepEqual(
      parsePrompt("spend today", { now: late }).date_range,
      range("2024-04-24", "2024-04-24"),
    );
    assert.deepEqual(
      parsePrompt("spend this week", {
        now: new Date("2024-04-22T02:30:00Z"),
        timeZone: "America/Los_Angeles",
      }).date_range,
      range("2024-04-15", "2024-04-21"),
    );
  });
});

Deno.test("aliases", async (t) => {
  await t.step("platforms", () => {
    const cases: [string, string][] = [
      ["Meta", "meta"],
      ["Facebook", "meta"],
      ["FB", "meta"],
      ["Instagram", "meta"],
      ["IG", "meta"],
      ["Insta", "meta"],
      ["Google", "google"],
      ["Google Ads", "google"],
      ["AdWords", "google"],
      ["YouTube", "google"],
      ["LinkedIn", "linkedin"],
      ["Linked In", "linkedin"],
      ["TikTok", "tiktok"],
      ["Tik Tok", "tiktok"],
      ["tik-tok", "tiktok"],
    ];
    for (const [alias, platform] of cases) {
      assertQuery(`clicks on ${alias} yesterday`, { platforms: [platform] as never });
    }
  });
  await t.step("metrics", () => {
    const cases: [string, string][] = [
      ["return on ad spend", "roas"],
      ["click-through rate", "ctr"],
      ["click through rate", "ctr"],
      ["cost per acquisition", "cpa"],
      ["cost per conversion", "cpa"],
      ["cost per action", "cpa"],
      ["cost per lead", "cpa"],
      ["cost per click", "cpc"],
      ["cost per thousand impressions", "cpm"],
      ["conversion rate", "cvr"],
      ["spend", "spend"],
      ["ad spend", "spend"],
      ["cost", "spend"],
      ["revenue", "revenue"],
      ["sales", "revenue"],
      ["conversion value", "revenue"],
      ["conversions", "conversions"],
      ["purchases", "conversions"],
      ["leads", "conversions"],
      ["sign-ups", "conversions"],
      ["impressions", "impressions"],
      ["clicks", "clicks"],
      ["ROAS", "roas"],
      ["CPM", "cpm"],
      ["CVR", "cvr"],
    ];
    for (const [alias, metric] of cases) {
      assertQuery(`${alias} on meta last month`, { metrics: [metric] as never });
    }
  });
  await t.step("'cost' is spend but 'cost per click' is cpc; 'ads' is no metric", () => {
    assertQuery("how much did linkedin cost us last month", { metrics: ["spend"] });
    assertQuery("what did a click cost on google", { metrics: ["cpc"] });
    assertQuery("my ads on tiktok yesterday", { metrics: [] });
  });
  await t.step("ordinary words are not platforms", () => {
    assertQuery("what is the price of metal", { intent: "unknown" });
    assertQuery("roas for the metal campaign", { platforms: [] });
  });
});

Deno.test("typos, slang and word order", async (t) => {
  await t.step("misspelled platforms and metrics", () => {
    assertQuery("spend on linkdin yesterday", { platforms: ["linkedin"], metrics: ["spend"] });
    assertQuery("retrun on ad spend for facebok", { platforms: ["meta"], metrics: ["roas"] });
    assertQuery("tiktk clicks last week", { platforms: ["tiktok"], metrics: ["clicks"] });
    assertQuery("impresions on youtub", { platforms: ["google"], metrics: ["impressions"] });
    assertQuery("convertions on gogle", { platforms: ["google"], metrics: ["conversions"] });
    assertQuery("clcik through rate for instgram", { platforms: ["meta"], metrics: ["ctr"] });
    assertQuery("revnue on meta", { metrics: ["revenue"] });
  });
  await t.step("cpc and cpm stay apart", () => {
    assertQuery("cpc on google", { metrics: ["cpc"] });
    assertQuery("cpm on google", { metrics: ["cpm"] });
  });
  await t.step("slang", () => {
    assertQuery("how'd my fb ads do last week", {
      intent: "metric",
      metrics: [],
      platforms: ["meta"],
      date_range: range("2024-04-15", "2024-04-21"),
    });
    assertQuery("what did we spend on insta", { metrics: ["spend"], platforms: ["meta"] });
    assertQuery("how much $$ did we blow on tiktok this month", {
      intent: "metric",
      metrics: ["spend"],
      platforms: ["tiktok"],
    });
    assertQuery("how much did we make last week", { metrics: ["revenue"] });
    assertQuery("what's the damage on meta this month", { metrics: ["spend"] });
  });
  await t.step("word order does not matter", () => {
    const expected = {
      intent: "metric" as const,
      metrics: ["cpa" as const],
      platforms: ["meta" as const],
      date_range: range("2024-04-23", "2024-04-23"),
    };
    assertQuery("cpa meta yesterday", expected);
    assertQuery("yesterday's cpa on meta", expected);
    assertQuery("meta: yesterday, cpa?", expected);
  });
  await t.step("several metrics at once", () => {
    assertQuery("ctr, cpc and cpm for meta last 30 days", { metrics: ["ctr", "cpc", "cpm"] });
    assertQuery("revenue & roas & spend on google", { metrics: ["revenue", "roas", "spend"] });
    assertQuery("clicks/impressions on linkedin", {
      intent: "metric",
      metrics: ["clicks", "impressions"],
    });
  });
});

Deno.test("intents", async (t) => {
  await t.step("metric", () => {
    assertQuery("What's the ROAS for my latest Google campaign?", { intent: "metric" });
    assertQuery("How are my Instagram ads performing?", { intent: "metric", metrics: [] });
    assertQuery("how did we do yesterday", { intent: "metric" });
  });
  await t.step("trend: day unless weekly or monthly is said", () => {
    assertQuery("Show me CTR trends on meta", { intent: "trend", group_by: "day" });
    assertQuery("daily spend on tiktok", { intent: "trend", group_by: "day" });
    assertQuery("weekly ctr trend", { intent: "trend", group_by: "week" });
    assertQuery("cpa by week this quarter", { intent: "trend", group_by: "week" });
    assertQuery("monthly revenue this year", { intent: "trend", group_by: "month" });
    assertQuery("how has ctr changed over time", { intent: "trend", group_by: "day" });
  });
  await t.step("compare across platforms", () => {
    assertQuery("Compare ROAS between Google and Facebook last month", {
      intent: "compare",
      platforms: ["google", "meta"],
      group_by: "platform",
      compare_to: null,
    });
    assertQuery("Google vs TikTok clicks", { intent: "compare", group_by: "platform" });
    assertQuery("conversion rate across platforms", {
      intent: "compare",
      platforms: [],
      group_by: "platform",
    });
    assertQuery("spend by platform this month", { intent: "compare", group_by: "platform" });
    assertQuery("which is better for ctr, google or meta?", {
      intent: "compare",
      platforms: ["google", "meta"],
      group_by: "platform",
    });
  });
  await t.step("compare across periods", () => {
    assertQuery("How is my spend this week compared to last week?", {
      intent: "compare",
      date_range: range("2024-04-22", "2024-04-24"),
      compare_to: range("2024-04-15", "2024-04-21"),
      group_by: null,
    });
    assertQuery("ROAS this month vs last month on Meta", {
      intent: "compare",
      platforms: ["meta"],
      date_range: range("2024-04-01", "2024-04-24"),
      compare_to: range("2024-03-01", "2024-03-31"),
      group_by: null,
    });
    assertQuery("cpa last 7 days vs the previous 7 days", {
      intent: "compare",
      date_range: range("2024-04-17", "2024-04-23"),
      compare_to: range("2024-04-10", "2024-04-16"),
    });
    assertQuery("revenue last month compared to the month before", {
      intent: "compare",
      date_range: range("2024-03-01", "2024-03-31"),
      compare_to: range("2024-02-01", "2024-02-29"),
    });
    assertQuery("spend this month vs same period last year", {
      intent: "compare",
      compare_to: range("2023-04-01", "2023-04-24"),
    });
    assertQuery("linkedin leads this week vs last", {
      intent: "compare",
      date_range: range("2024-04-22", "2024-04-24"),
      compare_to: range("2024-04-15", "2024-04-21"),
    });
    assertQuery("roas vs last month", {
      intent: "compare",
      date_range: range("2024-04-01", "2024-04-24"),
      compare_to: range("2024-03-01", "2024-03-31"),
    });
    assertQuery("Compare last week and this week", {
      intent: "compare",
      date_range: range("2024-04-15", "2024-04-21"),
      compare_to: range("2024-04-22", "2024-04-24"),
    });
    assertQuery("spend week over week", {
      intent: "compare",
      date_range: range("2024-04-15", "2024-04-21"),
      compare_to: range("2024-04-08", "2024-04-14"),
    });
  });
  await t.step("totals and averages are one number; 'by platform' still breaks down", () => {
    assertQuery("total ad spend across all platforms last month", {
      intent: "metric",
      platforms: [],
    });
    assertQuery("What's the average CPC across all campaigns?", { intent: "metric" });
    assertQuery("whats the avg daily spend", { intent: "metric" });
    assertQuery("total spend by platform", { intent: "compare", group_by: "platform" });
    assertQuery("ctr by campaign last week", { intent: "compare", group_by: "campaign" });
  });
  await t.step("metrics side by side are one query, not a comparison", () => {
    assertQuery("clicks vs impressions for linkedin", {
      intent: "metric",
      metrics: ["clicks", "impressions"],
    });
  });
  await t.step("list_campaigns", () => {
    assertQuery("List my LinkedIn campaigns", { intent: "list_campaigns" });
    assertQuery("show me all campaigns running on tik tok", {
      intent: "list_campaigns",
      platforms: ["tiktok"],
    });
    assertQuery("which campaigns are live on fb?", { intent: "list_campaigns" });
    assertQuery("what are we running on linkedin", { intent: "list_campaigns" });
    assertQuery("how many campaigns are active", { intent: "list_campaigns" });
    assertQuery("How did my Facebook campaigns do yesterday?", { intent: "metric" });
  });
  await t.step("unknown: greetings, jokes, weather, off-topic", () => {
    for (
      const prompt of [
        "hi there",
        "hello",
        "good morning!",
        "thanks!",
        "tell me a joke",
        "tell me a joke about facebook",
        "What's the weather in Paris?",
        "will it rain tomorrow",
        "what's the capital of france",
        "who won the game last night",
        "what time is it",
        "who are you",
        "write me a poem",
        "facebook stock price",
        "how do I reset my password",
        "how do I create a facebook ad",
        "pause the spring sale campaign",
        "can you create a new tiktok campaign",
        "write an ad for my facebook campaign",
      ]
    ) {
      assert.equal(parse(prompt).intent, "unknown", prompt);
    }
  });
});

Deno.test("rank: direction, entity and limit", async (t) => {
  await t.step("highest/top/most → desc, lowest/least/cheapest → asc", () => {
    assertQuery("Which campaign had the highest ROAS last month?", {
      intent: "rank",
      group_by: "campaign",
      order: "desc",
      limit: 1,
    });
    assertQuery("campaign with the most clicks", { order: "desc" });
    assertQuery("campaign with the least clicks", { order: "asc" });
    assertQuery("cheapest campaign by CPC on Google", { order: "asc", metrics: ["cpc"] });
    assertQuery("lowest ctr campaign", { order: "asc" });
    assertQuery("top 3 campaigns by cpa", { order: "desc", limit: 3 });
  });
  await t.step("best/worst follow the metric's direction", () => {
    assertQuery("best campaign by roas", { order: "desc" });
    assertQuery("best campaign by ctr", { order: "desc" });
    assertQuery("best campaign by conversions", { order: "desc" });
    assertQuery("best campaign by cpa", { order: "asc" });
    assertQuery("best campaign by cpc", { order: "asc" });
    assertQuery("best campaign by cpm", { order: "asc" });
    assertQuery("worst campaign by roas", { order: "asc" });
    assertQuery("worst campaign by cpa", { order: "desc" });
    assertQuery("Which platform had the best CPA last quarter?", {
      group_by: "platform",
      platforms: [],
      order: "asc",
      limit: 1,
    });
  });
  await t.step("cheap or expensive counts become cost-per metrics", () => {
    assertQuery("which platform has the cheapest clicks", {
      intent: "rank",
      metrics: ["cpc"],
      group_by: "platform",
      order: "asc",
    });
    assertQuery("most expensive conversions by campaign", { metrics: ["cpa"], order: "desc" });
  });
  await t.step("limits: number said, singular → 1, plural → 5", () => {
    assertQuery("top 3 campaigns by spend on tiktok", { limit: 3 });
    assertQuery("top three campaigns by spend", { limit: 3 });
    assertQuery("worst 5 campaigns by ROAS", { limit: 5, order: "asc" });
    assertQuery("show me the 10 best campaigns by clicks", { limit: 10 });
    assertQuery("which campaign spent the most", { limit: 1 });
    assertQuery("which campaigns spent the most", { limit: 5 });
    assertQuery("top campaigns by revenue", { limit: 5 });
    assertQuery("rank platforms by roas", { group_by: "platform", limit: 5 });
    assertQuery("where is my cpc lowest", { group_by: "platform", limit: 1, order: "asc" });
  });
  await t.step("'which … did well / badly' ranks", () => {
    assertQuery("which campaigns performed well last week", { intent: "rank", order: "desc" });
    assertQuery("which campaigns are underperforming?", { intent: "rank", order: "asc", limit: 5 });
    assertQuery("Which ad platform brings in the most revenue?", { group_by: "platform" });
  });
});

Deno.test("campaign references", async (t) => {
  await t.step("ids", () => {
    assertQuery("cpa for cmp-42 yesterday", { campaign: { type: "id", value: "cmp-42" } });
    assertQuery("cpa for CMP-42", { campaign: { type: "id", value: "cmp-42" } });
    assertQuery("roas of campaign 23851234567", {
      campaign: { type: "id", value: "23851234567" },
    });
    assertQuery("clicks for 123456", { campaign: { type: "id", value: "123456" } });
    assertQuery("top-3 campaigns", { campaign: null, limit: 3 });
    assertQuery("clicks for 12345", { campaign: null });
  });
  await t.step("latest / newest / most recent", () => {
    for (
      const prompt of [
        "roas for my latest google campaign",
        "ctr for my newest tiktok campaign",
        "spend on the most recent campaign",
        "cpa of the last-launched campaign",
        "how is my last campaign doing",
      ]
    ) {
      assertQuery(prompt, { campaign: { type: "latest" } });
    }
    assertQuery("ctr for last week's campaigns", { campaign: null });
  });
  await t.step("quoted names and 'the <words> campaign'", () => {
    assertQuery('revenue and roas for the "Spring Sale" campaign', {
      campaign: { type: "name", value: "spring sale" },
      metrics: ["revenue", "roas"],
    });
    assertQuery("spend on 'Black Friday 2023'", {
      campaign: { type: "name", value: "black friday 2023" },
      date_range: null,
    });
    assertQuery("how is the black friday campaign doing", {
      campaign: { type: "name", value: "black friday" },
      date_range: null,
    });
    assertQuery("ctr of the summer 2024 promo campaign", {
      campaign: { type: "name", value: "summer 2024 promo" },
      date_range: null,
    });
    assertQuery("what are the numbers on the Mother's Day campaign", {
      campaign: { type: "name", value: "mother's day" },
    });
    assertQuery("spend on the google retargeting campaign", {
      campaign: { type: "name", value: "retargeting" },
      platforms: ["google"],
    });
  });
  await t.step("platform, metric or date words are not names", () => {
    assertQuery("roas of the tiktok campaign", { campaign: null });
    assertQuery("which campaign had the highest roas", { campaign: null });
    assertQuery("the last week campaign spend", { campaign: null });
  });
  await t.step("plural campaigns or ads → null", () => {
    assertQuery("How did my Facebook campaigns do yesterday?", { campaign: null });
    assertQuery("Show CTR for my ads", { campaign: null });
  });
});

Deno.test("evaluate: only expected keys count, sets and names normalized", () => {
  const got = parse('roas and revenue for the "Spring Sale!" campaign on fb and google');
  assert.deepEqual(scoreCase({ metrics: ["revenue", "roas"] }, got), []);
  assert.deepEqual(scoreCase({ platforms: ["google", "meta"] }, got), []);
  assert.deepEqual(scoreCase({ campaign: { type: "name", value: "'Spring Sale'" } }, got), []);
  assert.deepEqual(scoreCase({ intent: "metric", limit: 3 }, got), ["limit"]);
  assert.equal(normalizeCampaignValue("“Spring – Sale!”"), "spring sale");

  const report = evaluateCases(
    [
      '{"id":"a","prompt":"spend today","expect":{"date_range":{"from":"2024-04-24","to":"2024-04-24"}}}',
      "",
      '{"id":"b","prompt":"spend today","now":"2024-01-02T10:00:00Z","expect":{"date_range":{"from":"2024-04-24","to":"2024-04-24"}}}',
      "not json",
    ].join("\n"),
  );
  assert.equal(report.total, 3);
  assert.equal(report.passed, 1);
  assert.deepEqual(report.results.map((result) => result.passed), [true, false, false]);
  assert.deepEqual(report.results[2].mismatches, ["line"]);
});
