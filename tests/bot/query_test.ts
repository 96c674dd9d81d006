/** The bot's metric names read the KPI module's facts through the API's names. */
import assert from "node:assert/strict";
import {
  apiMetric,
  BOT_METRICS,
  isCountMetric,
  isCurrencyBound,
  isMoneyMetric,
  lowerIsBetter,
} from "../../lib/bot/query.ts";

function where(test: (metric: (typeof BOT_METRICS)[number]) => boolean): string[] {
  return BOT_METRICS.filter(test).sort();
}

Deno.test("spend is the API's cost; every other metric keeps its name", () => {
  assert.equal(apiMetric("spend"), "cost");
  for (const metric of BOT_METRICS.filter((metric) => metric !== "spend")) {
    assert.equal(apiMetric(metric), metric);
  }
});

Deno.test("money, prices, counts and currency-bound metrics", () => {
  assert.deepEqual(where(isMoneyMetric), ["cpa", "cpc", "cpm", "revenue", "spend"]);
  assert.deepEqual(where(lowerIsBetter), ["cpa", "cpc", "cpm", "spend"]);
  assert.deepEqual(where(isCountMetric), ["clicks", "conversions", "impressions"]);
  assert.deepEqual(where(isCurrencyBound), ["cpa", "cpc", "cpm", "revenue", "roas", "spend"]);
});
