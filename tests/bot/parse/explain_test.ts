import assert from "node:assert/strict";
import { isDefinitionQuestion } from "../../../lib/bot/parse/explain.ts";
import { readSignals } from "../../../lib/bot/parse/parse.ts";

const NOW = new Date("2024-04-24T10:00:00Z");

function isDefinition(prompt: string): boolean {
  return isDefinitionQuestion(readSignals(prompt, { now: NOW }));
}

Deno.test("isDefinitionQuestion: what a metric means, with no reference to data", () => {
  for (
    const prompt of [
      "what is roas?",
      "what's cpc",
      "what does CPM mean",
      "how is cpa calculated?",
      "define click-through rate",
      "whats the formula for conversion rate",
      "what does roas stand for",
      "can you explain what cost per mille is",
      "what's the difference between cpm and cpc",
      "meaning of cpm",
      "what is a conversion",
    ]
  ) {
    assert.ok(isDefinition(prompt), prompt);
  }
});

Deno.test("isDefinitionQuestion: naming data (platform, campaign, date, 'my', 'the ROAS') asks for a number", () => {
  for (
    const prompt of [
      "what is the ROAS for my latest Google campaign?",
      "what is the roas",
      "what's our ctr",
      "what is ctr on linkedin",
      "what was cpc yesterday",
      "how is roas calculated for my campaigns",
      "what's roas in aud",
      "what is roas doing",
    ]
  ) {
    assert.ok(!isDefinition(prompt), prompt);
  }
});
