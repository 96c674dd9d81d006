/**
 * The converted top-N by ROAS of one whole month reads the first rows of the ROAS index
 * (roasPrefixRankSql): a campaign reached by one of its monthly rows must still be
 * scored on all of them, its other currencies' rows found by the currency index and its
 * target-currency row looked up when only a foreign row was reached. Two mixed campaigns
 * have one row at the top of the index (ROAS 10) and their other row at the bottom (no
 * revenue): converted, neither ranks, and the answer is the three best USD campaigns.
 * Both engines.
 */
import assert from "node:assert/strict";
import { ENGINES } from "../support/databases.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { ConvertedQueries } from "../../lib/fx/queries.ts";
import { shiftDate } from "../../lib/dates.ts";
import { metricRow } from "../support/test_app.ts";
import type { FxRate } from "../../lib/fx/rates.ts";

const TENANT = "tenant-a";
const MONTH = { from: new Date("2024-04-01T00:00:00Z"), to: new Date("2024-05-01T00:00:00Z") };

/** EUR→USD 1.08 on every weekday from the week before April to its end. */
function rates(): FxRate[] {
  const out: FxRate[] = [];
  for (let day = "2024-03-25"; day <= "2024-04-30"; day = shiftDate(day, 1)) {
    const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
    if (weekday !== 0 && weekday !== 6) out.push({ day, base: "EUR", quote: "USD", rate: "1.08" });
  }
  return out;
}

const row = (campaign: string, currency: string, cost: string, revenue: string) =>
  metricRow({
    platform: "meta",
    account_id: `acct-${currency}`,
    campaign_id: campaign,
    campaign_name: campaign,
    currency,
    ts: "2024-04-10T10:00:00Z",
    cost,
    revenue,
  });

for (const engine of ENGINES) {
  Deno.test({
    name: `converted ROAS prefix scores every row of a reached campaign, on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const db = await engine.open();
      const store = new SqlMetricsStore(db.driver);
      const fx = new SqlFxStore(db.driver);
      try {
        await fx.upsertRates(TENANT, rates(), "test");
        const rows = [
          // 80 USD campaigns, ROAS 5.00, 4.95, … 1.05: more than the prefix reads for a
          // top 3 (3 × 24 rows), so it stops partway.
          ...Array.from(
            { length: 80 },
            (_, i) =>
              row(`cmp-u${String(i).padStart(2, "0")}`, "USD", "100.00", `${500 - 5 * i}.00`),
          ),
          // Reached by its USD row (ROAS 10); its EUR row (no revenue) is not in the prefix.
          // Converted: 1000 / (100 + 1000 × 1.08) ≈ 0.85.
          row("cmp-mixed-usd-top", "USD", "100.00", "1000.00"),
          row("cmp-mixed-usd-top", "EUR", "1000.00", "0"),
          // Reached by its EUR row (ROAS 10); its USD row (no revenue) is not in the prefix.
          // Converted: 1080 / (108 + 1000) ≈ 0.97.
          row("cmp-mixed-eur-top", "EUR", "100.00", "1000.00"),
          row("cmp-mixed-eur-top", "USD", "1000.00", "0"),
        ];
        const written = await store.upsert(rows, { now: new Date("2024-05-02T00:00:00Z") });
        assert.equal(written.rejected.length, 0, JSON.stringify(written.rejected));
        const queries = new ConvertedQueries(fx, "USD", "UTC");
        const top = await queries.rank({ tenantId: TENANT, ...MONTH }, {
          groupBy: "campaign",
          metric: "roas",
          order: "desc",
          limit: 3,
        });
        assert.deepEqual(
          top.map((r) => [r.campaign_id, r.campaign_name, r.cost, r.revenue]),
          [
            ["cmp-u00", "cmp-u00", "100", "500"],
            ["cmp-u01", "cmp-u01", "100", "495"],
            ["cmp-u02", "cmp-u02", "100", "490"],
          ],
        );
        // The mixed campaigns' own converted totals, for the record.
        const mixed = await queries.rank({
          tenantId: TENANT,
          ...MONTH,
          campaignIds: ["cmp-mixed-usd-top", "cmp-mixed-eur-top"],
        }, { groupBy: "campaign", metric: "roas", order: "desc", limit: 2 });
        assert.deepEqual(mixed.map((r) => [r.campaign_id, r.cost, r.revenue]), [
          ["cmp-mixed-eur-top", "1108", "1080"],
          ["cmp-mixed-usd-top", "1180", "1000"],
        ]);
      } finally {
        await db.dispose();
      }
    },
  });
}
