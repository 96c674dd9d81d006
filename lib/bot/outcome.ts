/**
 * What answering a query produced: what was asked, what the API said (unchanged) and
 * the few numbers the bot derived from it. The executor builds it, the formatter reads
 * it, and it travels beside the reply as `data`.
 */
import type { Platform } from "../schema.ts";
import type {
  AnalyticsErrorKind,
  Campaign,
  CampaignInsights,
  FxNote,
  Insights,
  InsightsGroup,
} from "./client.ts";
import type { Definition } from "./definitions.ts";
import { apiMetric, type BotMetric } from "./query.ts";

/** The period an answer covers. `basis` says where it came from, so the reply can say it. */
export interface Period {
  from: string | null;
  to: string | null;
  /** asked: the prompt said it; lifetime: no dates given; default_window: trend default. */
  basis: "asked" | "lifetime" | "default_window";
  /** For default_window: its length in days. */
  window_days?: number;
}

export type Subject =
  | { type: "all"; platforms: Platform[] }
  | {
    type: "campaign";
    /** How the prompt named it. */
    via: "id" | "latest" | "name";
    /** The words or id the prompt used. */
    said: string | null;
    campaign_id: string;
    campaign_name: string | null;
    /** The platform the answer is restricted to (null = every platform it runs on). */
    platforms: Platform[];
    /** The catalog record, when the campaign was found through /campaigns. */
    campaign?: Campaign;
  };

/** Key numbers of one response, with money per currency when it spans several. */
export interface TotalsView {
  currency: string | null;
  totals: CampaignInsights["totals"];
  by_currency?: CampaignInsights["by_currency"];
}

export interface Point {
  bucket: string;
  value: number;
}

export interface TrendSummary {
  metric: BotMetric;
  /** The currency of a money metric (null for counts and rates). */
  currency: string | null;
  first: Point | null;
  last: Point | null;
  peak: Point | null;
  /** last − first (null with fewer than two points). */
  change: number | null;
  /** (last − first) / first (null when first is 0 or missing). */
  change_pct: number | null;
}

export interface SeriesSet {
  /** Null for the unfiltered call; a code for the per-currency calls. */
  currency: string | null;
  points: (CampaignInsights["totals"] & { bucket: string; currency?: string | null })[];
}

export interface PeriodChange {
  metric: BotMetric;
  currency: string | null;
  current: number | null;
  previous: number | null;
  change: number | null;
  change_pct: number | null;
}

export interface RankSet {
  currency: string | null;
  groups: InsightsGroup[];
}

export interface Candidate {
  campaign_id: string;
  name: string;
  platform: Platform;
  score: number;
}

export type Outcome =
  & {
    requests: string[];
    /** Set when the API converted money to the currency asked for (its `fx` object). */
    fx?: FxNote;
  }
  & (
    | {
      kind: "metric";
      subject: Subject;
      period: Period;
      metrics: BotMetric[];
      result: CampaignInsights | Insights;
    }
    | {
      kind: "trend";
      subject: Subject;
      period: Period;
      metrics: BotMetric[];
      granularity: "day" | "week" | "month";
      series: SeriesSet[];
      summaries: TrendSummary[];
    }
    | {
      kind: "compare_platforms";
      subject: Subject;
      period: Period;
      metrics: BotMetric[];
      result: Insights;
    }
    | {
      kind: "compare_periods";
      subject: Subject;
      period: Period;
      previous_period: Period;
      metrics: BotMetric[];
      current: CampaignInsights | Insights;
      previous: CampaignInsights | Insights;
      changes: PeriodChange[];
    }
    | {
      kind: "rank";
      period: Period;
      platforms: Platform[];
      metric: BotMetric;
      order: "asc" | "desc";
      limit: number;
      group_by: "campaign" | "platform";
      sets: RankSet[];
    }
    | {
      kind: "list_campaigns";
      platforms: Platform[];
      period: Period | null;
      campaigns: Campaign[];
      more: boolean;
    }
    | { kind: "ambiguous"; said: string; platforms: Platform[]; candidates: Candidate[] }
    | {
      kind: "not_found";
      ref: "id" | "name" | "latest";
      said: string | null;
      platforms: Platform[];
    }
    | { kind: "explain"; metrics: BotMetric[]; definitions: Definition[] }
    | { kind: "unknown" }
    | {
      kind: "error";
      reason: AnalyticsErrorKind;
      status: number | null;
      message: string;
    }
  );

export type OutcomeOf<K extends Outcome["kind"]> = Extract<Outcome, { kind: K }>;

/** A metric's value in a set of totals, by its API name; null when absent. */
export function metricValue(
  totals: Record<string, number | null | undefined | string>,
  metric: BotMetric,
): number | null {
  const value = totals[apiMetric(metric)];
  return typeof value === "number" ? value : null;
}
