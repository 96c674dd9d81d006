import assert from "node:assert/strict";
import { classifyIntent } from "../../../lib/bot/parse/intent.ts";
import { readSignals } from "../../../lib/bot/parse/parse.ts";

const NOW = new Date("2024-04-24T10:00:00Z");

function intentOf(prompt: string) {
  return classifyIntent(readSignals(prompt, { now: NOW }));
}

Deno.test("classifyIntent: each intent from its cue words", () => {
  const cases: [string, string][] = [
    ["roas on google last week", "metric"],
    ["how are my ads doing", "metric"],
    ["total revenue for google and meta", "metric"],
    ["ctr trend on meta", "trend"],
    ["daily clicks this month", "trend"],
    ["compare spend across platforms", "compare"],
    ["meta vs tiktok cpc", "compare"],
    ["spend this week vs last week", "compare"],
    ["top 3 campaigns by roas", "rank"],
    ["which platform had the lowest cpa", "rank"],
    ["which campaigns are running on linkedin", "list_campaigns"],
    ["list my campaigns", "list_campaigns"],
  ];
  for (const [prompt, intent] of cases) assert.equal(intentOf(prompt), intent, prompt);
});

Deno.test("classifyIntent: questions about anything else stay unknown", () => {
  for (
    const prompt of [
      "what's the weather tomorrow",
      "tell me a joke",
      "hello",
      "pause my meta campaign",
      "how do i improve my ctr",
    ]
  ) {
    assert.equal(intentOf(prompt), "unknown", prompt);
  }
});
