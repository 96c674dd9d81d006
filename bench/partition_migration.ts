/**
 * Times the online migration of a populated campaign_metrics to the partitioned table
 * (sql/007) on the benchmark's schema, while a writer and a reader keep working, so
 * "online" is measured rather than claimed: their latencies before and during the
 * migration, and any failure, are reported.
 *
 *   BENCH_DATABASE_URL=postgres://... BENCH_SCALE_SCHEMA=bench_part \
 *     deno run -A bench/partition_migration.ts
 *
 * The writer is the upsert as the code before 007 sends it (a replica not yet rolled
 * over): 50 rows of its own tenant per transaction, dated this month. Its rows are
 * removed afterwards, rollups included. Output: a summary on stdout and, with
 * BENCH_OUT, the figures as JSON.
 */
import postgres from "postgres";
import { postgresDriver, type SqlDriver, type SqlExecutor } from "../lib/store/driver.ts";
import { migrate } from "../lib/store/migrate.ts";
import { MIGRATIONS } from "../sql/migrations.ts";
import { upsertRows } from "../lib/store/staged_write.ts";
import { validateRows } from "../lib/schema.ts";
import { SqlMetricsStore } from "../lib/store/sql_store.ts";
import { isPartitioned, listPartitions } from "../lib/store/partitions.ts";
import { assertSchemaName } from "./db.ts";
import { round, summarize } from "./stats.ts";

const PROBE_TENANT = "online-probe";

interface Probe {
  latencies: number[];
  failures: string[];
}

function summary(probe: Probe) {
  return {
    ...summarize(probe.latencies),
    failures: probe.failures.length,
    first_failure: probe.failures[0] ?? null,
  };
}

/** Runs `work` in a loop (a pause between runs) until `stop()` resolves, timing each. */
function loop(work: () => Promise<unknown>, pauseMs: number) {
  let running = true;
  let probe: Probe = { latencies: [], failures: [] };
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        await work();
        probe.latencies.push(performance.now() - t0);
      } catch (error) {
        probe.failures.push(String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  })();
  return {
    /** Starts a new measurement window; returns the one that ends. */
    cut(): Probe {
      const ended = probe;
      probe = { latencies: [], failures: [] };
      return ended;
    },
    async stop(): Promise<Probe> {
      running = false;
      await done;
      return probe;
    },
  };
}

/** The driver with every transaction timed (migrate runs each step in its own). */
export function timed(driver: SqlDriver, durations: number[]): SqlDriver {
  return {
    ...driver,
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const t0 = performance.now();
      try {
        return await driver.transaction(work);
      } finally {
        durations.push(performance.now() - t0);
      }
    },
  };
}

async function main() {
  const url = Deno.env.get("BENCH_DATABASE_URL");
  if (!url) throw new Error("set BENCH_DATABASE_URL");
  const schema = assertSchemaName(Deno.env.get("BENCH_SCALE_SCHEMA") ?? "bench_part");
  const client = (max: number) =>
    postgres(url, { max, onnotice: () => {}, connection: { search_path: schema } });
  const migrator = postgresDriver(client(1));
  const writer = postgresDriver(client(1));
  const reader = postgresDriver(client(1));
  const [load] = Deno.loadavg();
  try {
    const partitionedBefore = await isPartitioned(migrator);
    const [count] = await migrator.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM campaign_metrics",
    );
    let batch = 0;
    const now = new Date();
    const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
    const write = async () => {
      batch++;
      const inputs = Array.from({ length: 50 }, (_, i) => ({
        tenant_id: PROBE_TENANT,
        platform: "google",
        account_id: "probe",
        campaign_id: `probe-${i}`,
        ts: hour.toISOString(),
        impressions: batch,
        clicks: 1,
        conversions: "0",
        cost: "1.00",
        revenue: "2.00",
        currency: "USD",
        source: "bench",
      }));
      const { rows } = validateRows(inputs, {}, now);
      await writer.transaction((tx) => upsertRows(tx, rows));
    };
    const store = new SqlMetricsStore(reader);
    const read = () =>
      reader.query(
        `SELECT sum(impressions)::text FROM campaign_metrics
         WHERE tenant_id = 'bench' AND campaign_id = 'cmp-00042'
           AND ts >= '2025-06-01Z' AND ts < '2025-07-01Z'`,
      );
    const writes = loop(write, 20);
    const reads = loop(read, 20);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const writesBefore = writes.cut();
    const readsBefore = reads.cut();
    const durations: number[] = [];
    const t0 = performance.now();
    const applied = await migrate(timed(migrator, durations), MIGRATIONS);
    const migrationS = (performance.now() - t0) / 1000;
    const writesDuring = writes.cut();
    const readsDuring = reads.cut();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const writesAfter = await writes.stop();
    const readsAfter = await reads.stop();
    // The store reads the same rows after as before (the parent answers for the legacy table).
    await store.totals({ tenantId: "bench", campaignIds: ["cmp-00042"] });
    const partitions = await listPartitions(migrator);
    const [countAfter] = await migrator.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM campaign_metrics",
    );
    for (
      const table of ["campaign_metrics", "campaign_monthly", "campaign_daily", "platform_hourly"]
    ) {
      await migrator.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [PROBE_TENANT]);
    }
    await migrator.query(`DELETE FROM campaigns WHERE tenant_id = $1`, [PROBE_TENANT]);
    const [load1] = Deno.loadavg();
    const probeRows = 50;
    const result = {
      schema,
      started_at: now.toISOString(),
      load_average_1m: { start: load, end: load1 },
      rows: Number(count.n),
      partitioned_before: partitionedBefore,
      applied,
      migration_s: round(migrationS, 3),
      // migrate's transactions: the schema_migrations set-up, one per recorded version
      // (a look-up), then 007's three steps (CHECK NOT VALID, VALIDATE, swap).
      transactions_ms: durations.map((ms) => round(ms, 1)),
      partitions: partitions.map((p) => ({
        name: p.name,
        lower: p.lower?.toISOString() ?? "MINVALUE",
        upper: p.upper?.toISOString() ?? null,
      })),
      rows_after: Number(countAfter.n) - probeRows,
      writer_50_rows: {
        before: summary(writesBefore),
        during: summary(writesDuring),
        after: summary(writesAfter),
      },
      reader_one_campaign_month: {
        before: summary(readsBefore),
        during: summary(readsDuring),
        after: summary(readsAfter),
      },
    };
    console.log(JSON.stringify(result, null, 2));
    const out = Deno.env.get("BENCH_OUT");
    if (out) await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
  } finally {
    await Promise.all([migrator.close(), writer.close(), reader.close()]);
  }
}

if (import.meta.main) await main();
