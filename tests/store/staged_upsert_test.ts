/**
 * The staged upsert (COPY into a temporary table, then one set-based statement) on every
 * engine: both of its paths (a batch of new rows only, and any other batch), duplicate
 * keys inside a batch and across its chunks, restatements (values and currency),
 * replays that must change nothing, decimals at the schema's full precision and text
 * that COPY has to escape. After each write every rollup is compared with the same
 * sums computed from campaign_metrics alone.
 */
import { assertRunningTotalsMatchRaw } from "../support/running_totals.ts";
import assert from "node:assert/strict";
import { ENGINES, type TestDatabase } from "../support/databases.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { ROWS_PER_STATEMENT } from "../../lib/store/sql_queries.ts";
import type { SqlDriver } from "../../lib/store/driver.ts";
import type { MetricRowInput } from "../../lib/schema.ts";
import { normalizeDecimal, sumDecimals } from "../../lib/decimal.ts";

const HOUR_MS = 3_600_000;
const START = Date.UTC(2024, 0, 31, 20); // a month boundary 4 hours in

function row(overrides: Partial<MetricRowInput> = {}): MetricRowInput {
  return {
    tenant_id: "stage",
    platform: "google",
    account_id: "acct-1",
    campaign_id: "cmp-1",
    ts: new Date(START).toISOString(),
    impressions: 100,
    clicks: 5,
    conversions: "1.5",
    cost: "10.25",
    revenue: "30.75",
    currency: "USD",
    source: "test",
    ...overrides,
  };
}

const hour = (n: number) => new Date(START + n * HOUR_MS).toISOString();

const MEASURES = "sum(impressions)::text AS m1, sum(clicks)::text AS m2, " +
  "sum(conversions)::text AS m3, sum(cost)::text AS m4, sum(revenue)::text AS m5";

/** Each rollup beside the raw rows grouped the same way: [rollup SQL, raw SQL]. */
const ROLLUPS: Record<string, [string, string]> = {
  campaign_monthly: [
    `SELECT tenant_id, month::text AS bucket, platform, campaign_id, currency, ${MEASURES}
     FROM campaign_monthly GROUP BY 1, 2, 3, 4, 5`,
    `SELECT tenant_id, date_trunc('month', ts AT TIME ZONE 'UTC')::date::text AS bucket, platform,
            campaign_id, currency, ${MEASURES}
     FROM campaign_metrics GROUP BY 1, 2, 3, 4, 5`,
  ],
  campaign_daily: [
    `SELECT tenant_id, day::text AS bucket, platform, account_id, campaign_id, currency, ${MEASURES}
     FROM campaign_daily GROUP BY 1, 2, 3, 4, 5, 6`,
    `SELECT tenant_id, (ts AT TIME ZONE 'UTC')::date::text AS bucket, platform, account_id, campaign_id,
            currency, ${MEASURES}
     FROM campaign_metrics GROUP BY 1, 2, 3, 4, 5, 6`,
  ],
  platform_hourly: [
    `SELECT tenant_id, to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24') AS bucket, platform, currency,
            ${MEASURES}
     FROM platform_hourly GROUP BY 1, 2, 3, 4`,
    `SELECT tenant_id,
            to_char(date_trunc('hour', ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24') AS bucket,
            platform, currency, ${MEASURES}
     FROM campaign_metrics GROUP BY 1, 2, 3, 4`,
  ],
};

/**
 * Rows as sorted lines with normalized decimals; groups whose measures are all zero are
 * left out (a rollup keeps the row of a key whose rows moved to another currency, at
 * zero, where the raw rows have no group).
 */
async function lines(driver: SqlDriver, sql: string): Promise<string[]> {
  const rows = await driver.query<Record<string, string>>(sql);
  return rows.map((r) => {
    const values = Object.values(r).map(String);
    const keys = values.slice(0, -5).map((v) => v.trim());
    return [...keys, ...values.slice(-5).map(normalizeDecimal)];
  })
    .filter((values) => values.slice(-5).some((v) => v !== "0"))
    .map((values) => values.join("|")).sort();
}

async function assertRollupsMatchRaw(driver: SqlDriver, context: string): Promise<void> {
  for (const [table, [rollup, raw]] of Object.entries(ROLLUPS)) {
    assert.deepEqual(
      await lines(driver, rollup),
      await lines(driver, raw),
      `${table} = raw rows, ${context}`,
    );
  }
  await assertRunningTotalsMatchRaw(driver, context);
}

/** Every stored row of every table the upsert writes, for "nothing changed" checks. */
async function snapshot(driver: SqlDriver): Promise<Record<string, string[]>> {
  const tables = [
    "campaign_metrics",
    "campaign_daily",
    "campaign_monthly",
    "campaign_mtd",
    "platform_hourly",
  ];
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = await driver.query(`SELECT t::text AS line FROM ${table} t`);
    out[table] = rows.map((r) => String(r.line)).sort();
  }
  const catalog = await driver.query(
    `SELECT (tenant_id, platform, campaign_id, account_id, name, status, currency, first_seen,
             last_seen)::text AS line FROM campaigns`,
  );
  out.campaigns = catalog.map((r) => String(r.line)).sort();
  return out;
}

for (const engine of ENGINES) {
  Deno.test({
    name: `staged upsert: exact and idempotent on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db: TestDatabase = await engine.open();
      const store = new SqlMetricsStore(db.driver);
      const rawCount = async (tenant: string) =>
        Number(
          (await db.driver.query<{ n: string }>(
            "SELECT count(*)::text AS n FROM campaign_metrics WHERE tenant_id = $1",
            [tenant],
          ))[0].n,
        );
      try {
        await t.step("a batch of new rows across a month boundary", async () => {
          const result = await store.upsert(
            Array.from({ length: 8 }, (_, n) => row({ ts: hour(n), impressions: 100 + n })),
          );
          assert.equal(result.accepted, 8);
          assert.equal(await rawCount("stage"), 8);
          await assertRollupsMatchRaw(db.driver, "new rows");
        });

        await t.step("replaying a stored batch changes nothing anywhere", async () => {
          const before = await snapshot(db.driver);
          const stamps = await db.driver.query(
            "SELECT updated_at::text AS at FROM campaign_metrics ORDER BY ts",
          );
          await store.upsert(
            Array.from({ length: 8 }, (_, n) => row({ ts: hour(n), impressions: 100 + n })),
          );
          assert.deepEqual(await snapshot(db.driver), before);
          assert.deepEqual(
            await db.driver.query(
              "SELECT updated_at::text AS at FROM campaign_metrics ORDER BY ts",
            ),
            stamps,
            "no stored row was rewritten",
          );
        });

        await t.step(
          "a mixed batch: restatements, new keys inside stored spans, duplicates",
          async () => {
            await store.upsert([
              row({ ts: hour(1), impressions: 1, cost: "1.01" }), // restated, then again below
              row({ ts: hour(2) }), // restated: 102 → 100 impressions
              row({ ts: hour(3), currency: "EUR", cost: "3.30" }), // moves to EUR
              row({ ts: new Date(START + 90 * 60_000).toISOString(), impressions: 7 }), // new, inside
              row({ ts: hour(20), impressions: 20 }), // new, after
              row({ ts: hour(20), impressions: 21, campaign_name: "Renamed" }), // last one wins
              row({ ts: hour(1), impressions: 11, cost: "1.11" }),
            ]);
            const stored = await db.driver.query<Record<string, string>>(
              `SELECT to_char(ts AT TIME ZONE 'UTC', 'DD HH24:MI') AS at, impressions::text,
                      cost::text, currency FROM campaign_metrics WHERE tenant_id = 'stage'
               AND ts IN ($1::timestamptz, $2::timestamptz, $3::timestamptz, $4::timestamptz)
               ORDER BY ts`,
              [hour(1), hour(2), hour(3), hour(20)],
            );
            assert.deepEqual(stored.map((r) => [r.at, r.impressions, r.cost, r.currency]), [
              ["31 21:00", "11", "1.11", "USD"],
              ["31 22:00", "100", "10.25", "USD"],
              ["31 23:00", "100", "3.30", "EUR"],
              ["01 16:00", "21", "10.25", "USD"],
            ]);
            assert.equal(await rawCount("stage"), 10);
            await assertRollupsMatchRaw(db.driver, "mixed batch");
            const [campaign] = await store.findCampaign("stage", "cmp-1");
            assert.equal(campaign.name, "Renamed");
            assert.equal(campaign.last_seen?.toISOString(), hour(20));
            assert.equal(campaign.first_seen?.toISOString(), hour(0));
          },
        );

        await t.step("decimals at full precision stay exact through every rollup", async () => {
          const big = "999999999999999.999999999999";
          const tiny = "0.000000000001";
          await store.upsert([
            row({ tenant_id: "digits", ts: hour(0), cost: big, revenue: tiny }),
            row({ tenant_id: "digits", ts: hour(1), cost: big, revenue: tiny }),
            row({ tenant_id: "digits", ts: hour(30), cost: tiny, revenue: big }),
          ]);
          // Restate one of them with other many-digit values: new minus old, exactly.
          await store.upsert([
            row({
              tenant_id: "digits",
              ts: hour(1),
              cost: "123456789012345.678901234567",
              revenue: "0.000000000003",
            }),
          ]);
          const cost = sumDecimals([big, "123456789012345.678901234567", tiny]);
          const revenue = sumDecimals([tiny, "0.000000000003", big]);
          const totals = await store.totals({ tenantId: "digits" });
          assert.equal(normalizeDecimal(totals.totals[0].cost), normalizeDecimal(cost));
          assert.equal(normalizeDecimal(totals.totals[0].revenue), normalizeDecimal(revenue));
          await assertRollupsMatchRaw(db.driver, "many digits");
        });

        await t.step("ids and names with backslashes are stored as sent", async () => {
          const campaign = String.raw`C:\promo\new`;
          const name = String.raw`Sale \N 50% \t off`;
          await store.upsert([
            row({
              tenant_id: "escape",
              account_id: String.raw`a\b`,
              campaign_id: campaign,
              campaign_name: name,
              source: String.raw`csv\import`,
            }),
          ]);
          const [stored] = await db.driver.query<Record<string, string>>(
            "SELECT account_id, campaign_id, source FROM campaign_metrics WHERE tenant_id = 'escape'",
          );
          assert.deepEqual(stored, {
            account_id: String.raw`a\b`,
            campaign_id: campaign,
            source: String.raw`csv\import`,
          });
          const [found] = await store.findCampaign("escape", campaign);
          assert.equal(found.name, name);
          await assertRollupsMatchRaw(db.driver, "escaped text");
        });

        await t.step("a batch larger than one statement: chunks in order", async () => {
          const count = ROWS_PER_STATEMENT + 500;
          const rows = Array.from({ length: count }, (_, n) =>
            row({
              tenant_id: "chunks",
              campaign_id: `c${n % 7}`,
              ts: hour(Math.floor(n / 7)),
              impressions: 1,
              cost: "0.01",
            }));
          // The same key again in the second chunk: it restates the first chunk's row.
          rows.push(
            row({
              tenant_id: "chunks",
              campaign_id: "c0",
              ts: hour(0),
              impressions: 5,
              cost: "0.01",
            }),
          );
          const result = await store.upsert(rows);
          assert.equal(result.accepted, count + 1);
          assert.equal(await rawCount("chunks"), count);
          const totals = await store.totals({ tenantId: "chunks" });
          assert.equal(totals.totals[0].impressions, String(count - 1 + 5));
          assert.equal(
            normalizeDecimal(totals.totals[0].cost),
            normalizeDecimal(
              sumDecimals(Array.from({ length: count }, () => "0.01")),
            ),
          );
          await assertRollupsMatchRaw(db.driver, "chunks");
          // And replaying all of it is still a no-op.
          const before = await snapshot(db.driver);
          await store.upsert(rows);
          assert.deepEqual(await snapshot(db.driver), before);
        });
      } finally {
        await db.dispose();
      }
    },
  });
}
