import assert from "node:assert/strict";
import { isFollowUp } from "../../../lib/bot/parse/follow_up.ts";
import { parsePrompt, readSignals } from "../../../lib/bot/parse/parse.ts";
import type { ParsedQuery } from "../../../lib/bot/query.ts";

const NOW = new Date("2024-04-24T10:00:00Z");
const LAST_WEEK = { from: "2024-04-15", to: "2024-04-21" };
const THIS_MONTH = { from: "2024-04-01", to: "2024-04-24" };

const roasOnGoogleLastWeek: ParsedQuery = {
  intent: "metric",
  metrics: ["roas"],
  platforms: ["google"],
  date_range: LAST_WEEK,
  compare_to: null,
  campaign: null,
  group_by: null,
  order: null,
  limit: null,
  currency: null,
};
const cheapestCpaCampaigns: ParsedQuery = {
  ...roasOnGoogleLastWeek,
  intent: "rank",
  metrics: ["cpa"],
  platforms: [],
  date_range: THIS_MONTH,
  group_by: "campaign",
  order: "asc",
  limit: 3,
};

function followUp(prompt: string, previous: ParsedQuery = roasOnGoogleLastWeek): ParsedQuery {
  return parsePrompt(prompt, { now: NOW, previous });
}

Deno.test("isFollowUp: an opening follow-up word, or nothing but slot words", () => {
  const yes = [
    "and for meta?",
    "what about last month",
    "same for cmp-7",
    "only tiktok",
    "by week pls",
    "now as a trend",
    "top 3 instead",
    "in euros?",
    "roas",
    "vs the week before",
  ];
  const no = [
    "how many clicks did linkedin get yesterday?",
    "list my campaigns",
    "which campaign had the best roas",
    "thanks!",
    "and?",
  ];
  for (const prompt of yes) assert.ok(isFollowUp(readSignals(prompt, { now: NOW })), prompt);
  for (const prompt of no) assert.ok(!isFollowUp(readSignals(prompt, { now: NOW })), prompt);
});

Deno.test("a follow-up replaces the slots it names and keeps the rest", () => {
  assert.deepEqual(followUp("and for meta?"), { ...roasOnGoogleLastWeek, platforms: ["meta"] });
  assert.deepEqual(followUp("what about last month").date_range, {
    from: "2024-03-01",
    to: "2024-03-31",
  });
  assert.deepEqual(followUp("same for cmp-7").campaign, { type: "id", value: "cmp-7" });
  assert.equal(followUp("in gbp").currency, "GBP");
  assert.deepEqual(followUp("what about ctr").metrics, ["ctr"]);
});

Deno.test("'and'/'also'/'plus' add a metric; 'also'/'too' add a platform", () => {
  assert.deepEqual(followUp("and cpc").metrics, ["roas", "cpc"]);
  assert.deepEqual(followUp("and revenue", { ...roasOnGoogleLastWeek, metrics: [] }).metrics, [
    "revenue",
  ]);
  assert.deepEqual(followUp("also tiktok").platforms, ["google", "tiktok"]);
  assert.deepEqual(followUp("meta too").platforms, ["google", "meta"]);
  assert.deepEqual(followUp("just instagram").platforms, ["meta"]);
});

Deno.test("groupings: by week → trend; by platform → compare; by campaign → rank", () => {
  const weekly = followUp("by week");
  assert.equal(weekly.intent, "trend");
  assert.equal(weekly.group_by, "week");
  assert.equal(followUp("now as a trend").group_by, "day");
  const byPlatform = followUp("break that down by platform");
  assert.equal(byPlatform.intent, "compare");
  assert.equal(byPlatform.group_by, "platform");
  const byCampaign = followUp("now by campaign");
  assert.deepEqual(
    [byCampaign.intent, byCampaign.group_by, byCampaign.order, byCampaign.limit],
    ["rank", "campaign", "desc", 5],
  );
  assert.equal(followUp("by platform", cheapestCpaCampaigns).intent, "rank");
});

Deno.test("rankings: top/bottom N change the limit and order; best stays best on a new metric", () => {
  const bottom = followUp("bottom 2", cheapestCpaCampaigns);
  assert.deepEqual([bottom.order, bottom.limit], ["desc", 2]);
  const more = followUp("10 instead", cheapestCpaCampaigns);
  assert.deepEqual([more.order, more.limit], ["asc", 10]);
  const roas = followUp("what about roas?", cheapestCpaCampaigns);
  assert.deepEqual([roas.metrics, roas.order], [["roas"], "desc"]);
  const top = followUp("top 3");
  assert.deepEqual([top.intent, top.group_by, top.order, top.limit], [
    "rank",
    "campaign",
    "desc",
    3,
  ]);
});

Deno.test("comparisons with the period before", () => {
  const previous = followUp("compare with the previous period");
  assert.equal(previous.intent, "compare");
  assert.deepEqual(previous.compare_to, { from: "2024-04-08", to: "2024-04-14" });
  // "the month before" a range that is not a whole month: the period of equal length.
  assert.deepEqual(followUp("vs the month before").compare_to, {
    from: "2024-04-08",
    to: "2024-04-14",
  });
  const month = followUp("vs the month before", {
    ...roasOnGoogleLastWeek,
    date_range: { from: "2024-03-01", to: "2024-03-31" },
  });
  assert.deepEqual(month.compare_to, { from: "2024-02-01", to: "2024-02-29" });
  const noRange = followUp("compare with the previous period", {
    ...roasOnGoogleLastWeek,
    date_range: null,
  });
  assert.deepEqual([noRange.intent, noRange.date_range, noRange.compare_to], [
    "compare",
    null,
    null,
  ]);
  // A new range in a period comparison brings its own previous period.
  const compared = followUp("what about last week?", {
    ...roasOnGoogleLastWeek,
    intent: "compare",
    date_range: THIS_MONTH,
    compare_to: { from: "2024-03-01", to: "2024-03-31" },
  });
  assert.deepEqual(compared.compare_to, { from: "2024-04-08", to: "2024-04-14" });
  assert.deepEqual(followUp("vs last month").compare_to, { from: "2024-03-01", to: "2024-03-31" });
});

Deno.test("a whole question, a definition or an off-topic message ignores previous", () => {
  const whole = followUp("how many clicks did linkedin get yesterday?");
  assert.deepEqual([whole.metrics, whole.platforms], [["clicks"], ["linkedin"]]);
  assert.equal(followUp("and what is cpm?").intent, "explain");
  assert.equal(followUp("what's the weather like").intent, "unknown");
  assert.equal(followUp("whats the exchange rate for eur").intent, "unknown");
});

Deno.test("without previous, a bare follow-up parses on its own terms", () => {
  const query = parsePrompt("and for meta?", { now: NOW });
  assert.deepEqual([query.intent, query.platforms, query.metrics], ["metric", ["meta"], []]);
});
