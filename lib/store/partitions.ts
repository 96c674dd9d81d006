/**
 * The month partitions of `campaign_metrics` (sql/007) and the retention of raw rows.
 *
 * - Months are created ahead (`maintainPartitions`: at start-up and daily) and on demand
 *   (`ensureMonthPartitions`: the store calls it for the months of a batch it has not
 *   seen yet), each under the migration advisory lock, so replicas never race on DDL.
 * - Retention (`RETENTION_MONTHS`) first moves the horizon `raw_kept_from` forward, under
 *   the exclusive retention lock every writer takes shared: from that commit on no write
 *   can land below it (the store refuses such rows), so the months below can be dropped
 *   without a writer slipping a row in. Then month partitions below the horizon are
 *   detached and dropped, and the legacy partition (a table migrated in place) loses
 *   its old months by DELETE, and is dropped once it holds nothing the horizon keeps.
 *   The rollups are never touched: lifetime and monthly totals stay exact.
 */
import { z } from "zod";
import type { SqlDriver, SqlExecutor } from "./driver.ts";
import { MIGRATION_LOCK_KEY } from "./migrate.ts";
import type { RangePart } from "./range_plan.ts";
import { RetainedRangeError } from "./metrics_store.ts";

/**
 * Advisory lock between writers (shared, for the length of their transaction) and the
 * retention step that moves the horizon (exclusive). Separate from the migration lock:
 * validating a CHECK under that lock must not stop writes.
 */
export const RETENTION_LOCK_KEY = 7_100_420_002;

/** Months created ahead of the current one: rows may be dated up to a year ahead. */
export const MONTHS_AHEAD = 13;

const LEGACY = "campaign_metrics_legacy";

/** A month as a number: year * 12 + month index (UTC), e.g. 2025-01 is 24300. */
export type MonthKey = number;

export const monthKeyOf = (date: Date): MonthKey => date.getUTCFullYear() * 12 + date.getUTCMonth();
export const monthStart = (key: MonthKey): Date =>
  new Date(Date.UTC(Math.floor(key / 12), key % 12, 1));
export const monthPartitionName = (key: MonthKey): string => {
  const start = monthStart(key);
  return `campaign_metrics_y${start.getUTCFullYear()}m${
    String(start.getUTCMonth() + 1).padStart(2, "0")
  }`;
};

const PartitionRowSchema = z.object({
  name: z.string(),
  lower: z.coerce.date().nullable(),
  upper: z.coerce.date().nullable(),
});
/** One partition of campaign_metrics: [lower, upper); a null lower is MINVALUE. */
export type MetricPartition = z.infer<typeof PartitionRowSchema>;

/** Whether campaign_metrics is partitioned (false before sql/007). */
export async function isPartitioned(db: SqlExecutor): Promise<boolean> {
  const rows = await db.query<{ kind: string }>(
    `SELECT relkind::text AS kind FROM pg_class WHERE oid = to_regclass('campaign_metrics')`,
  );
  return rows[0]?.kind === "p";
}

/** The partitions of campaign_metrics with their bounds, oldest first. */
export async function listPartitions(db: SqlExecutor): Promise<MetricPartition[]> {
  const rows = await db.query(
    `SELECT c.relname::text AS name,
            substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \\(''([^'']+)''\\)')::timestamptz
              AS lower,
            substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''([^'']+)''\\)')::timestamptz
              AS upper
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = to_regclass('campaign_metrics')
     ORDER BY lower NULLS FIRST`,
  );
  return rows.map((row) => PartitionRowSchema.parse(row));
}

/** The retention horizon: raw rows before it were dropped (null: none ever were). */
export async function rawKeptFrom(db: SqlExecutor): Promise<Date | null> {
  const rows = await db.query<{ kept_from: Date | string | null }>(
    `SELECT raw_kept_from AS kept_from FROM campaign_metrics_retention`,
  );
  const value = rows[0]?.kept_from;
  return value === null || value === undefined ? null : new Date(value);
}

/**
 * Inside a writer's transaction: takes the retention lock shared (so the horizon cannot
 * move until this transaction ends) and returns the horizon.
 */
export async function lockRawKeptFrom(tx: SqlExecutor): Promise<Date | null> {
  const rows = await tx.query<{ kept_from: Date | string | null }>(
    `SELECT (SELECT raw_kept_from FROM campaign_metrics_retention) AS kept_from
     FROM pg_advisory_xact_lock_shared($1) lock`,
    [RETENTION_LOCK_KEY],
  );
  const value = rows[0]?.kept_from;
  return value === null || value === undefined ? null : new Date(value);
}

/** Whether a plan reads raw rows below `keptFrom` (an open start reads all of them). */
export function readsDroppedRows(parts: readonly RangePart[], keptFrom: Date): boolean {
  return parts.some((part) =>
    part.source === "raw" && (!part.from || part.from.getTime() < keptFrom.getTime())
  );
}

/**
 * Refuses (RetainedRangeError) a plan that reads raw rows below the retention horizon:
 * they were dropped, and the answer would silently miss them. `keptFrom` when the caller
 * has read the horizon already; otherwise it is read here (only if the plan reads raw rows).
 */
export async function assertRawKept(
  db: SqlExecutor,
  parts: readonly RangePart[],
  keptFrom?: Date | null,
): Promise<void> {
  if (!parts.some((part) => part.source === "raw")) return;
  const horizon = keptFrom === undefined ? await rawKeptFrom(db) : keptFrom;
  if (horizon && readsDroppedRows(parts, horizon)) throw new RetainedRangeError(horizon);
}

/** How long a reader may use the horizon it read (HorizonCache). */
export const HORIZON_CACHE_MS = 5_000;
/**
 * How long retention waits between moving the horizon and dropping rows below it: longer
 * than any reader's cached horizon may be old, so no read that uses an older horizon can
 * start after the rows are gone.
 */
export const RETENTION_GRACE_MS = 3 * HORIZON_CACHE_MS;

/**
 * The retention horizon as a reader knows it: read at most `ttlMs` ago (measured from
 * before the read was sent), so reads of raw rows cost no extra round trip. Exact with
 * `maintainPartitions`, which waits RETENTION_GRACE_MS (> ttlMs) after moving the horizon
 * before it drops anything: a read that starts with the old horizon still finds every row
 * it reads. Writers never use it: they read the horizon in their transaction, under the
 * retention lock.
 */
export class HorizonCache {
  private value: Date | null = null;
  private readAt = -Infinity;
  private pending: Promise<Date | null> | undefined;

  constructor(
    private readonly db: SqlExecutor,
    private readonly ttlMs = HORIZON_CACHE_MS,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** The cached horizon if read less than `ttlMs` ago; undefined otherwise. */
  fresh(): Date | null | undefined {
    return this.clock() - this.readAt < this.ttlMs ? this.value : undefined;
  }

  /** The horizon, from the cache or read now (concurrent callers share one read). */
  async get(): Promise<Date | null> {
    const cached = this.fresh();
    if (cached !== undefined) return cached;
    this.pending ??= (async () => {
      const sentAt = this.clock();
      try {
        const value = await rawKeptFrom(this.db);
        this.remember(value, sentAt);
        return value;
      } finally {
        this.pending = undefined;
      }
    })();
    return await this.pending;
  }

  /** A horizon read by another query that was sent at `sentAt` (this clock). */
  remember(value: Date | null, sentAt: number): void {
    if (sentAt >= this.readAt) {
      this.value = value;
      this.readAt = sentAt;
    }
  }

  /** This cache's clock (to stamp a query that brings the horizon along). */
  now(): number {
    return this.clock();
  }
}

/**
 * Runs `read`, the query of a plan, refusing it (RetainedRangeError) when the plan reads
 * raw rows below the retention horizon. The horizon: `keptFrom` when the caller just read
 * it, else the cache's; when the cache is stale it is read beside the query, not before
 * it (on a server the two run on two connections at once; the result is dropped if the
 * check fails).
 */
export async function readKept<T>(
  horizon: HorizonCache,
  parts: readonly RangePart[],
  read: () => Promise<T>,
  keptFrom?: Date | null,
): Promise<T> {
  if (!parts.some((part) => part.source === "raw")) return await read();
  const known = keptFrom !== undefined ? keptFrom : horizon.fresh();
  const refuse = (value: Date | null) => {
    if (value && readsDroppedRows(parts, value)) throw new RetainedRangeError(value);
  };
  if (known !== undefined) {
    refuse(known);
    return await read();
  }
  const [value, result] = await Promise.all([horizon.get(), read()]);
  refuse(value);
  return result;
}

const covers = (partition: MetricPartition, key: MonthKey) => {
  const from = monthStart(key).getTime();
  const to = monthStart(key + 1).getTime();
  return (partition.lower === null || partition.lower.getTime() <= from) &&
    (partition.upper === null || to <= partition.upper.getTime());
};

/** What `ensureMonthPartitions` found or made. */
export interface MonthCoverage {
  /** Months whose rows have a partition (existing, or created now). */
  covered: MonthKey[];
  /** Months below the retention horizon: no partition, and none will be made. */
  dropped: MonthKey[];
  /** Partitions this call created. */
  created: string[];
}

/**
 * Makes sure every month in `months` has a partition, creating the missing ones under
 * the migration lock (in a transaction of their own: DDL must not hold locks for the
 * length of a write). Months below the retention horizon get none. On a table that is
 * not partitioned every month is covered.
 */
export async function ensureMonthPartitions(
  driver: SqlDriver,
  months: Iterable<MonthKey>,
): Promise<MonthCoverage> {
  const wanted = [...new Set(months)].sort((a, b) => a - b);
  const result: MonthCoverage = { covered: [], dropped: [], created: [] };
  if (wanted.length === 0) return result;
  if (!(await isPartitioned(driver))) return { ...result, covered: wanted };
  // Without the lock first: in the common case every month exists already.
  const existing = await listPartitions(driver);
  if (wanted.every((key) => existing.some((p) => covers(p, key)))) {
    return { ...result, covered: wanted };
  }
  return await driver.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    const partitions = await listPartitions(tx);
    const keptFrom = await rawKeptFrom(tx);
    for (const key of wanted) {
      if (partitions.some((p) => covers(p, key))) {
        result.covered.push(key);
      } else if (keptFrom && monthStart(key).getTime() < keptFrom.getTime()) {
        result.dropped.push(key);
      } else {
        // Made apart, then attached: ATTACH locks the parent SHARE UPDATE EXCLUSIVE
        // (reads and writes go on), where CREATE TABLE ... PARTITION OF would take ACCESS
        // EXCLUSIVE and queue every query behind the slowest one in flight. The table is
        // empty, so the attach's check costs nothing; it builds the parent's indexes.
        const name = monthPartitionName(key);
        await tx.query(
          `CREATE TABLE ${name} (LIKE campaign_metrics INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
        );
        await tx.query(
          `ALTER TABLE campaign_metrics ATTACH PARTITION ${name}
           FOR VALUES FROM ('${monthStart(key).toISOString()}')
           TO ('${monthStart(key + 1).toISOString()}')`,
        );
        result.created.push(name);
        result.covered.push(key);
      }
    }
    return result;
  });
}

/** What one maintenance run did. */
export interface MaintenanceReport {
  /** Month partitions created ahead. */
  created: string[];
  /** The horizon after this run (null: no retention yet). */
  rawKeptFrom: Date | null;
  /** Month partitions detached and dropped. */
  dropped: string[];
  /** Rows deleted from the legacy partition (months below the horizon). */
  legacyRowsDeleted: number;
  /** Whether the legacy partition was dropped (it held nothing above the horizon). */
  legacyDropped: boolean;
}

export interface MaintenanceOptions {
  /** The clock (UTC months). */
  now?: Date;
  /**
   * Keep raw rows of the current month and this many whole months before it; older
   * months are dropped. Undefined: keep everything.
   */
  retentionMonths?: number;
  /**
   * How long a drop may wait for a lock (queries in flight) before this run gives up on
   * it; the next run tries again. Default 5 s.
   */
  lockTimeoutMs?: number;
  /**
   * Wait between moving the horizon and dropping rows (only when it moved): readers use
   * a horizon up to HORIZON_CACHE_MS old. Default RETENTION_GRACE_MS; 0 only where every
   * reader reads the horizon afresh.
   */
  graceMs?: number;
}

/**
 * Creates the partitions of the current month and MONTHS_AHEAD months after it, then
 * (with `retentionMonths`) drops raw rows older than the retention window. Safe to run
 * in every replica at once: each step holds the migration lock.
 */
export async function maintainPartitions(
  driver: SqlDriver,
  options: MaintenanceOptions = {},
): Promise<MaintenanceReport> {
  const now = options.now ?? new Date();
  const current = monthKeyOf(now);
  const report: MaintenanceReport = {
    created: [],
    rawKeptFrom: null,
    dropped: [],
    legacyRowsDeleted: 0,
    legacyDropped: false,
  };
  if (!(await isPartitioned(driver))) return report;
  const ahead = Array.from({ length: MONTHS_AHEAD + 1 }, (_, i) => current + i);
  report.created = (await ensureMonthPartitions(driver, ahead)).created;
  const retention = options.retentionMonths;
  if (retention === undefined) {
    report.rawKeptFrom = await rawKeptFrom(driver);
    return report;
  }
  const cutoff = monthStart(current - retention);
  const lockTimeout = `${Math.max(1, Math.round(options.lockTimeoutMs ?? 5_000))}ms`;
  // 1. The horizon, under the exclusive retention lock: waits for the writes in flight;
  //    every later write sees it. It only ever moves forward.
  const moved = await driver.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [RETENTION_LOCK_KEY]);
    const before = await rawKeptFrom(tx);
    const rows = await tx.query<{ kept_from: Date | string }>(
      `UPDATE campaign_metrics_retention
       SET raw_kept_from = greatest(raw_kept_from, $1::timestamptz)
       RETURNING raw_kept_from AS kept_from`,
      [cutoff.toISOString()],
    );
    const after = new Date(rows[0].kept_from);
    return { after, changed: before?.getTime() !== after.getTime() };
  });
  report.rawKeptFrom = moved.after;
  const horizon = report.rawKeptFrom.getTime();
  // Readers of other processes may still hold the old horizon for HORIZON_CACHE_MS.
  const graceMs = options.graceMs ?? RETENTION_GRACE_MS;
  if (moved.changed && graceMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, graceMs));
  }
  // 2. Whole months below the horizon, one transaction each (short, and a lock wait
  //    gives up after lockTimeout instead of queueing every query behind it).
  for (const partition of await listPartitions(driver)) {
    if (partition.name === LEGACY) continue;
    if (partition.upper === null || partition.upper.getTime() > horizon) continue;
    await driver.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
      await tx.query(`SET LOCAL lock_timeout = '${lockTimeout}'`);
      await tx.query(`ALTER TABLE campaign_metrics DETACH PARTITION ${partition.name}`);
      await tx.query(`DROP TABLE ${partition.name}`);
    });
    report.dropped.push(partition.name);
  }
  // 3. The legacy partition: its months below the horizon, one DELETE per month (each
  //    a bounded transaction), then the table itself once nothing in it is kept.
  const legacy = (await listPartitions(driver)).find((p) => p.name === LEGACY);
  if (legacy) {
    const [oldest] = await driver.query<{ oldest: Date | string | null }>(
      `SELECT min(ts) AS oldest FROM ${LEGACY} WHERE ts < $1::timestamptz`,
      [new Date(horizon).toISOString()],
    );
    if (oldest?.oldest) {
      for (
        let key = monthKeyOf(new Date(oldest.oldest));
        monthStart(key).getTime() < horizon;
        key++
      ) {
        const deleted = await driver.query<{ n: string }>(
          `WITH gone AS (DELETE FROM ${LEGACY} WHERE ts >= $1::timestamptz AND ts < $2::timestamptz
             RETURNING 1) SELECT count(*)::text AS n FROM gone`,
          [
            monthStart(key).toISOString(),
            new Date(Math.min(monthStart(key + 1).getTime(), horizon)).toISOString(),
          ],
        );
        report.legacyRowsDeleted += Number(deleted[0]?.n ?? 0);
      }
    }
    if (legacy.upper !== null && legacy.upper.getTime() <= horizon) {
      await driver.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
        await tx.query(`SET LOCAL lock_timeout = '${lockTimeout}'`);
        await tx.query(`ALTER TABLE campaign_metrics DETACH PARTITION ${LEGACY}`);
        await tx.query(`DROP TABLE ${LEGACY}`);
      });
      report.legacyDropped = true;
    }
  }
  return report;
}
