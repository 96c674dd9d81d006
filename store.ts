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
export { migrate, type Migration } from "./lib/store/migrate.ts";

// Drivers: the narrow SQL surface, over PGlite or postgres.js.
export {
  copyField,
  type PGliteConnection,
  pgliteDriver,
  type PGliteQueryRunner,
  postgresDriver,
  type PostgresDriverOptions,
  QueryTimeoutError,
  type SqlDriver,
  type SqlExecutor,
  type SqlParam,
} from "./lib/store/driver.ts";

// The store's operations and data.
export type {
  CampaignMetadata,
  CampaignPage,
  CampaignQuery,
  CampaignSort,
  CampaignSummary,
  MetricsStore,
  PlatformSumsRow,
  RankOptions,
  RankRow,
  Selection,
  SeriesRow,
  SumsRow,
  TotalsResult,
  UpsertOptions,
  UpsertResult,
} from "./lib/store/store_api.ts";

// The bot, answering a prompt from the store in this process.
export {
  answerPromptWithStore,
  type AnswerWithStoreOptions,
  type StoreAnswer,
} from "./lib/public/answer.ts";
export type {
  BotMetric,
  CampaignRef,
  DateRange,
  GroupBy,
  Intent,
  ParsedQuery,
} from "./lib/public/query.ts";

// Campaign-name search in PostgreSQL with pgvector.
export { PgVectorIndex, type PgVectorOptions } from "./lib/bot/pg_vector.ts";
export type { IndexItem, Match, VectorSearch } from "./lib/bot/vector_search.ts";

// Shared with the main entry point, named by the store's signatures.
export type { MeasureSumsText } from "./lib/kpi.ts";
export type { TfidfOptions, TokenizerOptions } from "./lib/bot/embeddings.ts";
export type { MetricName, MetricRowInput, Platform, RowRejection } from "./lib/schema.ts";
