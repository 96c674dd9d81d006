/**
 * The metrics store as the library publishes it: the operations and their data,
 * written out as plain types. `SqlMetricsStore` implements it (checked at compile time
 * where `openMetricsStore` returns one), and the store's zod schemas must agree with
 * these types (tests/library/public_types_test.ts).
 */
import type { MeasureSumsText } from "../kpi.ts";
import type { MetricName, MetricRowInput, Platform, RowRejection } from "../schema.ts";

/**
 * Which rows a question is about: one tenant, optionally a time range (`to` exclusive;
 * absent bounds mean "lifetime"), platforms, campaigns and a currency.
 */
export interface Selection {
  /** The tenant whose rows are read; no read ever crosses tenants. */
  tenantId: string;
  /** Inclusive start instant. */
  from?: Date;
  /** Exclusive end instant. */
  to?: Date;
  /** Only these platforms; `[]` or absent means all. */
  platforms?: Platform[];
  /** Only these campaign ids; `[]` or absent means all. */
  campaignIds?: string[];
  /** Only rows in this currency. */
  currency?: string;
}

/** Exact sums of one currency (money never crosses currencies). */
export interface SumsRow extends MeasureSumsText {
  /** ISO 4217 code of the money sums. */
  currency: string;
}

/** Exact sums of one currency on one platform. */
export interface PlatformSumsRow extends SumsRow {
  /** The platform the sums are for. */
  platform: Platform;
}

/** Totals of a selection: one row per currency overall, and per platform and currency. */
export interface TotalsResult {
  /** One row per currency. */
  totals: SumsRow[];
  /** One row per platform and currency. */
  by_platform: PlatformSumsRow[];
}

/** One bucket of a series. */
export interface SeriesRow extends SumsRow {
  /**
   * The bucket's first calendar day (YYYY-MM-DD) in the query's time zone; for hourly
   * buckets its local wall-clock hour (YYYY-MM-DDTHH:00).
   */
  bucket: string;
}

/** How to rank: group by campaign or platform, order by a metric, keep the first `limit`. */
export interface RankOptions {
  /** What one ranked row is. */
  groupBy: "campaign" | "platform";
  /** The metric ranked by. */
  metric: MetricName;
  /** Ascending or descending. */
  order: "asc" | "desc";
  /** How many rows to keep. */
  limit: number;
}

/** One ranked group. */
export interface RankRow extends SumsRow {
  /** The platform of the group. */
  platform: Platform;
  /** The campaign id, when ranking campaigns; null for platforms. */
  campaign_id: string | null;
  /** The campaign's name, when known. */
  campaign_name: string | null;
}

/** A campaign of the catalog, with its lifetime sums per currency. */
export interface CampaignSummary {
  /** The campaign id on the platform. */
  campaign_id: string;
  /** The platform it runs on. */
  platform: Platform;
  /** The ad account it belongs to. */
  account_id: string;
  /** Its display name, when a source reported one. */
  name: string | null;
  /** Its status on the platform, when reported. */
  status: string | null;
  /** The currency of its rows; null when they span several. */
  currency: string | null;
  /** When it launched, when reported. */
  started_at: Date | null;
  /** The earliest row's instant. */
  first_seen: Date | null;
  /** The latest row's instant. */
  last_seen: Date | null;
  /** Lifetime sums, one row per currency. */
  lifetime: SumsRow[];
}

/** The order of a campaign listing: most recently launched first, or highest spend. */
export type CampaignSort = "latest" | "spend";

/** A page request of the campaign catalog. */
export interface CampaignQuery {
  /** The tenant whose campaigns are listed. */
  tenantId: string;
  /** Only these platforms; absent means all. */
  platforms?: Platform[];
  /** Case-insensitive substring of the campaign name or id. */
  q?: string;
  /** The order; default "latest". */
  sort?: CampaignSort;
  /** Page size. */
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/** One page of the campaign catalog. */
export interface CampaignPage {
  /** The campaigns of this page. */
  items: CampaignSummary[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
}

/** Campaign facts a source reports beside its rows. */
export interface CampaignMetadata {
  /** The tenant it belongs to. */
  tenant_id: string;
  /** The platform it runs on. */
  platform: Platform;
  /** The ad account it belongs to. */
  account_id: string;
  /** The campaign id on the platform. */
  campaign_id: string;
  /** Its display name. */
  name?: string | null;
  /** Its status on the platform. */
  status?: string | null;
  /** When it launched. */
  started_at?: Date | null;
}

/** How an upsert validates. */
export interface UpsertOptions {
  /** The current time, bounding row timestamps (a year ahead at most); default the real clock. */
  now?: Date;
}

/** What a batch write reports back. */
export interface UpsertResult {
  /** Valid rows written (inserted, replaced, or already identical). */
  accepted: number;
  /** Rows refused, each with its index and the reason. */
  rejected: RowRejection[];
}

/**
 * Reads and writes of metric rows. Writes are upserts (a restated row replaces the old
 * one); reads are exact sums per currency, from which `computeMetrics` derives KPIs.
 */
export interface MetricsStore {
  /** Validates and upserts a batch; invalid rows are reported, the valid ones stored. */
  upsert(rows: readonly MetricRowInput[], options?: UpsertOptions): Promise<UpsertResult>;
  /** Keeps names, statuses and launch dates in the catalog current. */
  upsertCampaigns(campaigns: readonly CampaignMetadata[]): Promise<void>;
  /** Exact totals of a selection, overall and per platform, one row per currency. */
  totals(selection: Selection): Promise<TotalsResult>;
  /** Sums per hour, calendar day, week or month in `timeZone` (default UTC), per currency. */
  series(
    selection: Selection,
    granularity: "hour" | "day" | "week" | "month",
    timeZone?: string,
  ): Promise<SeriesRow[]>;
  /** Campaigns or platforms ranked by a metric. */
  rank(selection: Selection, options: RankOptions): Promise<RankRow[]>;
  /** One page of the campaign catalog. */
  listCampaigns(query: CampaignQuery): Promise<CampaignPage>;
  /** The most recently launched campaign of each platform (optionally restricted). */
  latestCampaigns(tenantId: string, platforms?: Platform[]): Promise<CampaignSummary[]>;
  /** The catalog rows of one campaign id (one per platform it runs on); [] when unknown. */
  findCampaign(tenantId: string, campaignId: string): Promise<CampaignSummary[]>;
}
