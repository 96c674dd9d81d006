/**
 * The storage contract every part of the system talks to. One SQL implementation
 * (sql_store.ts) runs it on PGlite and on PostgreSQL; tests run one conformance suite
 * against both.
 */
import { z } from "zod";
import {
  CurrencySchema,
  IdSchema,
  type MetricRowInput,
  type Platform,
  PlatformSchema,
  TenantIdSchema,
} from "../schema.ts";
import type { CampaignMetadata, RankOptions, UpsertOptions, UpsertResult } from "./store_api.ts";
import { MeasureSumsTextSchema } from "../kpi.ts";

/** Which rows a question is about. `to` is exclusive; absent bounds mean "lifetime". */
export const SelectionSchema = z.object({
  tenantId: TenantIdSchema,
  from: z.date().optional(),
  to: z.date().optional(),
  platforms: z.array(PlatformSchema).default([]),
  campaignIds: z.array(IdSchema).default([]),
  currency: CurrencySchema.optional(),
});
export type Selection = z.input<typeof SelectionSchema>;

/** Exact sums of one currency. Money never crosses currencies. */
export const SumsRowSchema = MeasureSumsTextSchema.extend({ currency: z.string() });
export type SumsRow = z.infer<typeof SumsRowSchema>;

export const PlatformSumsRowSchema = SumsRowSchema.extend({ platform: PlatformSchema });
export type PlatformSumsRow = z.infer<typeof PlatformSumsRowSchema>;

export const TotalsResultSchema = z.object({
  totals: z.array(SumsRowSchema),
  by_platform: z.array(PlatformSumsRowSchema),
});
export type TotalsResult = z.infer<typeof TotalsResultSchema>;

/**
 * One bucket of a series; `bucket` is the bucket's first calendar day in the query's zone
 * (`YYYY-MM-DDTHH:00`, local wall time, for hourly buckets).
 */
export const SeriesRowSchema = SumsRowSchema.extend({
  bucket: z.string().regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:00)?$/),
});
export type SeriesRow = z.infer<typeof SeriesRowSchema>;

export const RankRowSchema = SumsRowSchema.extend({
  platform: PlatformSchema,
  campaign_id: z.string().nullable(),
  campaign_name: z.string().nullable(),
});
export type RankRow = z.infer<typeof RankRowSchema>;

// The plain request/result types are the published ones (store_api.ts).
export type { CampaignMetadata, RankOptions, UpsertOptions, UpsertResult };

export const CampaignSummarySchema = z.object({
  campaign_id: z.string(),
  platform: PlatformSchema,
  account_id: z.string(),
  name: z.string().nullable(),
  status: z.string().nullable(),
  currency: z.string().nullable(),
  started_at: z.date().nullable(),
  first_seen: z.date().nullable(),
  last_seen: z.date().nullable(),
  lifetime: z.array(SumsRowSchema),
});
export type CampaignSummary = z.infer<typeof CampaignSummarySchema>;

export const CAMPAIGN_SORTS = ["latest", "spend"] as const;
export const CampaignSortSchema = z.enum(CAMPAIGN_SORTS);

export interface CampaignQuery {
  tenantId: string;
  platforms?: Platform[];
  /** Case-insensitive substring of the campaign name or id. */
  q?: string;
  sort?: z.infer<typeof CampaignSortSchema>;
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface CampaignPage {
  items: CampaignSummary[];
  next_cursor: string | null;
}

export interface MetricsStore {
  /** Validates and upserts a batch; invalid rows are reported, the valid ones stored. */
  upsert(
    rows: readonly (MetricRowInput | unknown)[],
    options?: UpsertOptions,
  ): Promise<UpsertResult>;
  /** Keeps names, statuses and launch dates in the catalog current. */
  upsertCampaigns(campaigns: readonly CampaignMetadata[]): Promise<void>;
  totals(selection: Selection): Promise<TotalsResult>;
  series(
    selection: Selection,
    granularity: "hour" | "day" | "week" | "month",
    timeZone?: string,
  ): Promise<SeriesRow[]>;
  rank(selection: Selection, options: RankOptions): Promise<RankRow[]>;
  listCampaigns(query: CampaignQuery): Promise<CampaignPage>;
  /** The most recently launched campaign of each platform (optionally restricted). */
  latestCampaigns(tenantId: string, platforms?: Platform[]): Promise<CampaignSummary[]>;
  /** The catalog rows of one campaign id (one per platform it runs on); [] when unknown. */
  findCampaign(tenantId: string, campaignId: string): Promise<CampaignSummary[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class InvalidCursorError extends Error {
  constructor() {
    super("cursor is malformed or from another query");
  }
}

/**
 * A read that needs raw rows from before the retention horizon (`RETENTION_MONTHS`
 * dropped them): the rollups alone cannot answer its edges exactly, so it is refused
 * rather than answered with numbers missing those rows. Handlers answer 422 naming
 * `from`; ranges of whole UTC days (or whole hours, per platform) are still answered.
 */
export class RetainedRangeError extends Error {
  /** The request field at fault. */
  readonly field = "from";
  constructor(readonly rawKeptFrom: Date) {
    super(
      `raw rows before ${rawKeptFrom.toISOString()} were dropped by retention ` +
        "(RETENTION_MONTHS): before then only whole UTC days can be answered (whole hours " +
        "for per-platform questions without a campaign filter)",
    );
    this.name = "RetainedRangeError";
  }
}
