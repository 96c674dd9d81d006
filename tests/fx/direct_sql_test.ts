/**
 * Converted totals and series convert money at a direct rate (base = the money's
 * currency, quote = the target) in SQL, as exact NUMERIC products, and only where the
 * conversion would choose that rate (SqlFxStore.convertedPlatformSums,
 * lib/store/fx_direct_sql.ts). Every figure below is worked out by hand; both engines.
 *
 * Rates (tenant-a):    EUR→USD   EUR→GBP   USD→EUR (the inverse pair)
 *   Fri 2024-04-05     1.0850    0.8550
 *   Mon 2024-04-08     1.0800    0.8600
 *   Wed 2024-04-10                        0.9250
 *   Fri 2024-04-12     1.0700
 * EUR money on Saturday takes Friday's direct rate, on Sunday 04-14 Friday 04-12's. On
 * Wednesday and Thursday the inverse rate of Wednesday is fresher than Monday's direct
 * one, so EUR converts at 1 / 0.925 there: a shortcut that took the direct rate in force
 * (Monday's 1.08) would give 82.20 instead of 82.24 for meta's cost. GBP converts through
 * EUR (a cross rate), per day, in JavaScript.
 */
import assert from "node:assert/strict";
import { ENGINES } from "../support/databases.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { ConvertedQueries } from "../../lib/fx/queries.ts";
import { MissingRateError } from "../../lib/fx/convert.ts";
import { roundDecimal } from "../../lib/decimal.ts";
import { metricRow } from "../support/test_app.ts";

const TENANT = "tenant-a";

const RATES = [
  { day: "2024-04-05", base: "EUR", quote: "USD", rate: "1.0850" },
  { day: "2024-04-05", base: "EUR", quote: "GBP", rate: "0.8550" },
  { day: "2024-04-08", base: "EUR", quote: "USD", rate: "1.0800" },
  { day: "2024-04-08", base: "EUR", quote: "GBP", rate: "0.8600" },
  { day: "2024-04-10", base: "USD", quote: "EUR", rate: "0.9250" },
  { day: "2024-04-12", base: "EUR", quote: "USD", rate: "1.0700" },
];

const eur = (day: string, cost: string, revenue: string) =>
  metricRow({
    platform: "meta",
    account_id: "m1",
    campaign_id: "cmp-eu",
    currency: "EUR",
    ts: `2024-04-${day}T10:00:00Z`,
    cost,
    revenue,
  });

const ROWS = [
  eur("05", "10.00", "40.00"), // × 1.085 = 10.85, 43.40
  eur("06", "20.00", "10.00"), // Saturday, Friday's 1.085: 21.70, 10.85
  eur("08", "5.00", "5.00"), // × 1.08 = 5.40, 5.40
  eur("10", "37.00", "7.40"), // ÷ 0.925 = 40.00, 8.00
  eur("11", "1.00", "1.00"), // ÷ 0.925 = 1.081081…
  eur("14", "3.00", "0"), // Sunday, Friday 04-12's 1.07: 3.21, 0
  metricRow({ // × 1.08 / 0.86 = 37.674418…, 75.348837…
    platform: "linkedin",
    account_id: "l1",
    campaign_id: "cmp-uk",
    currency: "GBP",
    ts: "2024-04-08T10:00:00Z",
    cost: "30.00",
    revenue: "60.00",
  }),
  metricRow({
    platform: "google",
    account_id: "g1",
    campaign_id: "cmp-us",
    currency: "USD",
    ts: "2024-04-05T10:00:00Z",
    cost: "100.00",
    revenue: "300.00",
  }),
];

const SELECTION = {
  tenantId: TENANT,
  from: new Date("2024-04-05T00:00:00Z"),
  to: new Date("2024-04-15T00:00:00Z"),
};

const cents = (text: string) => roundDecimal(text, 2);

for (const engine of ENGINES) {
  Deno.test({
    name: `direct rates converted in SQL, exactly, only where they apply, on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db = await engine.open();
      const store = new SqlMetricsStore(db.driver);
      const fx = new SqlFxStore(db.driver);
      const usd = () => new ConvertedQueries(fx, "USD", "UTC");
      try {
        await fx.upsertRates(TENANT, RATES, "test");
        const written = await store.upsert(ROWS, { now: new Date("2024-04-20T00:00:00Z") });
        assert.equal(written.rejected.length, 0, JSON.stringify(written.rejected));

        await t.step("the statement converts the direct days itself", async () => {
          const read = await fx.convertedPlatformSums(SELECTION, "UTC", "USD", false);
          // EUR left per day only where the inverse rate is fresher; GBP (cross) per day.
          assert.deepEqual(
            read.rows.map((r) => `${r.platform} ${r.currency} ${r.day}`).sort(),
            [
              "google USD null",
              "linkedin GBP 2024-04-08",
              "meta EUR 2024-04-10",
              "meta EUR 2024-04-11",
              "meta USD null",
            ],
          );
          const meta = read.rows.find((r) => r.platform === "meta" && r.currency === "USD")!;
          // 10.00 × 1.085 + 20.00 × 1.085 + 5.00 × 1.08 + 3.00 × 1.07, exact.
          assert.match(meta.cost, /^41\.16(0*)$/);
          assert.deepEqual(read.direct, [{
            currency: "EUR",
            firstDay: "2024-04-05",
            lastDay: "2024-04-12",
            source: "test",
          }]);
          // The rates the per-day rows may use: pairs touching EUR, GBP or USD.
          assert.equal(read.rates.length, 6);
        });

        await t.step("totals by hand (direct, inverse, cross, weekends)", async () => {
          const queries = usd();
          const totals = await queries.totals(SELECTION);
          const by = Object.fromEntries(totals.by_platform.map((p) => [p.platform, p]));
          // 10.85 + 21.70 + 5.40 + 40.00 + 1.081081… + 3.21 = 82.241081…
          assert.equal(cents(by.meta.cost), "82.24");
          // 43.40 + 10.85 + 5.40 + 8.00 + 1.081081… + 0 = 68.731081…
          assert.equal(cents(by.meta.revenue), "68.73");
          assert.equal(cents(by.linkedin.cost), "37.67");
          assert.equal(cents(by.linkedin.revenue), "75.35");
          assert.equal(cents(by.google.cost), "100.00");
          // 82.241081… + 37.674418… + 100 = 219.915499…
          assert.equal(cents(totals.totals[0].cost), "219.92");
          assert.equal(cents(totals.totals[0].revenue), "444.08");
          assert.equal(totals.totals[0].impressions, "8000");
          assert.equal(totals.totals[0].currency, "USD");
          assert.deepEqual(queries.info(), {
            currency: "USD",
            converted: [
              { from: "EUR", paths: ["direct", "inverse"] },
              { from: "GBP", paths: ["via EUR"] },
            ],
            rate_days: { first: "2024-04-05", last: "2024-04-12" },
            rate_sources: ["test"],
          });
        });

        await t.step("an open range: every foreign day converted in JavaScript", async () => {
          const read = await fx.convertedPlatformSums({ tenantId: TENANT }, "UTC", "USD", false);
          assert.deepEqual(read.direct, []);
          assert.equal(read.rows.filter((r) => r.currency === "EUR").length, 6);
          const totals = await usd().totals({ tenantId: TENANT });
          assert.equal(cents(totals.totals[0].cost), "219.92");
          assert.equal(cents(totals.totals[0].revenue), "444.08");
        });

        await t.step("a daily series: each day at its own rate", async () => {
          const series = await usd().series(SELECTION, "day");
          const day = Object.fromEntries(series.map((row) => [row.bucket, row]));
          assert.deepEqual(Object.keys(day).sort(), [
            "2024-04-05",
            "2024-04-06",
            "2024-04-08",
            "2024-04-10",
            "2024-04-11",
            "2024-04-14",
          ]);
          assert.equal(cents(day["2024-04-05"].cost), "110.85"); // 100 USD + 10.85
          assert.equal(cents(day["2024-04-06"].revenue), "10.85");
          assert.equal(cents(day["2024-04-08"].cost), "43.07"); // 5.40 + 37.674418…
          assert.equal(day["2024-04-10"].cost, "40"); // 37 / 0.925, exactly
          assert.equal(day["2024-04-10"].revenue, "8");
          assert.equal(cents(day["2024-04-14"].cost), "3.21");
          // Weekly buckets add the same exact amounts.
          const weeks = await usd().series(SELECTION, "week");
          assert.deepEqual(weeks.map((w) => [w.bucket, cents(w.cost)]), [
            ["2024-04-01", "132.55"], // 100 + 10.85 + 21.70
            ["2024-04-08", "87.37"], // 5.40 + 37.674418… + 40 + 1.081081… + 3.21
          ]);
        });

        await t.step("a zone's days pick the rates (Tokyo: 10:00 UTC is 19:00)", async () => {
          // 2024-04-05 20:00 UTC is Saturday 05:00 in Tokyo: Friday's rate either way;
          // 2024-04-09 20:00 UTC is Wednesday 05:00 there: the inverse rate's day.
          await store.upsert([
            metricRow({ ...ROWS[0], ts: "2024-04-09T20:00:00Z", cost: "9.25", revenue: "0" }),
          ], { now: new Date("2024-04-20T00:00:00Z") });
          const tokyo = await new ConvertedQueries(fx, "USD", "Asia/Tokyo").series({
            ...SELECTION,
            from: new Date("2024-04-09T15:00:00Z"),
            to: new Date("2024-04-10T15:00:00Z"),
          }, "day");
          // Wednesday in Tokyo: 9.25 / 0.925 + 37.00 / 0.925 = 10 + 40 (both ÷ 0.925).
          assert.deepEqual(tokyo.map((row) => [row.bucket, row.cost]), [["2024-04-10", "50"]]);
          const utc = await usd().series({
            ...SELECTION,
            from: new Date("2024-04-09T00:00:00Z"),
            to: new Date("2024-04-10T00:00:00Z"),
          }, "day");
          // Tuesday in UTC: Monday's direct rate, 9.25 × 1.08.
          assert.deepEqual(utc.map((row) => [row.bucket, row.cost]), [["2024-04-09", "9.99"]]);
          await store.upsert([
            metricRow({ ...ROWS[0], ts: "2024-04-09T20:00:00Z", cost: "0", revenue: "0" }),
          ], { now: new Date("2024-04-20T00:00:00Z") });
        });

        await t.step("a restated row: its new value at its day's rate", async () => {
          await store.upsert([eur("10", "74.00", "7.40")], {
            now: new Date("2024-04-20T00:00:00Z"),
          });
          await store.upsert([eur("06", "30.00", "10.00")], {
            now: new Date("2024-04-20T00:00:00Z"),
          });
          const totals = await usd().totals(SELECTION);
          // 219.915499… + 37 / 0.925 (Wednesday) + 10 × 1.085 (Saturday, direct).
          assert.equal(cents(totals.totals[0].cost), "270.77");
        });

        await t.step("a direct rate too old is a missing rate, never a partial sum", async () => {
          await store.upsert([eur("22", "1.00", "1.00")], {
            now: new Date("2024-04-25T00:00:00Z"),
          });
          const wide = { ...SELECTION, to: new Date("2024-04-23T00:00:00Z") };
          await assert.rejects(() => usd().totals(wide), (error: unknown) => {
            assert.ok(error instanceof MissingRateError);
            assert.equal(`${error.from}→${error.to} ${error.day}`, "EUR→USD 2024-04-22");
            return true;
          });
          await assert.rejects(() => usd().series(wide, "day"), MissingRateError);
        });

        await t.step("all money in the target: no rate, no conversion", async () => {
          const read = await fx.convertedPlatformSums(
            { ...SELECTION, campaignIds: ["cmp-us"] },
            "UTC",
            "USD",
            true,
          );
          assert.deepEqual(read.rates, []);
          assert.deepEqual(read.direct, []);
          assert.deepEqual(read.rows.map((r) => `${r.currency} ${r.day} ${r.cost}`), [
            "USD 2024-04-05 100.00",
          ]);
        });
      } finally {
        await db.dispose();
      }
    },
  });
}
