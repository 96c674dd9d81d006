/**
 * Store results turned into the insights API's answers (lib/api.ts): one place for the
 * REST handlers and the store-backed bot client, so both answer alike. Pure: reading
 * the store (and converting money) stays with the callers.
 */
import type { Campaign, CampaignInsights, Insights, InsightsGroup } from "./api.ts";
import { calendarDateIn, shiftDate, startOfDayIn } from "./dates.ts";
import { type CurrencyReport, reportCurrencies } from "./kpi.ts";
import type {
  CampaignSummary,
  RankRow,
  SeriesRow,
  SumsRow,
  TotalsResult,
} from "./store/store_api.ts";

/**
 * Calendar days are whole days in `timeZone` (`to` inclusive); instants are used as
 * given (`to` exclusive). `from` not before `to` is refused with `refuse`'s error.
 */
export function resolveRange(
  query: { from?: string; to?: string },
  timeZone: string,
  refuse: (field: "from", message: string) => Error,
): { from?: Date; to?: Date } {
  const from = query.from === undefined
    ? undefined
    : query.from.length === 10
    ? startOfDayIn(query.from, timeZone)
    : new Date(query.from);
  const to = query.to === undefined
    ? undefined
    : query.to.length === 10
    ? startOfDayIn(shiftDate(query.to, 1), timeZone)
    : new Date(query.to);
  if (from && to && from.getTime() >= to.getTime()) {
    throw refuse("from", "from must be before to");
  }
  return { from, to };
}

/** Rows that share a key (platform, bucket, ...) folded into one report each, in order. */
export function reportBy<K extends string>(
  rows: readonly (SumsRow & Record<K, string>)[],
  key: K,
  fallbackCurrency: string | null,
): (CurrencyReport & { key: string })[] {
  const groups = new Map<string, SumsRow[]>();
  for (const row of rows) {
    const group = groups.get(row[key]);
    if (group) group.push(row);
    else groups.set(row[key], [row]);
  }
  return [...groups].map(([value, members]) => ({
    key: value,
    ...reportCurrencies(members, fallbackCurrency),
  }));
}

/** One row of `GET /campaigns`. */
export function presentCampaign(campaign: CampaignSummary): Campaign {
  return {
    campaign_id: campaign.campaign_id,
    name: campaign.name,
    platform: campaign.platform,
    account_id: campaign.account_id,
    status: campaign.status,
    currency: campaign.currency,
    started_at: campaign.started_at?.toISOString() ?? null,
    first_seen: campaign.first_seen?.toISOString() ?? null,
    last_seen: campaign.last_seen?.toISOString() ?? null,
    totals: reportCurrencies(campaign.lifetime, campaign.currency).totals,
  };
}

/** What {@linkcode campaignInsightsReport} builds `GET /campaign/:id/insights` from. */
export interface CampaignInsightsInput {
  campaignId: string;
  /** The campaign's catalog entries (one per platform); not empty. */
  catalog: readonly CampaignSummary[];
  /** The platform filter (empty = all). */
  platforms: readonly string[];
  from?: string;
  to?: string;
  timeZone: string;
  totals: TotalsResult;
  series?: readonly SeriesRow[];
  /** The currency money was converted into, if any. */
  target: string | null;
}

/** `GET /campaign/:id/insights`, without `fx`. */
export function campaignInsightsReport(input: CampaignInsightsInput): CampaignInsights {
  const { catalog, platforms, timeZone, totals, series } = input;
  const visible = catalog.filter((entry) =>
    platforms.length === 0 || platforms.includes(entry.platform)
  );
  const fallbackCurrency = input.target ?? (visible[0] ?? catalog[0]).currency;
  const report = reportCurrencies(totals.totals, fallbackCurrency);
  const seen = catalog.flatMap((entry) => [entry.first_seen, entry.last_seen])
    .filter((date): date is Date => date instanceof Date).map((date) => date.getTime());
  return {
    campaign_id: input.campaignId,
    campaign_name: catalog.find((entry) => entry.name)?.name ?? null,
    platform: platforms.length ? platforms.join(",") : null,
    from: input.from ??
      (seen.length ? calendarDateIn(new Date(Math.min(...seen)), timeZone) : null),
    to: input.to ??
      (seen.length ? calendarDateIn(new Date(Math.max(...seen)), timeZone) : null),
    time_zone: timeZone,
    currency: report.currency,
    totals: report.totals,
    by_platform: reportBy(totals.by_platform, "platform", fallbackCurrency).map((group) => ({
      platform: group.key,
      ...group.totals,
    })),
    ...(report.by_currency ? { by_currency: report.by_currency } : {}),
    ...(series
      ? {
        series: reportBy(series, "bucket", fallbackCurrency).map((point) => ({
          bucket: point.key,
          ...point.totals,
        })),
      }
      : {}),
  };
}

/** What {@linkcode insightsReport} builds `GET /insights` from. */
export interface InsightsInput {
  from?: string;
  to?: string;
  timeZone: string;
  platforms: Insights["platforms"];
  campaignId?: string;
  groupBy?: Insights["group_by"];
  totals: TotalsResult;
  groups?: InsightsGroup[];
  /** The currency money was converted into, if any. */
  target: string | null;
}

/** `GET /insights`, without `fx`. */
export function insightsReport(input: InsightsInput): Insights {
  const report = reportCurrencies(input.totals.totals, input.target);
  return {
    from: input.from ?? null,
    to: input.to ?? null,
    time_zone: input.timeZone,
    platforms: input.platforms,
    campaign_id: input.campaignId ?? null,
    currency: report.currency,
    totals: report.totals,
    ...(report.by_currency ? { by_currency: report.by_currency } : {}),
    group_by: input.groupBy ?? null,
    ...(input.groups ? { groups: input.groups } : {}),
  };
}

/** Time-bucket groups of `GET /insights?group_by=day` (etc.). */
export function bucketGroups(
  series: readonly SeriesRow[],
  target: string | null,
): InsightsGroup[] {
  return reportBy(series, "bucket", target).map((point) => ({
    bucket: point.key,
    currency: point.currency,
    ...point.totals,
  }));
}

/** Ranked groups of `GET /insights?group_by=platform|campaign`. */
export function rankedGroups(
  ranked: readonly RankRow[],
  groupBy: "platform" | "campaign",
): InsightsGroup[] {
  return ranked.map((row) => {
    const report = reportCurrencies([row]);
    return {
      platform: row.platform,
      ...(groupBy === "campaign"
        ? { campaign_id: row.campaign_id ?? undefined, campaign_name: row.campaign_name }
        : {}),
      currency: report.currency,
      ...report.totals,
    };
  });
}
