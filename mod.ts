/**
 * Campaign Analytics as a library: metric math, the prompt parser, TF-IDF
 * embeddings and vector search, and the storage and cache adapters. Everything here
 * is web-standard TypeScript (no Deno-only APIs, no file or socket I/O of its own),
 * so it runs on Deno, Node, Bun and edge runtimes; drivers (PGlite, postgres.js,
 * Redis clients) are created by the caller and passed in.
 *
 * @module
 */

// The unified row and shared vocabulary.
export {
  CampaignInfoSchema,
  CurrencySchema,
  GranularitySchema,
  type MetricName,
  MetricNameSchema,
  type MetricRow,
  type MetricRowInput,
  MetricRowSchema,
  type Platform,
  PLATFORM_ALIASES,
  platformFromAlias,
  PLATFORMS,
  PlatformSchema,
  type RowRejection,
  validateRows,
} from "./lib/schema.ts";

// Metric math: ratios of sums, null on a zero denominator, money exact.
export {
  combineSums,
  computeMetrics,
  type MeasureSums,
  minorUnitDigits,
  presentTotals,
  ratio,
  type Ratios,
  reportCurrencies,
  roundMoney,
  type Totals,
} from "./lib/kpi.ts";
export {
  compareDecimals,
  normalizeDecimal,
  parseDecimal,
  roundDecimal,
  sumDecimals,
  unitsToDecimal,
} from "./lib/decimal.ts";
export { calendarDateIn, isCalendarDate, isValidTimeZone, startOfDayIn } from "./lib/dates.ts";

// Exchange rates and exact conversion into a reporting currency at each day's rate.
export {
  type FxRate,
  FxRateInputSchema,
  parseEcbCsv,
  type StoredFxRate,
  validateRates,
} from "./lib/fx/rates.ts";
export {
  Converter,
  type FxInfo,
  FxInfoSchema,
  MAX_RATE_AGE_DAYS,
  MissingRateError,
  RateBook,
} from "./lib/fx/convert.ts";

// The bot's language layer.
export { type ParseOptions, parsePrompt } from "./lib/bot/parse/parse.ts";
export { type ParsedQuery, ParsedQuerySchema } from "./lib/bot/query.ts";
export { cosineSimilarity, type SparseVector, TfidfModel, tokenize } from "./lib/bot/embeddings.ts";
export { type Match, VectorIndex, type VectorSearch } from "./lib/bot/vector_search.ts";
export { CampaignResolver, resolveCampaignName } from "./lib/bot/resolve.ts";
export {
  type AnalyticsClient,
  createHttpAnalyticsClient,
  createInProcessAnalyticsClient,
} from "./lib/bot/client.ts";
export { type Answer, answerPrompt } from "./lib/bot/answer.ts";
export { execute } from "./lib/bot/execute.ts";
export { formatReply } from "./lib/bot/format.ts";
export { verifySlackRequest } from "./lib/bot/slack.ts";

// The API's answers.
export {
  type CampaignInsights,
  CampaignInsightsSchema,
  type Insights,
  InsightsSchema,
} from "./lib/api.ts";
