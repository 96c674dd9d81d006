/**
 * Times sql/007 on an embedded (PGlite) database directory: opens it, applies the pending
 * migrations and reports how long each transaction took, the partitions after and the
 * row count before and after. PGlite has one connection, so nothing runs beside the
 * migration here (bench/partition_migration.ts measures concurrent work on PostgreSQL).
 *
 *   deno run -A bench/partition_migration_pglite.ts data/bench/pglite-1000x365/pglite
 */
import { PGlite } from "@electric-sql/pglite";
import { pgliteDriver } from "../lib/store/driver.ts";
import { timed } from "./partition_migration.ts";
import { migrate } from "../lib/store/migrate.ts";
import { MIGRATIONS } from "../sql/migrations.ts";
import { isPartitioned, listPartitions } from "../lib/store/partitions.ts";
import { round } from "./stats.ts";

const path = Deno.args[0];
if (!path) throw new Error("usage: partition_migration_pglite.ts <PGlite data directory>");
const driver = pgliteDriver(new PGlite(path));
const durations: number[] = [];
const timedDriver = timed(driver, durations);
try {
  const count = async () =>
    Number(
      (await driver.query<{ n: string }>("SELECT count(*)::text AS n FROM campaign_metrics"))[0].n,
    );
  const partitionedBefore = await isPartitioned(driver);
  const rows = await count();
  const t0 = performance.now();
  const applied = await migrate(timedDriver, MIGRATIONS);
  const result = {
    path,
    load_average_1m: Deno.loadavg()[0],
    rows,
    partitioned_before: partitionedBefore,
    applied,
    migration_s: round((performance.now() - t0) / 1000, 3),
    transactions_ms: durations.map((ms) => round(ms, 1)),
    partitions: (await listPartitions(driver)).map((p) => ({
      name: p.name,
      lower: p.lower?.toISOString() ?? "MINVALUE",
      upper: p.upper?.toISOString() ?? null,
    })),
    rows_after: await count(),
  };
  console.log(JSON.stringify(result, null, 2));
  const out = Deno.env.get("BENCH_OUT");
  if (out) await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
} finally {
  await driver.close();
}
