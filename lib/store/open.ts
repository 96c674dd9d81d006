/**
 * One call from a driver to a ready store: pending migrations applied (under the
 * migration advisory lock, so replicas starting together apply each one once), then
 * the stores over that driver. `openMetricsStore` is the library's documented call;
 * `openStores` also hands the app its ingest journal and exchange-rate store.
 */
import type { SqlDriver } from "./driver.ts";
import { migrate, type Migration } from "./migrate.ts";
import { SqlMetricsStore } from "./sql_store.ts";
import { IngestJournal } from "./ingest_journal.ts";
import { SqlFxStore } from "./fx_store.ts";
import { MIGRATIONS } from "../../sql/migrations.generated.ts";
import { maintainPartitions } from "./partitions.ts";
import type { MetricsStore } from "./store_api.ts";

/** How {@linkcode openMetricsStore} prepares the database. */
export interface OpenMetricsStoreOptions {
  /**
   * Apply pending migrations before returning (default `true`). Pass `false` where the
   * process must not alter the schema (an edge handler, a read-only role); the schema
   * must then already be current.
   */
  migrate?: boolean;
  /** The migrations to apply; default {@linkcode MIGRATIONS}, the library's schema. */
  migrations?: readonly Migration[];
  /**
   * With `migrate`, the month partitions of the raw rows are also created ahead (the
   * current month and 13 after it); pass `false` to leave that to the caller (they are
   * created on demand by writes anyway). Default `true`.
   */
  partitionsAhead?: boolean;
}

/** A ready database: the metrics store over one driver, and what the set-up applied. */
export interface MetricsDatabase {
  /** The driver the caller passed in (for its own queries or transactions). */
  readonly driver: SqlDriver;
  /** Metric rows: upserts, totals, series, rankings and the campaign catalog. */
  readonly store: MetricsStore;
  /** The migration versions this call applied (empty when the schema was current). */
  readonly appliedMigrations: readonly number[];
  /** Closes the driver (and with it the connection or embedded engine). */
  close(): Promise<void>;
}

/** The app's stores over one driver: the metrics store, ingest journal and rates. */
export interface Stores {
  driver: SqlDriver;
  store: SqlMetricsStore;
  journal: IngestJournal;
  fx: SqlFxStore;
  appliedMigrations: number[];
}

/** Migrates (unless told not to) and opens every store the app uses over `driver`. */
export async function openStores(
  driver: SqlDriver,
  options: OpenMetricsStoreOptions = {},
): Promise<Stores> {
  const appliedMigrations = options.migrate === false
    ? []
    : await migrate(driver, options.migrations ?? MIGRATIONS);
  if (options.migrate !== false && options.partitionsAhead !== false) {
    await maintainPartitions(driver);
  }
  return {
    driver,
    store: new SqlMetricsStore(driver),
    journal: new IngestJournal(driver),
    fx: new SqlFxStore(driver),
    appliedMigrations,
  };
}

/**
 * Opens a ready store on a driver the caller made: applies the pending migrations
 * (each once, in order, in its own transaction, serialized across processes by an
 * advisory lock) and returns the metrics store over that driver. Works the same on embedded PGlite and on PostgreSQL
 * through postgres.js; calling it again on a migrated database applies nothing.
 *
 * @example An embedded store (PGlite, in memory)
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { openMetricsStore, pgliteDriver } from "@campaign-analytics/core/store";
 *
 * const db = await openMetricsStore(pgliteDriver(new PGlite()));
 * await db.store.upsert([{
 *   tenant_id: "acme", platform: "google", account_id: "acc-1", campaign_id: "cmp-1",
 *   ts: "2024-05-01T00:00:00Z", impressions: 1000, clicks: 25, conversions: 2,
 *   cost: "50.00", revenue: "200.00", currency: "USD", source: "example",
 * }]);
 * const { totals } = await db.store.totals({ tenantId: "acme" });
 * console.log(totals[0].cost); // "50.00"
 * await db.close();
 * ```
 *
 * @example PostgreSQL through postgres.js
 * ```ts ignore
 * import postgres from "postgres";
 * import { openMetricsStore, postgresDriver } from "@campaign-analytics/core/store";
 *
 * const db = await openMetricsStore(postgresDriver(postgres(process.env.DATABASE_URL!)));
 * ```
 *
 * @param driver A driver from {@linkcode pgliteDriver} or {@linkcode postgresDriver}.
 * @param options Whether to migrate, and with which migrations.
 * @returns The stores over `driver`, and the migration versions applied.
 */
export async function openMetricsStore(
  driver: SqlDriver,
  options: OpenMetricsStoreOptions = {},
): Promise<MetricsDatabase> {
  const { store, appliedMigrations } = await openStores(driver, options);
  return { driver, store, appliedMigrations, close: () => driver.close() };
}
