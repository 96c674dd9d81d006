/**
 * The bot's `AnalyticsClient` read straight from a `MetricsStore`, for one tenant, with
 * no HTTP app in between: what `answerPromptWithStore` (store.ts) uses. It answers the
 * three reads the executor makes (`/campaign/:id/insights`, `/insights`, `/campaigns`)
 * in the API's shapes, built the way the handlers build them, money as stored (currency
 * conversion needs the server's exchange rates and is refused as a bad request).
 */
import type { Campaign, CampaignInsights, CampaignsPage, Insights, InsightsGroup } from "../api.ts";
import { calendarDateIn, shiftDate, startOfDayIn } from "../dates.ts";
import { type CurrencyReport, reportCurrencies } from "../kpi.ts";
import type { Platform } from "../schema.ts";
import type { CampaignSummary, MetricsStore, Selection, SumsRow } from "../store/store_api.ts";
import {
  type AnalyticsClient,
  AnalyticsError,
  type CampaignInsightsParams,
  type CampaignsParams,
  type CatalogCampaign,
  type InsightsParams,
} from "./client.ts";
import { type Resolution, resolveWithSearch } from "./resolve.ts";
import { VectorIndex } from "./vector_search.ts";

const CATALOG_PAGE_SIZE = 100;
const MAX_CATALOG_PAGES = 20;

/** Options of {@linkcode createStoreAnalyticsClient}. */
export interface StoreClientOptions {
  /** The tenant every read is restricted to. */
  tenantId: string;
  /** The zone calendar dates are read in when a request names none. Default UTC. */
  timeZone?: string;
}

function reportBy<K extends string>(
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

function presentCampaign(campaign: CampaignSummary): Campaign {
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

/** Calendar dates (inclusive) or instants to the store's [from, to) instants. */
function range(
  params: { from?: string; to?: string },
  timeZone: string,
): { from?: Date; to?: Date } {
  const from = params.from === undefined
    ? undefined
    : params.from.length === 10
    ? startOfDayIn(params.from, timeZone)
    : new Date(params.from);
  const to = params.to === undefined
    ? undefined
    : params.to.length === 10
    ? startOfDayIn(shiftDate(params.to, 1), timeZone)
    : new Date(params.to);
  if (from && to && from.getTime() >= to.getTime()) {
    throw new AnalyticsError("bad_request", "from must be before to", 400, "from");
  }
  return { from, to };
}

function refuseConversion(currency: string | undefined): void {
  if (currency !== undefined) {
    throw new AnalyticsError(
      "bad_request",
      "currency conversion is not available when answering from a store",
      400,
      "currency",
    );
  }
}

class StoreAnalyticsClient implements AnalyticsClient {
  readonly #store: MetricsStore;
  readonly #tenantId: string;
  readonly #timeZone: string;
  readonly #requests: string[] = [];
  #catalog: Promise<CatalogCampaign[]> | undefined;

  constructor(store: MetricsStore, options: StoreClientOptions) {
    this.#store = store;
    this.#tenantId = options.tenantId;
    this.#timeZone = options.timeZone ?? "UTC";
  }

  get requests(): readonly string[] {
    return this.#requests;
  }

  #record(path: string, params: object): void {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) {
        if (value.length) search.set(key, value.join(","));
      } else search.set(key, String(value));
    }
    const text = search.toString();
    this.#requests.push(text ? `${path}?${text}` : path);
  }

  async campaignInsights(
    id: string,
    params: CampaignInsightsParams = {},
  ): Promise<CampaignInsights> {
    this.#record(`/campaign/${encodeURIComponent(id)}/insights`, params);
    refuseConversion(params.currency);
    const timeZone = params.tz ?? this.#timeZone;
    const catalog = await this.#store.findCampaign(this.#tenantId, id);
    if (catalog.length === 0) {
      throw new AnalyticsError("not_found", `campaign "${id}" not found`, 404, "id");
    }
    const platforms = [...(params.platform ?? [])];
    const selection: Selection = {
      tenantId: this.#tenantId,
      campaignIds: [id],
      platforms,
      ...range(params, timeZone),
      currency: params.source_currency,
    };
    const [totals, series] = await Promise.all([
      this.#store.totals(selection),
      params.granularity
        ? this.#store.series(selection, params.granularity, timeZone)
        : Promise.resolve(undefined),
    ]);
    const visible = catalog.filter((entry) =>
      platforms.length === 0 || platforms.includes(entry.platform)
    );
    const fallbackCurrency = (visible[0] ?? catalog[0]).currency;
    const report = reportCurrencies(totals.totals, fallbackCurrency);
    const seen = catalog.flatMap((entry) => [entry.first_seen, entry.last_seen])
      .filter((date): date is Date => date instanceof Date).map((date) => date.getTime());
    return {
      campaign_id: id,
      campaign_name: catalog.find((entry) => entry.name)?.name ?? null,
      platform: platforms.length ? platforms.join(",") : null,
      from: params.from ??
        (seen.length ? calendarDateIn(new Date(Math.min(...seen)), timeZone) : null),
      to: params.to ??
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

  async insights(params: InsightsParams = {}): Promise<Insights> {
    this.#record("/insights", params);
    refuseConversion(params.currency);
    const timeZone = params.tz ?? this.#timeZone;
    if (params.order_by && !params.group_by) {
      throw new AnalyticsError(
        "bad_request",
        "order_by needs group_by (platform or campaign)",
        400,
        "order_by",
      );
    }
    const selection: Selection = {
      tenantId: this.#tenantId,
      platforms: [...(params.platform ?? [])],
      campaignIds: params.campaign_id ? [params.campaign_id] : [],
      currency: params.source_currency,
      ...range(params, timeZone),
    };
    const [totals, groups] = await Promise.all([
      this.#store.totals(selection),
      this.#groups(selection, params, timeZone),
    ]);
    const report = reportCurrencies(totals.totals, null);
    return {
      from: params.from ?? null,
      to: params.to ?? null,
      time_zone: timeZone,
      platforms: selection.platforms ?? [],
      campaign_id: params.campaign_id ?? null,
      currency: report.currency,
      totals: report.totals,
      ...(report.by_currency ? { by_currency: report.by_currency } : {}),
      group_by: params.group_by ?? null,
      ...(groups ? { groups } : {}),
    };
  }

  async #groups(
    selection: Selection,
    params: InsightsParams,
    timeZone: string,
  ): Promise<InsightsGroup[] | undefined> {
    const groupBy = params.group_by;
    if (!groupBy) return undefined;
    if (groupBy === "day" || groupBy === "week" || groupBy === "month") {
      const series = await this.#store.series(selection, groupBy, timeZone);
      return reportBy(series, "bucket", null).map((point) => ({
        bucket: point.key,
        currency: point.currency,
        ...point.totals,
      }));
    }
    const ranked = await this.#store.rank(selection, {
      groupBy,
      metric: params.order_by ?? "cost",
      order: params.order ?? "desc",
      limit: params.limit ?? 10,
    });
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

  async campaigns(params: CampaignsParams = {}): Promise<CampaignsPage> {
    this.#record("/campaigns", params);
    refuseConversion(params.currency);
    const page = await this.#store.listCampaigns({
      tenantId: this.#tenantId,
      platforms: params.platform?.length ? [...params.platform] : undefined,
      q: params.q,
      sort: params.sort ?? "latest",
      limit: params.limit ?? 20,
      cursor: params.cursor,
    });
    return { campaigns: page.items.map(presentCampaign), next_cursor: page.next_cursor };
  }

  async latestCampaign(platforms: readonly Platform[] = []): Promise<Campaign | null> {
    const page = await this.campaigns({ platform: platforms, sort: "latest", limit: 1 });
    return page.campaigns[0] ?? null;
  }

  async resolveCampaign(
    name: string,
    options: { platform?: Platform } = {},
  ): Promise<Resolution<CatalogCampaign>> {
    const catalog = await this.#readCatalog();
    if (catalog.length === 0) return { kind: "none" };
    const index = new VectorIndex<CatalogCampaign>();
    catalog.forEach((entry, position) => index.add(String(position), entry.name, entry));
    return await resolveWithSearch(name, catalog, index, { platform: options.platform });
  }

  #readCatalog(): Promise<CatalogCampaign[]> {
    this.#catalog ??= (async () => {
      const entries: CatalogCampaign[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_CATALOG_PAGES; page++) {
        const answer = await this.campaigns({ sort: "latest", limit: CATALOG_PAGE_SIZE, cursor });
        for (const campaign of answer.campaigns) {
          entries.push({
            campaign_id: campaign.campaign_id,
            name: campaign.name ?? campaign.campaign_id,
            platform: campaign.platform as Platform,
            campaign,
          });
        }
        if (!answer.next_cursor) break;
        cursor = answer.next_cursor;
      }
      return entries;
    })();
    return this.#catalog;
  }
}

/** An `AnalyticsClient` over a store, restricted to one tenant (one per question). */
export function createStoreAnalyticsClient(
  store: MetricsStore,
  options: StoreClientOptions,
): AnalyticsClient {
  return new StoreAnalyticsClient(store, options);
}
