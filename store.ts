/**
 * Storage for Campaign Analytics: one SQL implementation of the metrics store that
 * runs on embedded PGlite and on PostgreSQL through postgres.js, the schema's
 * migrations as data, and {@linkcode openMetricsStore}, which turns a driver the
 * caller made into a migrated, ready store in one call.
 *
 * Portability: the store's code is web-standard TypeScript and runs on Deno, Node and
 * Bun. PGlite (WebAssembly) also runs in browsers and most edge runtimes;
 * postgres.js needs TCP sockets (Deno, Node, Bun, and edge runtimes that offer them).
 *
 * @example Open an embedded store, upsert rows and read totals
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { openMetricsStore, pgliteDriver } from "@campaign-analytics/core/store";
 *
 * const { store, close } = await openMetricsStore(pgliteDriver(new PGlite()));
 * await store.upsert([{
 *   tenant_id: "acme", platform: "meta", account_id: "act-1", campaign_id: "cmp-1",
 *   ts: "2024-05-01T00:00:00Z", impressions: 2000, clicks: 40, conversions: 4,
 *   cost: "80.00", revenue: "320.00", currency: "EUR", source: "example",
 * }]);
 * const { totals } = await store.totals({ tenantId: "acme" });
 * console.log(totals[0].clicks, totals[0].revenue); // "40" "320.00"
 * await close();
 * ```
 *
 * @module
 */

// Set-up: a driver in, a migrated store out.
export {
  type MetricsDatabase,
  openMetricsStore,
  type OpenMetricsStoreOptions,
} from "./lib/store/open.ts";
export { MIGRATIONS } from "./sql/migrations.generated.ts";
export { migrate, type Migration, MigrationSchema } from "./lib/store/migrate.ts";

// Drivers: the narrow SQL surface, over PGlite or postgres.js.
export {
  pgliteDriver,
  postgresDriver,
  type PostgresDriverOptions,
  QueryTimeoutError,
  type SqlDriver,
  type SqlExecutor,
  type SqlParam,
} from "./lib/store/driver.ts";

// Stores.
export { SqlMetricsStore } from "./lib/store/sql_store.ts";
export { IngestJournal } from "./lib/store/ingest_journal.ts";
export { type FxStore, SqlFxStore } from "./lib/store/fx_store.ts";
export { PgVectorIndex } from "./lib/bot/pg_vector.ts";
