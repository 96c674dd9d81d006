/**
 * From a `ParsedQuery` to the API calls that answer it, and back as an `Outcome`: the
 * API's answers (unchanged) plus the few numbers the bot derives from them (a trend's
 * change, a period comparison's difference), so that everything a reply says can be
 * checked against the `data` returned beside it.
 *
 *   metric          → /campaign/:id/insights (a campaign) or /insights (all campaigns)
 *   trend           → /insights?group_by=day|week|month, or campaign insights with granularity
 *   compare         → /insights?group_by=platform, or two calls (date_range vs compare_to)
 *   rank            → /insights?group_by=campaign|platform&order_by=&order=&limit=
 *   list_campaigns  → /campaigns
 *
 * Money never crosses currencies: when the totals span several, money metrics are asked
 * again per currency (`source_currency=`) and reported side by side.
 */
import type { Platform } from "../schema.ts";
import { calendarDateIn, shiftDate } from "../dates.ts";
import {
  type AnalyticsClient,
  AnalyticsError,
  type CampaignInsights,
  type Insights,
} from "./client.ts";
import { definitionsOf } from "./definitions.ts";
import { periodChanges, round6, summarize } from "./derive.ts";
import type { Outcome, Period, RankSet, SeriesSet, Subject, TrendSummary } from "./outcome.ts";
import {
  apiMetric,
  type BotMetric,
  type DateRange,
  isCurrencyBound,
  isMoneyMetric,
  lowerIsBetter,
  type ParsedQuery,
} from "./query.ts";

export type { Outcome, OutcomeOf } from "./outcome.ts";

/** Shown when a prompt asks "how are we doing" without naming a metric. */
export const SUMMARY_METRICS: readonly BotMetric[] = [
  "impressions",
  "clicks",
  "ctr",
  "spend",
  "conversions",
  "cpa",
  "revenue",
  "roas",
];
const TREND_DEFAULT_METRICS: readonly BotMetric[] = ["spend", "clicks", "conversions"];
const COMPARE_DEFAULT_METRICS: readonly BotMetric[] = ["spend", "revenue", "roas", "conversions"];
const RANK_DEFAULT_METRIC: BotMetric = "roas";

// ---------------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------------

export interface ExecuteOptions {
  /** "Today" for default windows. Default: now. */
  now?: Date;
  /** The zone the prompt's dates are in; passed to the API as `tz` when set. */
  timeZone?: string;
  /** Days of a trend when the prompt names no time. Default 30. */
  trendDays?: number;
  /** Most campaigns listed. Default 20. */
  listLimit?: number;
  /** Most rows a ranking asks for. Default 25. */
  maxRankLimit?: number;
}

const DEFAULT_TREND_DAYS = 30;

class Execution {
  constructor(
    readonly query: ParsedQuery,
    readonly client: AnalyticsClient,
    readonly options: ExecuteOptions,
  ) {}

  /** What every read carries: the prompt's time zone and the currency asked for. */
  get shared(): { tz?: string; currency?: string } {
    return {
      ...(this.options.timeZone ? { tz: this.options.timeZone } : {}),
      ...(this.query.currency ? { currency: this.query.currency } : {}),
    };
  }

  period(trend: boolean): Period {
    const range = this.query.date_range;
    if (range) return { from: range.from, to: range.to, basis: "asked" };
    if (!trend) return { from: null, to: null, basis: "lifetime" };
    const days = this.options.trendDays ?? DEFAULT_TREND_DAYS;
    const today = calendarDateIn(this.options.now ?? new Date(), this.options.timeZone ?? "UTC");
    return {
      from: shiftDate(today, -days),
      to: shiftDate(today, -1),
      basis: "default_window",
      window_days: days,
    };
  }

  dates(period: Period | DateRange): { from?: string; to?: string } {
    return {
      ...(period.from ? { from: period.from } : {}),
      ...(period.to ? { to: period.to } : {}),
    };
  }

  /** Who the question is about: all campaigns, or one campaign found by id, latest or name. */
  async subject(): Promise<Subject | Outcome> {
    const { campaign, platforms } = this.query;
    if (!campaign) return { type: "all", platforms: [...platforms] };
    if (campaign.type === "id") {
      return {
        type: "campaign",
        via: "id",
        said: campaign.value,
        campaign_id: campaign.value,
        campaign_name: null,
        platforms: [...platforms],
      };
    }
    if (campaign.type === "latest") {
      const latest = await this.client.latestCampaign(platforms);
      if (!latest) {
        return {
          kind: "not_found",
          ref: "latest",
          said: null,
          platforms: [...platforms],
          requests: [],
        };
      }
      return {
        type: "campaign",
        via: "latest",
        said: null,
        campaign_id: latest.campaign_id,
        campaign_name: latest.name,
        platforms: [latest.platform as Platform],
        campaign: latest,
      };
    }
    const resolution = await this.client.resolveCampaign(campaign.value, {
      platform: platforms.length === 1 ? platforms[0] : undefined,
    });
    if (resolution.kind === "none") {
      return {
        kind: "not_found",
        ref: "name",
        said: campaign.value,
        platforms: [...platforms],
        requests: [],
      };
    }
    if (resolution.kind === "ambiguous") {
      return {
        kind: "ambiguous",
        said: campaign.value,
        platforms: [...platforms],
        candidates: resolution.candidates.map(({ campaign, score }) => ({
          campaign_id: campaign.campaign_id,
          name: campaign.name,
          platform: campaign.platform,
          score: round6(score),
        })),
        requests: [],
      };
    }
    const found = resolution.campaign;
    return {
      type: "campaign",
      via: "name",
      said: campaign.value,
      campaign_id: found.campaign_id,
      campaign_name: found.campaign.name,
      platforms: [found.platform],
      campaign: found.campaign,
    };
  }

  /** Totals for a subject and period; a campaign's lifetime span fills the period in. */
  async totals(
    subject: Subject,
    period: Period,
    extra: { currency?: string; source_currency?: string } = {},
  ): Promise<CampaignInsights | Insights> {
    if (subject.type === "campaign") {
      const response = await this.client.campaignInsights(subject.campaign_id, {
        ...this.dates(period),
        platform: subject.platforms,
        ...extra,
        ...this.shared,
      });
      subject.campaign_name ??= response.campaign_name;
      if (period.basis === "lifetime") {
        period.from ??= response.from;
        period.to ??= response.to;
      }
      return response;
    }
    return await this.client.insights({
      ...this.dates(period),
      platform: subject.platforms,
      ...extra,
      ...this.shared,
    });
  }

  async metric(subject: Subject): Promise<Outcome> {
    const period = this.period(false);
    const result = await this.totals(subject, period);
    return {
      kind: "metric",
      subject,
      period,
      metrics: this.query.metrics.length ? [...this.query.metrics] : [...SUMMARY_METRICS],
      result,
      requests: [],
    };
  }

  async seriesFor(
    subject: Subject,
    period: Period,
    granularity: "day" | "week" | "month",
    currency?: string,
  ): Promise<{ response: CampaignInsights | Insights; set: SeriesSet }> {
    const extra = currency ? { source_currency: currency } : {};
    if (subject.type === "campaign") {
      const response = await this.client.campaignInsights(subject.campaign_id, {
        ...this.dates(period),
        platform: subject.platforms,
        granularity,
        ...extra,
        ...this.shared,
      });
      subject.campaign_name ??= response.campaign_name;
      return { response, set: { currency: currency ?? null, points: response.series ?? [] } };
    }
    const response = await this.client.insights({
      ...this.dates(period),
      platform: subject.platforms,
      group_by: granularity,
      ...extra,
      ...this.shared,
    });
    const points = (response.groups ?? []).map((group) => ({
      ...group,
      bucket: group.bucket ?? "",
    }));
    return { response, set: { currency: currency ?? null, points } };
  }

  async trend(subject: Subject): Promise<Outcome> {
    const period = this.period(true);
    const groupBy = this.query.group_by;
    const granularity = groupBy === "week" || groupBy === "month" ? groupBy : "day";
    const metrics = this.query.metrics.length
      ? [...this.query.metrics]
      : [...TREND_DEFAULT_METRICS];
    const base = await this.seriesFor(subject, period, granularity);
    const series = [base.set];
    const split = base.response.currency === null && (base.response.by_currency?.length ?? 0) > 0 &&
      metrics.some((metric) => isCurrencyBound(metric));
    const perCurrency = split
      ? await Promise.all(
        base.response.by_currency!.map((entry) =>
          this.seriesFor(subject, period, granularity, entry.currency)
        ),
      )
      : [];
    series.push(...perCurrency.map((result) => result.set));
    const summaries: TrendSummary[] = [];
    for (const metric of metrics) {
      if (isCurrencyBound(metric) && split) {
        for (const set of perCurrency) summaries.push(summarize(metric, set.set));
      } else {
        const currency = isCurrencyBound(metric) ? base.response.currency : null;
        summaries.push(summarize(metric, { ...base.set, currency }));
      }
    }
    return {
      kind: "trend",
      subject,
      period,
      metrics,
      granularity,
      series,
      summaries,
      requests: [],
    };
  }

  async compare(subject: Subject): Promise<Outcome> {
    const metrics = this.query.metrics.length ? [...this.query.metrics] : [
      ...COMPARE_DEFAULT_METRICS,
    ];
    const second = this.query.compare_to;
    if (second) {
      const period = this.period(false);
      const previousPeriod: Period = { from: second.from, to: second.to, basis: "asked" };
      const [current, previous] = await Promise.all([
        this.totals(subject, period),
        this.totals(subject, previousPeriod),
      ]);
      return {
        kind: "compare_periods",
        subject,
        period,
        previous_period: previousPeriod,
        metrics,
        current,
        previous,
        changes: metrics.flatMap((metric) => periodChanges(metric, current, previous)),
        requests: [],
      };
    }
    const period = this.period(false);
    const result = await this.client.insights({
      ...this.dates(period),
      platform: subject.platforms,
      ...(subject.type === "campaign" ? { campaign_id: subject.campaign_id } : {}),
      group_by: "platform",
      order_by: apiMetric(metrics[0]),
      order: lowerIsBetter(metrics[0]) ? "asc" : "desc",
      limit: 100,
      ...this.shared,
    });
    return { kind: "compare_platforms", subject, period, metrics, result, requests: [] };
  }

  async rank(): Promise<Outcome> {
    const metric = this.query.metrics[0] ?? RANK_DEFAULT_METRIC;
    const groupBy = this.query.group_by === "platform" ? "platform" : "campaign";
    const order = this.query.order ?? (lowerIsBetter(metric) ? "asc" : "desc");
    const limit = Math.min(this.query.limit ?? 5, this.options.maxRankLimit ?? 25);
    const period = this.period(false);
    const request = {
      ...this.dates(period),
      platform: this.query.platforms,
      group_by: groupBy,
      order_by: apiMetric(metric),
      order,
      limit,
      ...this.shared,
    } as const;
    const all = await this.client.insights(request);
    let sets: RankSet[] = [{ currency: all.currency, groups: all.groups ?? [] }];
    // Amounts of different currencies are not comparable: rank within each currency.
    if (isMoneyMetric(metric) && all.currency === null && all.by_currency?.length) {
      sets = await Promise.all(all.by_currency.map(async (entry) => ({
        currency: entry.currency,
        groups:
          (await this.client.insights({ ...request, source_currency: entry.currency })).groups ??
            [],
      })));
    }
    return {
      kind: "rank",
      period,
      platforms: [...this.query.platforms],
      metric,
      order,
      limit,
      group_by: groupBy,
      sets,
      requests: [],
    };
  }

  async listCampaigns(): Promise<Outcome> {
    const page = await this.client.campaigns({
      platform: this.query.platforms,
      sort: "latest",
      limit: this.options.listLimit ?? 20,
    });
    const range = this.query.date_range;
    // /campaigns has no date filter: keep the campaigns whose activity overlaps the range.
    const campaigns = range
      ? page.campaigns.filter((campaign) =>
        (campaign.first_seen === null || campaign.first_seen.slice(0, 10) <= range.to) &&
        (campaign.last_seen === null || campaign.last_seen.slice(0, 10) >= range.from)
      )
      : page.campaigns;
    return {
      kind: "list_campaigns",
      platforms: [...this.query.platforms],
      period: range ? { from: range.from, to: range.to, basis: "asked" } : null,
      campaigns,
      more: page.next_cursor !== null,
      requests: [],
    };
  }

  async run(): Promise<Outcome> {
    const intent = this.query.intent;
    if (intent === "unknown") return { kind: "unknown", requests: [] };
    // A definition reads no data: the KPI module's facts answer it.
    if (intent === "explain") {
      const metrics = [...this.query.metrics];
      return { kind: "explain", metrics, definitions: definitionsOf(metrics), requests: [] };
    }
    if (intent === "list_campaigns") return await this.listCampaigns();
    if (intent === "rank") return await this.rank();
    const subject = await this.subject();
    if ("kind" in subject) return subject;
    try {
      if (intent === "trend") return await this.trend(subject);
      if (intent === "compare") return await this.compare(subject);
      return await this.metric(subject);
    } catch (error) {
      if (
        error instanceof AnalyticsError && error.kind === "not_found" && subject.type === "campaign"
      ) {
        return {
          kind: "not_found",
          ref: subject.via,
          said: subject.said ?? subject.campaign_id,
          platforms: [...this.query.platforms],
          requests: [],
        };
      }
      throw error;
    }
  }
}

function errorOutcome(error: AnalyticsError): Outcome {
  return {
    kind: "error",
    reason: error.kind,
    status: error.status,
    message: error.message,
    requests: [],
  };
}

/** Runs a parsed query against the API. Never throws for API failures: they become outcomes. */
export async function execute(
  query: ParsedQuery,
  client: AnalyticsClient,
  options: ExecuteOptions = {},
): Promise<Outcome> {
  let outcome: Outcome;
  try {
    outcome = await new Execution(query, client, options).run();
  } catch (error) {
    if (!(error instanceof AnalyticsError)) throw error;
    outcome = errorOutcome(error);
  }
  outcome.requests = [...client.requests];
  const [fx] = client.conversions ?? [];
  // The answer names the target currency itself; the query's is the fallback.
  if (fx) outcome.fx = { ...(query.currency ? { to: query.currency } : {}), ...fx };
  return outcome;
}
