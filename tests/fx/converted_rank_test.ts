/**
 * Converted rankings read money in the target currency as unconverted reads do (the
 * monthly rollup, for one whole month in index order) and only the other currencies
 * per day (by currency from campaign_daily, or raw rows per series in other zones).
 * Every ranking here is checked against the same campaigns' totals read one campaign
 * at a time from the raw rows (the campaign filter path), over data that mixes target
 * and foreign series (one campaign in both), weekends (the Friday rate applies), a
 * cross rate (GBP→USD through EUR), and restated rows, on every engine; and one
 * campaign's figures are worked out by hand.
 *
 * Rates (base EUR, weekdays only): EUR→USD on the n-th day of March 2025 is
 * 1.05 + n/10000 (1.0507 on Fri 7th), EUR→GBP 0.84 + 5n/10000 (0.8435 on Fri 7th);
 * in April 1.06 + n/10000 and 0.85 + 5n/10000.
 */
import assert from "node:assert/strict";
import { ENGINES } from "../support/databases.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";
import { ConvertedQueries } from "../../lib/fx/queries.ts";
import type { FxRate } from "../../lib/fx/rates.ts";
import type { MetricName, MetricRowInput } from "../../lib/schema.ts";
import { computeMetrics, type MeasureSumsText } from "../../lib/kpi.ts";
import { compareDecimals } from "../../lib/decimal.ts";
import { mulberry32 } from "../../lib/random.ts";
import { startOfDayIn } from "../../lib/dates.ts";

const TENANT = "fx-rank";
const DAY_MS = 86_400_000;

/** Ten-thousandths as decimal text (10507 → "1.0507"). */
const tenThousandths = (units: number) =>
  `${Math.floor(units / 10_000)}.${String(units % 10_000).padStart(4, "0")}`;

function rates(): FxRate[] {
  const out: FxRate[] = [];
  for (let day = Date.parse("2025-02-20"); day < Date.parse("2025-05-01"); day += DAY_MS) {
    const date = new Date(day);
    if (date.getUTCDay() === 0 || date.getUTCDay() === 6) continue; // no weekend rates
    const n = date.getUTCDate();
    const april = date.getUTCMonth() === 3;
    const iso = date.toISOString().slice(0, 10);
    out.push({
      day: iso,
      base: "EUR",
      quote: "USD",
      rate: tenThousandths((april ? 10600 : 10500) + n),
    });
    out.push({
      day: iso,
      base: "EUR",
      quote: "GBP",
      rate: tenThousandths((april ? 8500 : 8400) + 5 * n),
    });
  }
  return out;
}

type Random = () => number;
const int = (random: Random, low: number, high: number) =>
  low + Math.floor(random() * (high - low + 1));
const money = (random: Random) => (int(random, 1, 90_000) / 100).toFixed(2);

interface Series {
  platform: string;
  campaign: string;
  account: string;
  currency: string;
}

/** Target-only campaigns (more than the first rows of the ROAS index a top-1 reads), foreign ones, one in both currencies. */
const SERIES: Series[] = [
  ...Array.from({ length: 50 }, (_, i) => ({
    platform: i % 2 ? "google" : "meta",
    campaign: `usd-${i}`,
    account: "a-usd",
    currency: "USD",
  })),
  ...Array.from({ length: 4 }, (_, i) => ({
    platform: i % 2 ? "google" : "linkedin",
    campaign: `eur-${i}`,
    account: "a-eur",
    currency: "EUR",
  })),
  ...Array.from({ length: 3 }, (_, i) => ({
    platform: "tiktok",
    campaign: `gbp-${i}`,
    account: "a-gbp",
    currency: "GBP",
  })),
  { platform: "meta", campaign: "mixed", account: "a-usd", currency: "USD" },
  { platform: "meta", campaign: "mixed", account: "a-eur", currency: "EUR" },
  // Written by the last step: a campaign that conversion lifts from last to first.
  { platform: "google", campaign: "lifted", account: "a-eur", currency: "EUR" },
];

function makeRows(random: Random): MetricRowInput[] {
  const rows: MetricRowInput[] = [];
  const start = Date.parse("2025-02-25T00:00:00Z");
  for (const series of SERIES) {
    if (series.campaign === "mixed" || series.campaign === "lifted") continue; // by hand
    for (let day = 0; day < 60; day++) {
      if (random() < 0.3) continue;
      // Daily rows at midnight, and some at 02:00 and 23:00 (other days in other zones).
      const hours = random() < 0.3 ? [2, 23] : [0];
      for (const hour of hours) {
        rows.push({
          tenant_id: TENANT,
          platform: series.platform,
          account_id: series.account,
          campaign_id: series.campaign,
          ts: new Date(start + day * DAY_MS + hour * 3_600_000).toISOString(),
          impressions: int(random, 100, 20_000),
          clicks: int(random, 0, 400),
          conversions: (int(random, 0, 200) / 10).toFixed(1),
          cost: money(random),
          revenue: money(random),
          currency: series.currency,
          source: "test",
        });
      }
    }
  }
  return rows;
}

/** The mixed campaign in March: USD on Friday, EUR on Saturday and Monday. */
const MIXED = (cost: { sat: string }): MetricRowInput[] =>
  [
    ["2025-03-07T10:00:00Z", "a-usd", "USD", "100.00", "250.00"],
    ["2025-03-08T10:00:00Z", "a-eur", "EUR", cost.sat, "200.00"],
    ["2025-03-10T10:00:00Z", "a-eur", "EUR", "10.00", "30.00"],
  ].map(([ts, account, currency, c, r]) => ({
    tenant_id: TENANT,
    platform: "meta",
    account_id: account,
    campaign_id: "mixed",
    ts,
    impressions: 1000,
    clicks: 10,
    conversions: "1",
    cost: c,
    revenue: r,
    currency,
    source: "test",
  }));

type Score = { exact: string } | { ratio: number | null };
const MEASURES = new Set(["impressions", "clicks", "conversions", "cost", "revenue"]);

function scoreOf(metric: MetricName, sums: MeasureSumsText): Score {
  if (MEASURES.has(metric)) return { exact: sums[metric as keyof MeasureSumsText] };
  return { ratio: computeMetrics(sums)[metric as keyof ReturnType<typeof computeMetrics>] };
}

function compare(a: Score, b: Score, direction: number): number {
  if ("exact" in a && "exact" in b) return direction * compareDecimals(a.exact, b.exact);
  const left = "ratio" in a ? a.ratio : null;
  const right = "ratio" in b ? b.ratio : null;
  if (left === null || right === null) return left === right ? 0 : left === null ? 1 : -1;
  return left === right ? 0 : direction * (left < right ? -1 : 1);
}

const sumsOf = (row: MeasureSumsText) =>
  [row.impressions, row.clicks, row.conversions, row.cost, row.revenue].join(" ");

for (const engine of ENGINES) {
  Deno.test({
    name: `converted rankings equal per-campaign raw totals on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db = await engine.open();
      const store = new SqlMetricsStore(db.driver);
      const fx = new SqlFxStore(db.driver);
      const random = mulberry32(20251202);
      try {
        await fx.upsertRates(TENANT, rates(), "test");
        const rows = makeRows(random);
        const now = new Date("2025-06-01T00:00:00Z");
        await store.upsert([...rows, ...MIXED({ sat: "50.00" })], { now });

        /** Every campaign's converted totals, one campaign filter at a time (raw rows). */
        const reference = async (zone: string, from: Date, to: Date) => {
          const usd = new ConvertedQueries(fx, "USD", zone);
          const out: { platform: string; campaign_id: string; sums: MeasureSumsText }[] = [];
          const keys = new Set(SERIES.map((s) => `${s.platform}/${s.campaign}`));
          for (const key of keys) {
            const [platform, campaign] = key.split("/");
            const totals = await usd.totals({
              tenantId: TENANT,
              platforms: [platform as "meta"],
              campaignIds: [campaign],
              from,
              to,
            });
            const row = totals.by_platform[0];
            if (row) out.push({ platform, campaign_id: campaign, sums: row });
          }
          return out;
        };

        const check = async (
          zone: string,
          from: Date,
          to: Date,
          metric: MetricName,
          order: "asc" | "desc",
          limit: number,
        ) => {
          const context = `${zone} ${from.toISOString()}..${to.toISOString()} ${metric} ${order}`;
          const ranked = await new ConvertedQueries(fx, "USD", zone).rank(
            { tenantId: TENANT, from, to },
            { groupBy: "campaign", metric, order, limit },
          );
          const direction = order === "asc" ? 1 : -1;
          const expected = (await reference(zone, from, to)).sort((a, b) =>
            compare(scoreOf(metric, a.sums), scoreOf(metric, b.sums), direction) ||
            (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0) ||
            (a.campaign_id < b.campaign_id ? -1 : 1)
          ).slice(0, limit);
          assert.deepEqual(
            ranked.map((row) =>
              `${row.platform}/${row.campaign_id} ${row.currency} ${sumsOf(row)}`
            ),
            expected.map((row) => `${row.platform}/${row.campaign_id} USD ${sumsOf(row.sums)}`),
            context,
          );
        };

        const march = [new Date("2025-03-01T00:00:00Z"), new Date("2025-04-01T00:00:00Z")] as const;
        const cases = async () => {
          // One whole month (target money from the ROAS index order), a quarter-ish range
          // of whole months and days, ragged days, and days of New York and Kolkata.
          // (Limits 1 and 3 leave campaigns outside the first rows of the ROAS index that
          // a one-month ranking reads first: its check, and its fallback, decide.)
          for (const limit of [1, 3, 8]) {
            await check("UTC", ...march, "roas", "desc", limit);
            await check("UTC", ...march, "cost", "desc", limit);
            await check("UTC", ...march, "cpa", "asc", limit);
            await check("UTC", ...march, "ctr", "desc", limit);
          }
          await check(
            "UTC",
            new Date("2025-02-26T00:00:00Z"),
            new Date("2025-04-09T00:00:00Z"),
            "roas",
            "desc",
            5,
          );
          await check(
            "UTC",
            new Date("2025-03-12T00:00:00Z"),
            new Date("2025-04-11T06:00:00Z"),
            "revenue",
            "desc",
            5,
          );
          for (const zone of ["America/New_York", "Asia/Kolkata"]) {
            await check(
              zone,
              startOfDayIn("2025-03-05", zone),
              startOfDayIn("2025-04-02", zone),
              "roas",
              "desc",
              6,
            );
          }
        };

        await t.step("rankings equal per-campaign totals", cases);

        await t.step("the mixed campaign, by hand", async () => {
          const [mixed] = await new ConvertedQueries(fx, "USD", "UTC").rank(
            { tenantId: TENANT, from: march[0], to: march[1], campaignIds: ["mixed"] },
            { groupBy: "campaign", metric: "roas", order: "desc", limit: 1 },
          );
          // USD 100.00 + EUR 50.00 on Saturday at Friday's 1.0507 (52.535) + EUR 10.00 on
          // Monday 10th at 1.0510 (10.51).
          assert.equal(mixed.cost, "163.045");
          // USD 250.00 + 200 × 1.0507 (210.14) + 30 × 1.0510 (31.53)
          assert.equal(mixed.revenue, "491.67");
          const [inGbp] = await new ConvertedQueries(fx, "GBP", "UTC").rank(
            { tenantId: TENANT, from: march[0], to: march[1], campaignIds: ["mixed"] },
            { groupBy: "campaign", metric: "roas", order: "desc", limit: 1 },
          );
          // USD 100 × 0.8435 / 1.0507 (cross rate through EUR, Friday) = 80.2798…
          // + EUR 50 × 0.8435 (Saturday at Friday's) + EUR 10 × 0.845 (Monday 10th)
          assert.equal(
            Number(inGbp.cost).toFixed(6),
            (100 * 0.8435 / 1.0507 + 42.175 + 8.45).toFixed(6),
          );
        });

        await t.step("after restatements: the new values, at their days' rates", async () => {
          const restated = rows.filter(() => random() < 0.2).map((row) => ({
            ...row,
            cost: money(random),
            revenue: money(random),
          }));
          await store.upsert([...restated, ...MIXED({ sat: "80.00" })], { now });
          const [mixed] = await new ConvertedQueries(fx, "USD", "UTC").rank(
            { tenantId: TENANT, from: march[0], to: march[1] },
            { groupBy: "campaign", metric: "cost", order: "desc", limit: 100 },
          ).then((ranked) => ranked.filter((row) => row.campaign_id === "mixed"));
          // Saturday restated 50.00 → 80.00 EUR: + 30 × 1.0507 = 31.521.
          assert.equal(mixed.cost, "194.566");
          await cases();
        });

        await t.step("a rate far from the others: still the per-campaign order", async () => {
          // One day at 9.5 widens the month's spread of EUR factors so much that the
          // first rows of the ROAS index no longer settle the top: the bounds decide.
          await fx.upsertRates(TENANT, [
            { day: "2025-03-19", base: "EUR", quote: "USD", rate: "9.5" },
          ], "test");
          for (const limit of [1, 3]) await check("UTC", ...march, "roas", "desc", limit);
          // EUR 10.00 cost and 200.00 revenue on the 19th (× 9.5), 500.00 cost on Friday
          // 21st (× 1.0521): ROAS 200 / 510 = 0.39 as stored, 1900 / (95 + 526.05) = 3.06 in
          // USD. Only the converted sums put it first; every shortcut of the ranking must
          // still find it (the ROAS prefix reads the best stored ratios first).
          await store.upsert(
            [["2025-03-19T08:00:00Z", "10.00", "200.00"], ["2025-03-21T08:00:00Z", "500.00", "0"]]
              .map(([ts, cost, revenue]) => ({
                tenant_id: TENANT,
                platform: "google",
                account_id: "a-eur",
                campaign_id: "lifted",
                ts,
                impressions: 1000,
                clicks: 10,
                conversions: "1",
                cost,
                revenue,
                currency: "EUR",
                source: "test",
              })),
            { now },
          );
          const [first] = await new ConvertedQueries(fx, "USD", "UTC").rank(
            { tenantId: TENANT, from: march[0], to: march[1] },
            { groupBy: "campaign", metric: "roas", order: "desc", limit: 1 },
          );
          assert.equal(first.campaign_id, "lifted");
          for (const limit of [1, 3]) await check("UTC", ...march, "roas", "desc", limit);
          await check("UTC", ...march, "revenue", "desc", 1);
        });
      } finally {
        await db.dispose();
      }
    },
  });
}
