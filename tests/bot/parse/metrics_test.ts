import assert from "node:assert/strict";
import { MaskedText } from "../../../lib/bot/parse/masked_text.ts";
import { extractMetrics } from "../../../lib/bot/parse/metrics.ts";
import { normalizeWords } from "../../../lib/bot/parse/text.ts";

function metrics(prompt: string) {
  return extractMetrics(new MaskedText(normalizeWords(prompt.toLowerCase())));
}

Deno.test("extractMetrics: canonical names and their synonyms", () => {
  assert.deepEqual(metrics("return on ad spend"), ["roas"]);
  assert.deepEqual(metrics("click-through rate"), ["ctr"]);
  assert.deepEqual(metrics("cost per acquisition"), ["cpa"]);
  assert.deepEqual(metrics("cost per conversion"), ["cpa"]);
  assert.deepEqual(metrics("cost per click"), ["cpc"]);
  assert.deepEqual(metrics("cost per thousand impressions"), ["cpm"]);
  assert.deepEqual(metrics("conversion rate"), ["cvr"]);
  assert.deepEqual(metrics("ad spend"), ["spend"]);
  assert.deepEqual(metrics("conversion value"), ["revenue"]);
  assert.deepEqual(metrics("sign-ups and purchases"), ["conversions"]);
});

Deno.test("extractMetrics: several in the order said; implied and priced metrics", () => {
  assert.deepEqual(metrics("clicks and impressions and ctr"), ["clicks", "impressions", "ctr"]);
  assert.deepEqual(metrics("how much did we make"), ["revenue"]);
  assert.deepEqual(metrics("how much did we pay"), ["spend"]);
  assert.deepEqual(metrics("cheapest clicks"), ["cpc"]);
  assert.deepEqual(metrics("most expensive campaign"), ["spend"]);
  assert.deepEqual(metrics("my ads on tiktok"), []);
});
