/**
 * campaign_metrics partitioned by month (sql/007, lib/store/partitions.ts), on every
 * engine: partitions ahead and on demand, upserts and restatements across a month
 * boundary with exact rollups, retention (kept months and lifetime totals unchanged, a
 * late row for a dropped month refused, reads that would need dropped rows refused),
 * and the online migration of a populated unpartitioned table (same data, same keys,
 * a re-run changes nothing).
 */
import assert from "node:assert/strict";
import {
  ENGINES,
  pgliteDatabase,
  postgresDatabase,
  postgresMissing,
  type TestDatabase,
} from "../support/databases.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { upsertRows } from "../../lib/store/staged_write.ts";
import { RetainedRangeError } from "../../lib/store/metrics_store.ts";
import type { SqlExecutor } from "../../lib/store/driver.ts";
import { migrate, splitStatements, STEP_MARKER } from "../../lib/store/migrate.ts";
import { runMigration009 } from "../support/running_totals.ts";
import { isTransientDatabaseError } from "../../lib/store/errors.ts";
import { MIGRATIONS } from "../../sql/migrations.ts";
import {
  HorizonCache,
  listPartitions,
  maintainPartitions,
  monthKeyOf,
  monthPartitionName,
  monthStart,
  rawKeptFrom,
} from "../../lib/store/partitions.ts";
import { type MetricRowInput, validateRows } from "../../lib/schema.ts";
import { normalizeDecimal } from "../../lib/decimal.ts";
import { KEY_A, testApp } from "../support/test_app.ts";

function row(overrides: Partial<MetricRowInput> = {}): MetricRowInput {
  return {
    tenant_id: "acme",
    platform: "google",
    account_id: "acc-1",
    campaign_id: "cmp-1",
    ts: "2025-01-31T23:00:00Z",
    impressions: 100,
    clicks: 10,
    conversions: "1.5",
    cost: "10.25",
    revenue: "30.50",
    currency: "USD",
    source: "test",
    ...overrides,
  };
}

/**
 * Every rollup recomputed from the raw rows, compared with the stored one (the rollups
 * must equal their definition). Lists the tables that differ.
 */
async function rollupsDifferingFromRaw(db: SqlExecutor): Promise<string[]> {
  const sums = `sum(impressions)::text, sum(clicks)::text, sum(conversions)::text,
    sum(cost)::text, sum(revenue)::text`;
  const nonzero = `HAVING sum(impressions) <> 0 OR sum(clicks) <> 0 OR sum(conversions) <> 0
    OR sum(cost) <> 0 OR sum(revenue) <> 0`;
  const checks: Record<string, [string, string]> = {
    campaign_monthly: [
      `SELECT tenant_id, month, platform, campaign_id, currency, impressions::text,
         clicks::text, conversions::text, cost::text, revenue::text FROM campaign_monthly
       WHERE impressions <> 0 OR clicks <> 0 OR conversions <> 0 OR cost <> 0 OR revenue <> 0`,
      `SELECT tenant_id, date_trunc('month', ts AT TIME ZONE 'UTC')::date, platform,
         campaign_id, currency, ${sums} FROM campaign_metrics GROUP BY 1, 2, 3, 4, 5 ${nonzero}`,
    ],
    campaign_daily: [
      `SELECT tenant_id, day, platform, account_id, campaign_id, currency, impressions::text,
         clicks::text, conversions::text, cost::text, revenue::text FROM campaign_daily
       WHERE impressions <> 0 OR clicks <> 0 OR conversions <> 0 OR cost <> 0 OR revenue <> 0`,
      `SELECT tenant_id, (ts AT TIME ZONE 'UTC')::date, platform, account_id, campaign_id,
         currency, ${sums} FROM campaign_metrics GROUP BY 1, 2, 3, 4, 5, 6 ${nonzero}`,
    ],
    platform_hourly: [
      `SELECT tenant_id, hour, platform, currency, impressions::text, clicks::text,
         conversions::text, cost::text, revenue::text FROM platform_hourly
       WHERE impressions <> 0 OR clicks <> 0 OR conversions <> 0 OR cost <> 0 OR revenue <> 0`,
      `SELECT tenant_id, date_trunc('hour', ts), platform, currency, ${sums}
       FROM campaign_metrics GROUP BY 1, 2, 3, 4 ${nonzero}`,
    ],
  };
  const differing: string[] = [];
  for (const [table, [stored, recomputed]] of Object.entries(checks)) {
    const [found] = await db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ((${stored} EXCEPT ALL ${recomputed})
         UNION ALL (${recomputed} EXCEPT ALL ${stored})) d`,
    );
    if (found.n !== "0") differing.push(table);
  }
  return differing;
}

/** A table's rows as text, in a stable order (for before/after comparisons). */
async function tableText(db: SqlExecutor, table: string): Promise<string> {
  const rows = await db.query(`SELECT t::text AS line FROM ${table} t ORDER BY 1`);
  return JSON.stringify(rows);
}

/** The indexes of the partitioned parent: name, method, unique/primary, columns. */
async function parentIndexes(db: SqlExecutor) {
  return await db.query<{ name: string; method: string; primary: boolean; definition: string }>(
    `SELECT c.relname::text AS name, am.amname::text AS method, i.indisprimary AS primary,
            pg_get_indexdef(i.indexrelid) AS definition
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
     WHERE i.indrelid = to_regclass('campaign_metrics') ORDER BY 1`,
  );
}

const lifetime = async (store: SqlMetricsStore, tenantId: string) =>
  (await store.totals({ tenantId })).totals.map((sums) => ({
    ...sums,
    conversions: normalizeDecimal(sums.conversions),
    cost: normalizeDecimal(sums.cost),
    revenue: normalizeDecimal(sums.revenue),
  }));

for (const engine of ENGINES) {
  Deno.test({
    name: `partitioned campaign_metrics on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db: TestDatabase = await engine.open();
      // Reads the retention horizon with every read (the cache is tested on its own below).
      const store = new SqlMetricsStore(db.driver, { horizonCacheMs: 0 });
      try {
        await t.step("a fresh schema is partitioned, with the key and BRIN index", async () => {
          const [kind] = await db.driver.query<{ kind: string }>(
            `SELECT relkind::text AS kind FROM pg_class WHERE oid = to_regclass('campaign_metrics')`,
          );
          assert.equal(kind.kind, "p");
          const indexes = await parentIndexes(db.driver);
          assert.deepEqual(indexes.map((i) => [i.name, i.method, i.primary]), [
            ["campaign_metrics_key", "btree", true],
            ["campaign_metrics_ts", "brin", false],
          ]);
          assert.match(
            indexes[0].definition,
            /\(tenant_id, campaign_id, platform, account_id, ts\)/,
          );
        });

        await t.step("partitions are created ahead: this month and 13 after", async () => {
          const now = new Date("2026-12-15T10:00:00Z");
          const report = await maintainPartitions(db.driver, { now });
          const expected = Array.from(
            { length: 14 },
            (_, i) => monthPartitionName(monthKeyOf(now) + i),
          );
          assert.deepEqual(report.created, expected);
          const again = await maintainPartitions(db.driver, { now });
          assert.deepEqual(again.created, [], "a second run creates nothing");
          const names = (await listPartitions(db.driver)).map((p) => p.name);
          for (const name of expected) assert.ok(names.includes(name), name);
        });

        await t.step("a write into an old month creates its partition on demand", async () => {
          const result = await store.upsert([
            row({ tenant_id: "old", ts: "2000-02-29T12:00:00Z" }),
          ]);
          assert.deepEqual(result, { accepted: 1, rejected: [] });
          const partition = (await listPartitions(db.driver)).find((p) =>
            p.name === "campaign_metrics_y2000m02"
          );
          assert.ok(partition, "partition of 2000-02 created");
          assert.equal(partition.lower?.toISOString(), "2000-02-01T00:00:00.000Z");
          assert.equal(partition.upper?.toISOString(), "2000-03-01T00:00:00.000Z");
          // It carries the parent's key, BRIN index and checks (attached, not inherited by hand).
          const indexes = await db.driver.query<{ method: string; primary: boolean }>(
            `SELECT am.amname::text AS method, i.indisprimary AS primary
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
             WHERE i.indrelid = to_regclass('campaign_metrics_y2000m02') ORDER BY 1`,
          );
          assert.deepEqual(indexes.map((i) => [i.method, i.primary]), [
            ["brin", false],
            ["btree", true],
          ]);
          await assert.rejects(
            db.driver.query(
              `INSERT INTO campaign_metrics_y2000m02 (tenant_id, platform, account_id, campaign_id,
                 ts, impressions, clicks, conversions, cost, revenue, currency, source)
               VALUES ('old', 'myspace', 'a', 'c', '2000-02-01Z', 1, 1, 0, 0, 0, 'USD', 't')`,
            ),
            /campaign_metrics_platform_check/,
          );
          assert.equal((await lifetime(store, "old"))[0].impressions, "100");
          // A second store (another replica) that never saw the month writes there too.
          const other = new SqlMetricsStore(db.driver, { horizonCacheMs: 0 });
          await other.upsert([row({ tenant_id: "old", ts: "2000-02-29T13:00:00Z" })]);
          assert.equal((await lifetime(store, "old"))[0].impressions, "200");
        });

        await t.step("upserts and restatements across a month boundary stay exact", async () => {
          const tenant = "boundary";
          const batch = [
            row({ tenant_id: tenant, ts: "2025-01-31T23:00:00Z" }),
            row({ tenant_id: tenant, ts: "2025-02-01T00:00:00Z", impressions: 7 }),
            row({ tenant_id: tenant, ts: "2025-02-01T00:00:00Z", campaign_id: "cmp-2" }),
          ];
          await store.upsert(batch);
          // Restate both sides of the boundary (ON CONFLICT on the partitioned key).
          const restated = await store.upsert([
            row({ tenant_id: tenant, ts: "2025-01-31T23:00:00Z", impressions: 40, cost: "1.10" }),
            row({ tenant_id: tenant, ts: "2025-02-01T00:00:00Z", impressions: 60, cost: "2.20" }),
          ]);
          assert.equal(restated.accepted, 2);
          const [count] = await db.driver.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM campaign_metrics WHERE tenant_id = $1`,
            [tenant],
          );
          assert.equal(count.n, "3", "restatements replaced rows, none added");
          const january = await store.totals({
            tenantId: tenant,
            from: new Date("2025-01-01T00:00:00Z"),
            to: new Date("2025-02-01T00:00:00Z"),
          });
          assert.equal(january.totals[0].impressions, "40");
          const around = await store.totals({
            tenantId: tenant,
            from: new Date("2025-01-31T22:30:00Z"),
            to: new Date("2025-02-01T00:30:00Z"),
          });
          assert.equal(around.totals[0].impressions, "200", "40 + 60 + 100");
          assert.equal(normalizeDecimal(around.totals[0].cost), "13.55");
          assert.deepEqual(await rollupsDifferingFromRaw(db.driver), []);
          const rows = await db.driver.query<{ table: string; n: string }>(
            `SELECT tableoid::regclass::text AS table, count(*)::text AS n FROM campaign_metrics
             WHERE tenant_id = $1 GROUP BY 1 ORDER BY 1`,
            [tenant],
          );
          assert.deepEqual(rows.map((r) => [r.table.replace(/^.*\./, ""), r.n]), [
            ["campaign_metrics_y2025m01", "1"],
            ["campaign_metrics_y2025m02", "2"],
          ]);
        });

        await t.step("retention drops old months; kept months and lifetime unchanged", async () => {
          const tenant = "kept";
          const now = new Date("2026-12-15T10:00:00Z");
          const rows: MetricRowInput[] = [];
          for (let month = 5; month <= 11; month++) { // June to December 2026
            for (const day of [1, 14, 28]) {
              for (const [campaign, hour] of [["cmp-a", 3], ["cmp-b", 17]] as const) {
                rows.push(row({
                  tenant_id: tenant,
                  campaign_id: campaign,
                  ts: new Date(Date.UTC(2026, month, day, hour)).toISOString(),
                  impressions: 1000 + month * 10 + day,
                  cost: `${month}.${String(day).padStart(2, "0")}`,
                }));
              }
            }
          }
          assert.equal((await store.upsert(rows, { now })).accepted, rows.length);
          const monthRange = (m: number) => ({
            tenantId: tenant,
            from: new Date(Date.UTC(2026, m, 1)),
            to: new Date(Date.UTC(2026, m + 1, 1)),
          });
          const before = {
            lifetime: await lifetime(store, tenant),
            months: await Promise.all(
              [5, 6, 7, 8, 9, 10, 11].map((m) => store.totals(monthRange(m))),
            ),
            catalog: await store.findCampaign(tenant, "cmp-a"),
            monthly: await tableText(db.driver, "campaign_monthly"),
          };
          const report = await maintainPartitions(db.driver, {
            now,
            retentionMonths: 3,
            graceMs: 0,
          });
          assert.equal(report.rawKeptFrom?.toISOString(), "2026-09-01T00:00:00.000Z");
          for (const name of ["y2026m06", "y2026m07", "y2026m08", "y2000m02", "y2025m01"]) {
            assert.ok(report.dropped.includes(`campaign_metrics_${name}`), name);
          }
          assert.ok(!report.dropped.includes("campaign_metrics_y2026m09"));
          const [below] = await db.driver.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM campaign_metrics WHERE ts < '2026-09-01Z'`,
          );
          assert.equal(below.n, "0", "raw rows below the horizon are gone");
          assert.deepEqual(await lifetime(store, tenant), before.lifetime, "lifetime unchanged");
          assert.equal(await tableText(db.driver, "campaign_monthly"), before.monthly);
          assert.deepEqual(await store.findCampaign(tenant, "cmp-a"), before.catalog);
          const after = await Promise.all(
            [5, 6, 7, 8, 9, 10, 11].map((m) => store.totals(monthRange(m))),
          );
          assert.deepEqual(after, before.months, "whole months: same totals (rollups)");

          // A late restatement and a new row for a dropped month: refused, one by one.
          const late = await store.upsert([
            row({ tenant_id: tenant, campaign_id: "cmp-a", ts: "2026-09-01T03:00:00Z" }),
            row({ tenant_id: tenant, campaign_id: "cmp-a", ts: "2026-07-14T03:00:00Z" }),
            row({ tenant_id: tenant, campaign_id: "cmp-a", clicks: -1 }),
            row({ tenant_id: tenant, campaign_id: "cmp-new", ts: "2026-08-31T23:00:00Z" }),
          ], { now });
          assert.equal(late.accepted, 1);
          assert.deepEqual(late.rejected.map((r) => [r.index, r.field]), [
            [1, "ts"],
            [2, "clicks"],
            [3, "ts"],
          ]);
          assert.match(late.rejected[0].error, /dropped by retention \(RETENTION_MONTHS\)/);
          assert.deepEqual(await store.totals(monthRange(6)), before.months[1], "July as it was");
          assert.ok(
            !(await listPartitions(db.driver)).some((p) => p.name === "campaign_metrics_y2026m07"),
            "no partition re-created for a dropped month",
          );
          assert.deepEqual(
            await rollupsDifferingFromRaw(db.driver).then((d) => d.length),
            3,
            "(the rollups keep the dropped months the raw rows no longer have)",
          );

          // Reads: whole days before the horizon come from rollups; raw edges are refused.
          const days = await store.totals({
            tenantId: tenant,
            from: new Date("2026-07-10T00:00:00Z"),
            to: new Date("2026-07-20T00:00:00Z"),
          });
          assert.equal(days.totals[0].impressions, String(2 * (1000 + 60 + 14)));
          await assert.rejects(
            store.totals({
              tenantId: tenant,
              campaignIds: ["cmp-a"],
              from: new Date("2026-07-10T00:00:00Z"),
              to: new Date("2026-07-20T00:00:00Z"),
            }),
            (error: unknown) =>
              error instanceof RetainedRangeError && error.field === "from" &&
              error.rawKeptFrom.toISOString() === "2026-09-01T00:00:00.000Z",
          );
          await assert.rejects(
            store.series(
              {
                tenantId: tenant,
                from: new Date("2026-08-28T00:00:00Z"),
                to: new Date("2026-08-30T00:00:00Z"),
              },
              "day",
              "Asia/Kolkata",
            ),
            RetainedRangeError,
          );
          // An edge whose hours hold no data needs no raw rows: still answered exactly.
          const emptyEdge = await store.totals({
            tenantId: tenant,
            from: new Date("2026-08-31T22:30:00Z"),
            to: new Date("2026-09-02T00:00:00Z"),
          });
          // September 1: cmp-a restated to 100 above, cmp-b as written.
          assert.equal(emptyEdge.totals[0].impressions, String(100 + 1000 + 80 + 1));
          assert.deepEqual(
            await store.rank({
              tenantId: tenant,
              from: new Date("2026-07-10T00:00:00Z"),
              to: new Date("2026-07-20T00:00:00Z"),
            }, { groupBy: "campaign", metric: "impressions", order: "desc", limit: 5 })
              .then((ranked) => ranked.map((r) => [r.campaign_id, r.impressions])),
            [["cmp-a", "1074"], ["cmp-b", "1074"]],
            "the top campaigns' sums come from the daily rollup, not the dropped raw rows",
          );
          // The horizon only moves forward.
          await maintainPartitions(db.driver, { now, retentionMonths: 12, graceMs: 0 });
          assert.equal((await rawKeptFrom(db.driver))?.toISOString(), "2026-09-01T00:00:00.000Z");
        });
      } finally {
        await db.dispose();
      }
    },
  });
}

const BEFORE_007 = MIGRATIONS.filter((migration) => migration.version < 7);
const MIGRATION_007 = MIGRATIONS.find((migration) => migration.version === 7)!;

/**
 * The tables as they were before 007 plus what today's upsert statement also writes,
 * which a later migration adds (009's running totals). 009 can run again: `migrate`
 * does, after 007 and 008.
 */
async function beforePartitions(db: TestDatabase): Promise<TestDatabase> {
  await runMigration009(db.driver);
  return db;
}

const unmigratedEngines = [
  {
    name: "pglite",
    missing: false,
    open: async () => beforePartitions(await pgliteDatabase(BEFORE_007)),
  },
  {
    name: "postgres",
    missing: postgresMissing,
    open: async () => beforePartitions(await postgresDatabase({ migrations: BEFORE_007 })),
  },
];

for (const engine of unmigratedEngines) {
  Deno.test({
    name: `migrating a populated campaign_metrics to partitions on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const db = await engine.open();
      try {
        // Written by the store's upsert statement into the table as it was before 007.
        const now = new Date();
        const inputs = [
          row({ ts: "2024-12-31T23:00:00Z" }),
          row({ ts: "2025-01-01T00:00:00Z", campaign_id: "cmp-2", currency: "EUR" }),
          row({ ts: "2025-06-15T08:00:00Z", platform: "meta", account_id: "m-1" }),
          row({ ts: new Date(now.getTime() + 200 * 86_400_000).toISOString(), tenant_id: "f" }),
        ];
        const { rows } = validateRows(inputs, {}, now);
        await db.driver.transaction((tx) => upsertRows(tx, rows));
        const tables = [
          "campaign_metrics",
          "campaign_monthly",
          "campaign_daily",
          "platform_hourly",
        ];
        const before = await Promise.all(tables.map((table) => tableText(db.driver, table)));
        const constraints = () =>
          db.driver.query<{ name: string; definition: string }>(
            `SELECT conname::text AS name, pg_get_constraintdef(oid) AS definition
             FROM pg_constraint WHERE conrelid = to_regclass('campaign_metrics')
               AND contype IN ('p', 'u', 'c') ORDER BY 1`, // PGlite (PostgreSQL 18) lists NOT NULLs too
          ).then((rows) => rows.map((r) => [r.name, r.definition]));
        const constraintsBefore = await constraints();
        assert.equal(constraintsBefore.length, 7, "the key and six checks");

        const applied = await migrate(db.driver, MIGRATIONS);
        assert.deepEqual(applied, MIGRATIONS.map((m) => m.version).filter((v) => v >= 7));
        const after = await Promise.all(tables.map((table) => tableText(db.driver, table)));
        assert.deepEqual(after, before, "data identical after the migration");
        const partitions = await listPartitions(db.driver);
        // The legacy partition ends at the month after the latest row (dated 200 days
        // ahead); every month from there to 13 ahead is a partition of its own.
        const latest = monthKeyOf(new Date(now.getTime() + 200 * 86_400_000));
        const months = Array.from(
          { length: monthKeyOf(now) + 13 - latest },
          (_, i) => latest + 1 + i,
        );
        const boundary = monthStart(latest + 1);
        assert.deepEqual(partitions.map((p) => [p.name, p.lower, p.upper?.toISOString()]), [
          ["campaign_metrics_legacy", null, boundary.toISOString()],
          ...months.map((key) => [
            monthPartitionName(key),
            monthStart(key),
            monthStart(key + 1).toISOString(),
          ]),
        ]);
        const indexes = await parentIndexes(db.driver);
        assert.deepEqual(indexes.map((i) => [i.name, i.method, i.primary]), [
          ["campaign_metrics_key", "btree", true],
          ["campaign_metrics_ts", "brin", false],
        ]);
        assert.deepEqual(await constraints(), constraintsBefore, "same key and checks, same names");
        // The old table's indexes became partitions of the parent's (none rebuilt).
        const attached = await db.driver.query<{ child: string; parent: string }>(
          `SELECT c.relname::text AS child, p.relname::text AS parent FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
           WHERE p.relname IN ('campaign_metrics_key', 'campaign_metrics_ts')
             AND c.relname LIKE 'campaign\_metrics\_legacy%' AND p.relnamespace = current_schema()::regnamespace ORDER BY 1`,
        );
        assert.deepEqual(attached.map((a) => [a.child, a.parent]), [
          ["campaign_metrics_legacy_key", "campaign_metrics_key"],
          ["campaign_metrics_legacy_ts", "campaign_metrics_ts"],
        ]);

        // Re-running the script is a no-op.
        const catalog = async () =>
          JSON.stringify([await listPartitions(db.driver), await parentIndexes(db.driver)]);
        const catalogBefore = await catalog();
        assert.deepEqual(
          await migrate(db.driver, [{ ...MIGRATION_007, version: 907, name: "007 again" }]),
          [907],
        );
        assert.equal(await catalog(), catalogBefore);
        assert.deepEqual(
          await Promise.all(tables.map((table) => tableText(db.driver, table))),
          before,
        );

        // Writes go on: ON CONFLICT on the parent's key restates a row of the legacy partition.
        const store = new SqlMetricsStore(db.driver, { horizonCacheMs: 0 });
        const restated = await store.upsert([
          row({ ts: "2024-12-31T23:00:00Z", impressions: 5 }),
          row({ ts: "2025-01-01T00:00:00Z", impressions: 9 }),
        ], { now });
        assert.equal(restated.accepted, 2);
        const [count] = await db.driver.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM campaign_metrics_legacy`,
        );
        assert.equal(count.n, "5");
        assert.deepEqual(await rollupsDifferingFromRaw(db.driver), []);
        // The app keeps creating months ahead after the ones the migration made.
        const report = await maintainPartitions(db.driver, {
          now: monthStart(monthKeyOf(now) + 2),
        });
        assert.deepEqual(report.created, [
          monthPartitionName(monthKeyOf(now) + 14),
          monthPartitionName(monthKeyOf(now) + 15),
        ]);

        // Retention: old months leave the legacy partition by DELETE; the rest stays.
        const lifetimeBefore = await lifetime(store, "acme");
        const retained = await maintainPartitions(db.driver, {
          now: new Date("2025-03-10T00:00:00Z"),
          retentionMonths: 1,
          graceMs: 0,
        });
        assert.equal(retained.rawKeptFrom?.toISOString(), "2025-02-01T00:00:00.000Z");
        assert.equal(retained.legacyRowsDeleted, 3);
        assert.equal(retained.legacyDropped, false);
        assert.deepEqual(await lifetime(store, "acme"), lifetimeBefore);
        // Once the horizon passes its upper bound the legacy partition is dropped.
        const later = await maintainPartitions(db.driver, {
          now: monthStart(monthKeyOf(boundary) + 1),
          retentionMonths: 1,
          graceMs: 0,
        });
        assert.equal(later.legacyDropped, true);
        assert.equal(later.legacyRowsDeleted, 2);
        assert.ok(!(await listPartitions(db.driver)).some((p) => p.name.endsWith("_legacy")));
        assert.deepEqual(await lifetime(store, "acme"), lifetimeBefore);
      } finally {
        await db.dispose();
      }
    },
  });
}

Deno.test("the API answers a read that needs raw rows dropped by retention with 422 naming from", async () => {
  const db = await pgliteDatabase();
  const store = new SqlMetricsStore(db.driver, { horizonCacheMs: 0 });
  const { app, dispose } = await testApp({ db, overrides: { store } });
  try {
    const rows = ["2024-01-10T05:00:00Z", "2024-04-02T05:00:00Z"].map((ts) =>
      row({ tenant_id: "tenant-a", campaign_id: "cmp-42", ts })
    );
    const now = new Date("2024-04-24T10:00:00Z");
    assert.equal((await store.upsert(rows, { now })).accepted, 2);
    await maintainPartitions(db.driver, { now, retentionMonths: 2, graceMs: 0 }); // keeps February on
    const get = (path: string) =>
      app.request(path, { headers: { Authorization: `Bearer ${KEY_A}` } });
    // One campaign in New York: the hours at the range's edges are raw rows of January.
    const refused = await get(
      "/campaign/cmp-42/insights?from=2024-01-05&to=2024-01-20&tz=America/New_York",
    );
    assert.equal(refused.status, 422);
    const body = await refused.json();
    assert.equal(body.field, "from");
    assert.match(body.error, /2024-02-01T00:00:00.000Z.*RETENTION_MONTHS/);
    // Whole UTC days of the same campaign come from the rollups: answered.
    const answered = await get("/campaign/cmp-42/insights?from=2024-01-01&to=2024-04-20");
    assert.equal(answered.status, 200);
    const totals = await answered.json();
    assert.equal(totals.totals.impressions, 200, "January from the monthly rollup, April raw");
  } finally {
    await dispose();
  }
});

Deno.test("the horizon cache: fresh for its TTL, then read again; the latest read wins", async () => {
  const db = await pgliteDatabase();
  try {
    let clock = 0;
    const cache = new HorizonCache(db.driver, 1_000, () => clock);
    assert.equal(cache.fresh(), undefined, "nothing read yet");
    assert.equal(await cache.get(), null);
    await db.driver.query(
      `UPDATE campaign_metrics_retention SET raw_kept_from = '2024-02-01Z'`,
    );
    clock = 999;
    assert.equal(cache.fresh(), null, "still within its TTL: the value read at 0");
    clock = 1_000;
    assert.equal(cache.fresh(), undefined);
    assert.equal((await cache.get())?.toISOString(), "2024-02-01T00:00:00.000Z");
    cache.remember(null, 500); // an older read arriving late does not win
    assert.equal(cache.fresh()?.toISOString(), "2024-02-01T00:00:00.000Z");
  } finally {
    await db.dispose();
  }
});

Deno.test("retention waits out the horizon readers cached before it drops rows", async () => {
  const db = await pgliteDatabase();
  try {
    // A reader that keeps the horizon 300 ms, and retention that waits 600 ms.
    const store = new SqlMetricsStore(db.driver, { horizonCacheMs: 300 });
    const now = new Date("2024-04-24T10:00:00Z");
    await store.upsert(
      ["2024-01-10T05:00:00Z", "2024-04-02T05:00:00Z"].map((ts) => row({ ts })),
      { now },
    );
    const january = {
      tenantId: "acme",
      campaignIds: ["cmp-1"],
      from: new Date("2024-01-05T05:00:00Z"),
      to: new Date("2024-01-20T05:00:00Z"),
    };
    assert.equal(
      (await store.totals(january)).totals[0].impressions,
      "100",
      "cached: nothing dropped",
    );
    await maintainPartitions(db.driver, { now, retentionMonths: 2, graceMs: 600 });
    // The cached "nothing dropped" expired during the wait: the read is refused, never
    // answered from the rows that are gone.
    await assert.rejects(store.totals(january), RetainedRangeError);
  } finally {
    await db.dispose();
  }
});

for (const engine of unmigratedEngines) {
  Deno.test({
    name:
      `while the table becomes partitioned, a row past the boundary is a retryable refusal on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const db = await engine.open();
      try {
        const now = new Date();
        const write = (ts: Date) => {
          const { rows } = validateRows([row({ ts: ts.toISOString() })], {}, now);
          return db.driver.transaction((tx) => upsertRows(tx, rows));
        };
        await write(now);
        // Step 1 of 007 alone: the CHECK exists, the swap has not happened yet.
        const [firstStep] = MIGRATION_007.sql.split(STEP_MARKER);
        await db.driver.transaction(async (tx) => {
          for (const statement of splitStatements(firstStep)) await tx.query(statement);
        });
        const nextMonth = monthStart(monthKeyOf(now) + 1);
        const refused = await write(nextMonth).then(() => undefined, (error) => error);
        assert.ok(refused, "a row dated next month is refused before the swap");
        assert.ok(isTransientDatabaseError(refused), "and its writer retries it");
        await write(new Date(now.getTime() - 3_600_000)); // this month still writes

        await migrate(db.driver, MIGRATIONS);
        await write(nextMonth); // the retry lands in its month partition
        const [stored] = await db.driver.query<{ partition: string }>(
          `SELECT tableoid::regclass::text AS partition FROM campaign_metrics WHERE ts = $1`,
          [nextMonth.toISOString()],
        );
        assert.equal(stored.partition, monthPartitionName(monthKeyOf(nextMonth)));
        assert.deepEqual(await rollupsDifferingFromRaw(db.driver), []);
      } finally {
        await db.dispose();
      }
    },
  });
}
