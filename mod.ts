/**
 * Campaign Analytics as a library, the pure parts: the metric-row schema, KPI math
 * (ratios of sums, exact money), exact decimals, calendar dates, exchange-rate parsing,
 * the prompt parser and TF-IDF search. Web-standard TypeScript with no I/O of its own:
 * it runs on Deno, Node, Bun and edge runtimes (tested on Deno and Node 20).
 *
 * The store (PGlite or PostgreSQL) is in `@campaign-analytics/core/store`, the cache
 * (memory, Redis, Upstash) in `@campaign-analytics/core/cache`.
 *
 * @example Compute KPIs from sums
 * ```ts
 * import assert from "node:assert/strict";
 * import { computeMetrics } from "@campaign-analytics/core";
 *
 * const kpis = computeMetrics({
 *   impressions: 1000, clicks: 25, conversions: 2, cost: "50.00", revenue: "200.00",
 * });
 * assert.deepEqual(kpis, { ctr: 0.025, roas: 4, cpa: 25, cpc: 2, cpm: 50, cvr: 0.08 });
 * ```
 *
 * @module
 */

// The unified row and shared vocabulary.
export {
  METRIC_NAMES,
  type MetricName,
  type MetricRow,
  type MetricRowInput,
  type Platform,
  PLATFORM_ALIASES,
  platformFromAlias,
  PLATFORMS,
  type RowRejection,
  validateRows,
} from "./lib/schema.ts";

// Metric math: ratios of sums, null on a zero denominator, money exact.
export {
  combineSums,
  computeMetrics,
  type CurrencyReport,
  type MeasureSums,
  type MeasureSumsText,
  minorUnitDigits,
  presentTotals,
  type Quantity,
  ratio,
  type Ratios,
  reportCurrencies,
  roundMoney,
  type Totals,
} from "./lib/kpi.ts";
export {
  compareDecimals,
  type Decimal,
  normalizeDecimal,
  parseDecimal,
  roundDecimal,
  sumDecimals,
  unitsToDecimal,
} from "./lib/decimal.ts";
export { calendarDateIn, isCalendarDate, isValidTimeZone, startOfDayIn } from "./lib/dates.ts";

// Exchange rates: validated from JSON or the ECB's CSV layout.
export { type FxRate, type ParsedRates, parseEcbCsv, validateRates } from "./lib/fx/rates.ts";
export { MAX_RATE_AGE_DAYS, MissingRateError } from "./lib/fx/convert.ts";

// The bot's language layer: the prompt parser and TF-IDF similarity search.
export {
  type BotMetric,
  type CampaignRef,
  type DateRange,
  type GroupBy,
  type Intent,
  type ParsedQuery,
  type ParseOptions,
  parsePrompt,
} from "./lib/public/query.ts";
export {
  cosineSimilarity,
  type SparseVector,
  TfidfModel,
  type TfidfOptions,
  tokenize,
  type TokenizerOptions,
} from "./lib/bot/embeddings.ts";
export {
  type IndexItem,
  type Match,
  VectorIndex,
  type VectorSearch,
} from "./lib/bot/vector_search.ts";
