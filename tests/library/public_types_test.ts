/**
 * The public types are written out (so the documentation shows them and no signature
 * names a zod type), and the zod schemas that validate the same data must agree with
 * them: each pair is checked to be mutually assignable at compile time, so a schema
 * change that alters a public type fails type checking here instead of drifting.
 */
import assert from "node:assert/strict";
import type { z } from "zod";
import type {
  MetricName,
  MetricRow,
  MetricRowInput,
  Platform,
  RowRejection,
} from "../../lib/schema.ts";
import type {
  MetricNameSchema,
  MetricRowSchema,
  PlatformSchema,
  RowRejectionSchema,
} from "../../lib/schema.ts";
import type { MeasureSumsText, Ratios, Totals } from "../../lib/kpi.ts";
import type { MeasureSumsTextSchema, RatiosSchema, TotalsSchema } from "../../lib/kpi.ts";

import type { Migration } from "../../lib/store/migrate.ts";
import type { MigrationSchema } from "../../lib/store/migrate.ts";
import type * as PublicQuery from "../../lib/public/query.ts";
import type * as ParserQuery from "../../lib/bot/query.ts";
import type { ParseOptions as ParserOptions } from "../../lib/bot/parse/parse.ts";
import type * as PublicStore from "../../lib/store/store_api.ts";
import type * as InternalStore from "../../lib/store/metrics_store.ts";
import type {
  CampaignSummarySchema,
  RankRowSchema,
  SelectionSchema,
  SeriesRowSchema,
  SumsRowSchema,
  TotalsResultSchema,
} from "../../lib/store/metrics_store.ts";
import type { SqlMetricsStore } from "../../lib/store/sql_store.ts";

/** True when A and B are assignable to each other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const agreements = {
  Platform: true satisfies Same<z.infer<typeof PlatformSchema>, Platform>,
  MetricName: true satisfies Same<z.infer<typeof MetricNameSchema>, MetricName>,
  MetricRowInput: true satisfies Same<z.input<typeof MetricRowSchema>, MetricRowInput>,
  MetricRow: true satisfies Same<z.output<typeof MetricRowSchema>, MetricRow>,
  RowRejection: true satisfies Same<z.infer<typeof RowRejectionSchema>, RowRejection>,
  Ratios: true satisfies Same<z.infer<typeof RatiosSchema>, Ratios>,
  Totals: true satisfies Same<z.infer<typeof TotalsSchema>, Totals>,
  MeasureSumsText: true satisfies Same<z.infer<typeof MeasureSumsTextSchema>, MeasureSumsText>,
  Migration: true satisfies Same<z.infer<typeof MigrationSchema>, Migration>,
  ParsedQuery: true satisfies Same<ParserQuery.ParsedQuery, PublicQuery.ParsedQuery>,
  BotMetric: true satisfies Same<ParserQuery.BotMetric, PublicQuery.BotMetric>,
  Intent: true satisfies Same<ParserQuery.Intent, PublicQuery.Intent>,
  GroupBy: true satisfies Same<ParserQuery.GroupBy, PublicQuery.GroupBy>,
  DateRange: true satisfies Same<ParserQuery.DateRange, PublicQuery.DateRange>,
  CampaignRef: true satisfies Same<ParserQuery.CampaignRef, PublicQuery.CampaignRef>,
  ParseOptions: true satisfies Same<ParserOptions, PublicQuery.ParseOptions>,
  Selection: true satisfies Same<z.input<typeof SelectionSchema>, PublicStore.Selection>,
  SumsRow: true satisfies Same<z.infer<typeof SumsRowSchema>, PublicStore.SumsRow>,
  TotalsResult: true satisfies Same<z.infer<typeof TotalsResultSchema>, PublicStore.TotalsResult>,
  SeriesRow: true satisfies Same<z.infer<typeof SeriesRowSchema>, PublicStore.SeriesRow>,
  RankRow: true satisfies Same<z.infer<typeof RankRowSchema>, PublicStore.RankRow>,
  CampaignSummary: true satisfies Same<
    z.infer<typeof CampaignSummarySchema>,
    PublicStore.CampaignSummary
  >,
  RankOptions: true satisfies Same<InternalStore.RankOptions, PublicStore.RankOptions>,
  CampaignQuery: true satisfies Same<InternalStore.CampaignQuery, PublicStore.CampaignQuery>,
  CampaignPage: true satisfies Same<InternalStore.CampaignPage, PublicStore.CampaignPage>,
  CampaignMetadata: true satisfies Same<
    InternalStore.CampaignMetadata,
    PublicStore.CampaignMetadata
  >,
  UpsertResult: true satisfies Same<InternalStore.UpsertResult, PublicStore.UpsertResult>,
  SqlMetricsStore: true satisfies (SqlMetricsStore extends PublicStore.MetricsStore ? true : false),
};

Deno.test("public types agree with their zod schemas (checked when this file type-checks)", () => {
  assert.ok(Object.values(agreements).every(Boolean));
});
