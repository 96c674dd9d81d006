/**
 * Migration 009 on a database that already holds data: its backfill builds the same
 * running totals and monthly spans that the store's upsert keeps, row for row.
 */
import assert from "node:assert/strict";
import { ENGINES } from "../support/databases.ts";
import { assertRunningTotalsMatchRaw, runMigration009 } from "../support/running_totals.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import type { SqlDriver } from "../../lib/store/driver.ts";
import type { MetricRowInput } from "../../lib/schema.ts";

function row(day: string, campaign: string, overrides: Partial<MetricRowInput> = {}) {
  return {
    tenant_id: "t",
    platform: "google",
    account_id: "a-1",
    campaign_id: campaign,
    ts: `${day}T10:00:00Z`,
    impressions: 100,
    clicks: 5,
    conversions: "1.5",
    cost: "12.30",
    revenue: "40.05",
    currency: "USD",
    source: "test",
    ...overrides,
  } satisfies MetricRowInput;
}

async function state(driver: SqlDriver): Promise<string[][]> {
  const mtd = await driver.query<{ line: string }>(
    "SELECT t::text AS line FROM campaign_mtd t ORDER BY 1",
  );
  const spans = await driver.query<{ line: string }>(
    `SELECT (tenant_id, month, platform, campaign_id, currency, first_day, last_day)::text AS line
     FROM campaign_monthly ORDER BY 1`,
  );
  return [mtd.map((r) => r.line), spans.map((r) => r.line)];
}

for (const engine of ENGINES) {
  Deno.test({
    name: `migration 009 backfills the running totals the upsert keeps, on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const db = await engine.open();
      try {
        const store = new SqlMetricsStore(db.driver);
        const now = new Date("2025-04-01T00:00:00Z");
        // Gaps inside a month, two months, two accounts of one campaign, a second
        // currency, and a restatement that moves a day to EUR.
        await store.upsert([
          row("2025-02-03", "c1"),
          row("2025-02-09", "c1", { account_id: "a-2", cost: "0.07" }),
          row("2025-02-20", "c1"),
          row("2025-03-01", "c1"),
          row("2025-02-10", "c2", { currency: "EUR" }),
          row("2025-02-12", "c2", { currency: "EUR", impressions: 0, clicks: 0 }),
        ], { now });
        await store.upsert([row("2025-02-20", "c1", { currency: "EUR" })], { now });
        const kept = await state(db.driver);
        assert.ok(kept[0].length > 20, "running totals were written");

        // As a database that predates 009: no running totals, no spans. Then 009 again.
        await db.driver.query("DELETE FROM campaign_mtd");
        await db.driver.query("UPDATE campaign_monthly SET first_day = NULL, last_day = NULL");
        await runMigration009(db.driver);

        assert.deepEqual(await state(db.driver), kept);
        await assertRunningTotalsMatchRaw(db.driver, "after the backfill");
      } finally {
        await db.dispose();
      }
    },
  });
}
