/**
 * Times retention (lib/store/partitions.ts maintainPartitions with RETENTION_MONTHS) on a
 * loaded benchmark schema and checks what it must keep: lifetime totals and the totals of
 * every month (from the rollups) are the same after as before, and no raw row is left
 * below the horizon. Destroys the schema's old raw rows: the next benchmark run reloads.
 *
 *   BENCH_DATABASE_URL=postgres://... BENCH_SCALE_SCHEMA=bench_part_m \
 *     deno run -A bench/retention_drop.ts 2026-12-02 18
 *
 * Arguments: the clock's date (UTC) and RETENTION_MONTHS. No reader runs beside it, so
 * the wait readers' cached horizon needs (RETENTION_GRACE_MS) is skipped.
 */
import postgres from "postgres";
import { postgresDriver } from "../lib/store/driver.ts";
import { SqlMetricsStore } from "../lib/store/sql_store.ts";
import { listPartitions, maintainPartitions } from "../lib/store/partitions.ts";
import { assertSchemaName } from "./db.ts";
import { round } from "./stats.ts";

const [day, months] = Deno.args;
if (!day || !months) throw new Error("usage: retention_drop.ts YYYY-MM-DD RETENTION_MONTHS");
const url = Deno.env.get("BENCH_DATABASE_URL");
if (!url) throw new Error("set BENCH_DATABASE_URL");
const schema = assertSchemaName(Deno.env.get("BENCH_SCALE_SCHEMA") ?? "bench_part_m");
const driver = postgresDriver(
  postgres(url, { max: 2, onnotice: () => {}, connection: { search_path: schema } }),
);
const store = new SqlMetricsStore(driver, { horizonCacheMs: 0 });
try {
  const count = async () =>
    Number(
      (await driver.query<{ n: string }>("SELECT count(*)::text AS n FROM campaign_metrics"))[0].n,
    );
  const monthly = () =>
    Promise.all(Array.from({ length: 12 }, (_, m) =>
      store.totals({
        tenantId: "bench",
        from: new Date(Date.UTC(2025, m, 1)),
        to: new Date(Date.UTC(2025, m + 1, 1)),
      })));
  const before = {
    rows: await count(),
    lifetime: await store.totals({ tenantId: "bench" }),
    months: await monthly(),
    partitions: (await listPartitions(driver)).length,
  };
  const t0 = performance.now();
  const report = await maintainPartitions(driver, {
    now: new Date(`${day}T12:00:00Z`),
    retentionMonths: Number(months),
    graceMs: 0,
  });
  const seconds = (performance.now() - t0) / 1000;
  const horizon = report.rawKeptFrom!;
  const [below] = await driver.query<{ n: string }>(
    "SELECT count(*)::text AS n FROM campaign_metrics WHERE ts < $1::timestamptz",
    [horizon.toISOString()],
  );
  const after = {
    rows: await count(),
    lifetime: await store.totals({ tenantId: "bench" }),
    months: await monthly(),
  };
  const result = {
    schema,
    load_average_1m: Deno.loadavg()[0],
    now: day,
    retention_months: Number(months),
    raw_kept_from: horizon.toISOString(),
    seconds: round(seconds, 3),
    partitions_before: before.partitions,
    dropped: report.dropped,
    legacy_rows_deleted: report.legacyRowsDeleted,
    legacy_dropped: report.legacyDropped,
    raw_rows_before: before.rows,
    raw_rows_after: after.rows,
    raw_rows_below_horizon_after: Number(below.n),
    lifetime_totals_unchanged: JSON.stringify(after.lifetime) === JSON.stringify(before.lifetime),
    monthly_totals_unchanged: JSON.stringify(after.months) === JSON.stringify(before.months),
  };
  console.log(JSON.stringify(result, null, 2));
  const out = Deno.env.get("BENCH_OUT");
  if (out) await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
} finally {
  await driver.close();
}
