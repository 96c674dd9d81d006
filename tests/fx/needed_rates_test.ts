/**
 * The converted reads' sums come with the rates they need, from one statement
 * (SqlFxStore.platformDays): the pairs touching the target or a currency whose money has
 * a day, over the days the carry-forward may look at, and none at all when every amount
 * is already in the target currency. Both engines.
 */
import assert from "node:assert/strict";
import { ENGINES } from "../support/databases.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { ConvertedQueries } from "../../lib/fx/queries.ts";
import { metricRow } from "../support/test_app.ts";

const TENANT = "tenant-a";

for (const engine of ENGINES) {
  Deno.test({
    name: `converted reads take only the rates they need, with the sums, on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const db = await engine.open();
      const store = new SqlMetricsStore(db.driver);
      const fx = new SqlFxStore(db.driver);
      try {
        await fx.upsertRates(TENANT, [
          // Too old for the range (more than 7 days before its first day).
          { day: "2024-03-28", base: "EUR", quote: "USD", rate: "1.07" },
          { day: "2024-04-01", base: "EUR", quote: "USD", rate: "1.08" },
          { day: "2024-04-01", base: "EUR", quote: "GBP", rate: "0.86" },
          // A pair touching neither the target nor the money's currencies.
          { day: "2024-04-01", base: "JPY", quote: "CHF", rate: "0.006" },
          // After the range.
          { day: "2024-04-20", base: "EUR", quote: "USD", rate: "1.09" },
        ], "test");
        // Another tenant's rate on the same day: never read.
        await fx.upsertRates("tenant-b", [
          { day: "2024-04-01", base: "EUR", quote: "USD", rate: "9" },
        ], "test");
        await store.upsert([
          metricRow({ campaign_id: "cmp-eu", currency: "EUR", ts: "2024-04-05T10:00:00Z" }),
          metricRow({ campaign_id: "cmp-us", currency: "USD", ts: "2024-04-06T10:00:00Z" }),
        ], { now: new Date("2024-04-10T00:00:00Z") });
        const selection = {
          tenantId: TENANT,
          from: new Date("2024-04-05T00:00:00Z"),
          to: new Date("2024-04-08T00:00:00Z"),
        };
        const read = await fx.platformDays(selection, "UTC", "USD", false);
        assert.deepEqual(
          read.rates.map((r) => `${r.day} ${r.base}/${r.quote} ${r.rate}`).sort(),
          ["2024-04-01 EUR/GBP 0.86", "2024-04-01 EUR/USD 1.08"],
        );
        assert.deepEqual(
          read.rows.map((r) => `${r.currency} ${r.day} ${r.cost}`).sort(),
          ["EUR 2024-04-05 25.00", "USD null 25.00"],
        );
        // EUR 25.00 on Friday at Monday-before's 1.08 (carried forward), plus USD 25.00.
        const totals = await new ConvertedQueries(fx, "USD", "UTC").totals(selection);
        assert.equal(totals.totals[0].cost, "52");
        // All money in the target: no rate at all.
        const usdOnly = await fx.platformDays(
          { ...selection, campaignIds: ["cmp-us"] },
          "UTC",
          "USD",
          true,
        );
        assert.deepEqual(usdOnly.rates, []);
        assert.deepEqual(usdOnly.rows.map((r) => `${r.currency} ${r.day}`), ["USD 2024-04-06"]);
      } finally {
        await db.dispose();
      }
    },
  });
}
