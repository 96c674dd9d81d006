import assert from "node:assert/strict";
import { computeMetrics, minorUnitDigits, presentTotals, ratio, roundMoney } from "../lib/kpi.ts";
import {
  compareDecimals,
  decimalToUnits,
  normalizeDecimal,
  roundDecimal,
  sumDecimals,
  unitsToDecimal,
} from "../lib/decimal.ts";
import { MetricRowSchema, validateRows } from "../lib/schema.ts";

Deno.test("computeMetrics: each KPI is the documented ratio of sums", () => {
  const metrics = computeMetrics({
    impressions: 10_000,
    clicks: 200,
    conversions: "10",
    cost: "50.00",
    revenue: "250.00",
  });
  assert.deepEqual(metrics, {
    ctr: 0.02,
    roas: 5,
    cpa: 5,
    cpc: 0.25,
    cpm: 5,
    cvr: 0.05,
  });
});

Deno.test("computeMetrics: zero denominators give null, never NaN or Infinity", () => {
  const metrics = computeMetrics({
    impressions: 0,
    clicks: 0,
    conversions: "0",
    cost: "0",
    revenue: "12.50",
  });
  assert.deepEqual(metrics, { ctr: null, roas: null, cpa: null, cpc: null, cpm: null, cvr: null });
  assert.equal(ratio(0, 5), 0);
  assert.equal(ratio("5", "0.00"), null);
});

Deno.test("computeMetrics: 10^12 impressions stay exact enough for every ratio", () => {
  const metrics = computeMetrics({
    impressions: "1000000000000",
    clicks: "12345678901",
    conversions: "123456.5",
    cost: "98765432.10",
    revenue: "123456789.01",
  });
  assert.equal(metrics.ctr, 12345678901 / 1e12);
  assert.equal(metrics.cpm, (98765432.10 / 1e12) * 1000);
  assert.ok(Math.abs(metrics.roas! - 1.25) < 1e-6);
});

Deno.test("computeMetrics: fractional conversions (Google data-driven attribution)", () => {
  const metrics = computeMetrics({
    impressions: 1000,
    clicks: 40,
    conversions: "2.5",
    cost: "10.00",
    revenue: "0",
  });
  assert.equal(metrics.cpa, 4);
  assert.equal(metrics.cvr, 0.0625);
  assert.equal(metrics.roas, 0);
});

Deno.test("ratios of sums differ from averages of per-row ratios", () => {
  // Row A: 1 click of 10 impressions (10%); row B: 1 of 1000 (0.1%).
  const totals = computeMetrics({
    impressions: 1010,
    clicks: 2,
    conversions: "0",
    cost: "0",
    revenue: "0",
  });
  assert.equal(totals.ctr, 2 / 1010);
  assert.notEqual(totals.ctr, (0.1 + 0.001) / 2);
});

Deno.test("decimal: 100,000 rows of 0.10 sum to exactly 10000.00", () => {
  const amounts = Array.from({ length: 100_000 }, () => "0.10");
  assert.equal(sumDecimals(amounts), "10000.00");
  let float = 0;
  for (let i = 0; i < 100_000; i++) float += 0.1;
  assert.notEqual(float, 10000, "floats drift: this is why sums are exact");
});

Deno.test("decimal: rounding, units and comparison", () => {
  assert.equal(roundDecimal("2.345", 2), "2.35");
  assert.equal(roundDecimal("2.344999", 2), "2.34");
  assert.equal(roundDecimal("-2.345", 2), "-2.35");
  assert.equal(roundDecimal("7", 2), "7.00");
  assert.equal(roundDecimal("0.5", 0), "1");
  assert.equal(unitsToDecimal("1234567", 6), "1.234567");
  assert.equal(unitsToDecimal(5n, 6), "0.000005");
  assert.equal(unitsToDecimal("-5", 2), "-0.05");
  assert.equal(decimalToUnits("12.345", 2), 1235n);
  assert.equal(normalizeDecimal("12.500"), "12.5");
  assert.equal(normalizeDecimal("3.000"), "3");
  assert.equal(compareDecimals("10.0", "9.99"), 1);
  assert.equal(compareDecimals("1.10", "1.1"), 0);
});

Deno.test("money rounds to the currency's minor unit from Intl", () => {
  assert.equal(minorUnitDigits("USD"), 2);
  assert.equal(minorUnitDigits("JPY"), 0);
  assert.equal(minorUnitDigits("BHD"), 3);
  assert.equal(roundMoney("10.005", "USD"), 10.01);
  assert.equal(roundMoney("1234.5", "JPY"), 1235);
  assert.equal(roundMoney("1.2345", "BHD"), 1.235);
});

Deno.test("presentTotals: several currencies keep counts but no money", () => {
  const sums = {
    impressions: "100",
    clicks: "10",
    conversions: "1",
    cost: "5",
    revenue: "10",
  };
  const mixed = presentTotals(sums, null);
  assert.equal(mixed.cost, null);
  assert.equal(mixed.roas, null);
  assert.equal(mixed.ctr, 0.1);
  const usd = presentTotals(sums, "USD");
  assert.equal(usd.cost, 5);
  assert.equal(usd.roas, 2);
  assert.deepEqual(Object.keys(usd), [
    "impressions",
    "clicks",
    "conversions",
    "cost",
    "revenue",
    "ctr",
    "roas",
    "cpa",
    "cpc",
    "cpm",
    "cvr",
  ]);
});

Deno.test("MetricRowSchema: validates the unified row", async (t) => {
  const valid = {
    tenant_id: "acme",
    platform: "Facebook",
    account_id: "123",
    campaign_id: "cmp-1",
    ts: "2024-04-01T00:00:00Z",
    impressions: 9_007_199_254_740_991,
    clicks: "12",
    conversions: 2.5,
    cost: "12.30",
    revenue: 0.1,
    currency: "usd",
    source: "test",
  };
  await t.step("normalizes aliases, counts, decimals and currency", () => {
    const row = MetricRowSchema.parse(valid);
    assert.equal(row.platform, "meta");
    assert.equal(row.clicks, 12);
    assert.equal(row.conversions, "2.5");
    assert.equal(row.revenue, "0.1");
    assert.equal(row.currency, "USD");
    assert.equal(row.ts.toISOString(), "2024-04-01T00:00:00.000Z");
  });
  await t.step("rejects bad rows with the field named", () => {
    const { rows, rejected } = validateRows([
      valid,
      { ...valid, impressions: -1 },
      { ...valid, cost: "12,30" },
      { ...valid, currency: "XYZ" },
      { ...valid, platform: "myspace" },
      { ...valid, ts: "2024-02-30T00:00:00Z" },
      { ...valid, impressions: 2 ** 53 },
      { ...valid, campaign_id: "x".repeat(129) },
      "not an object",
    ]);
    assert.equal(rows.length, 1);
    assert.deepEqual(rejected.map((r) => [r.index, r.field]), [
      [1, "impressions"],
      [2, "cost"],
      [3, "currency"],
      [4, "platform"],
      [5, "ts"],
      [6, "impressions"],
      [7, "campaign_id"],
      [8, "row"],
    ]);
  });
});
