/**
 * Behaviour that only a real server can show: concurrent writers and concurrent
 * migrations from several instances.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  postgresDatabase,
  postgresMissing,
  TEST_DATABASE_URL,
  uniqueName,
} from "../support/databases.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { postgresDriver } from "../../lib/store/driver.ts";
import { migrate } from "../../lib/store/migrate.ts";
import { MIGRATIONS } from "../../sql/migrations.ts";
import { normalizeDecimal } from "../../lib/decimal.ts";

Deno.test({
  name: "postgres: concurrent writers of one account keep rollups equal to raw rows",
  ignore: postgresMissing,
  async fn() {
    const db = await postgresDatabase({ max: 8 });
    const store = new SqlMetricsStore(db.driver);
    try {
      const hours = Array.from(
        { length: 48 },
        (_, h) => new Date(Date.UTC(2024, 3, 1) + h * 3_600_000).toISOString(),
      );
      // Eight writers restate the same 48 keys with different values at once.
      await Promise.all(Array.from({ length: 8 }, (_, writer) =>
        store.upsert(hours.map((ts) => ({
          tenant_id: "race",
          platform: "meta",
          account_id: "1",
          campaign_id: "c",
          ts,
          impressions: 100 + writer,
          clicks: 1,
          conversions: "0",
          cost: `${writer}.25`,
          revenue: "0",
          currency: "USD",
        })))));
      const [raw] = await db.driver.query<{ impressions: string; cost: string }>(
        "SELECT sum(impressions)::text AS impressions, sum(cost)::text AS cost FROM campaign_metrics",
      );
      const [monthly] = await db.driver.query<{ impressions: string; cost: string }>(
        "SELECT sum(impressions)::text AS impressions, sum(cost)::text AS cost FROM campaign_monthly",
      );
      const [hourly] = await db.driver.query<{ impressions: string; cost: string }>(
        "SELECT sum(impressions)::text AS impressions, sum(cost)::text AS cost FROM platform_hourly",
      );
      const [daily] = await db.driver.query<{ impressions: string; cost: string }>(
        "SELECT sum(impressions)::text AS impressions, sum(cost)::text AS cost FROM campaign_daily",
      );
      assert.deepEqual(monthly, raw);
      assert.deepEqual(hourly, raw);
      assert.deepEqual(daily, raw);
      const totals = await store.totals({ tenantId: "race" });
      assert.equal(totals.totals[0].impressions, raw.impressions);
      assert.equal(normalizeDecimal(totals.totals[0].cost), normalizeDecimal(raw.cost));
    } finally {
      await db.dispose();
    }
  },
});

Deno.test({
  name: "postgres: instances migrating at once apply each migration exactly once",
  ignore: postgresMissing,
  async fn() {
    const schema = uniqueName("m");
    const admin = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE SCHEMA ${schema}`);
    const drivers = Array.from({ length: 3 }, () =>
      postgresDriver(postgres(TEST_DATABASE_URL!, {
        max: 2,
        onnotice: () => {},
        connection: { search_path: schema },
      })));
    try {
      const applied = await Promise.all(drivers.map((driver) => migrate(driver, MIGRATIONS)));
      const all = applied.flat().sort();
      assert.deepEqual(all, MIGRATIONS.map((m) => m.version).sort(), "each applied once in all");
      const recorded = await drivers[0].query<{ version: number }>(
        "SELECT version FROM schema_migrations ORDER BY version",
      );
      assert.deepEqual(recorded.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      assert.deepEqual(await migrate(drivers[0], MIGRATIONS), [], "a rerun applies nothing");
    } finally {
      await Promise.all(drivers.map((driver) => driver.close()));
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  },
});
