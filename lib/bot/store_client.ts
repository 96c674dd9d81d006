/**
 * The bot's `AnalyticsClient` read straight from a `MetricsStore`, for one tenant, with
 * no HTTP app in between: what `answerPromptWithStore` (store.ts) uses. It answers the
 * three reads the executor makes (`/campaign/:id/insights`, `/insights`, `/campaigns`)
 * in the API's shapes, built the way the handlers build them, money as stored (currency
 * conversion needs the server's exchange rates and is refused as a bad request).
 */
import type { Campaign, CampaignInsights, CampaignsPage, Insights, InsightsGroup } from "../api.ts";
import {
  bucketGroups,
  campaignInsightsReport,
  insightsReport,
  presentCampaign,
  rankedGroups,
  resolveRange,
} from "../insights_report.ts";
import type { Platform } from "../schema.ts";
import type { MetricsStore, Selection } from "../store/store_api.ts";
import {
  type AnalyticsClient,
  AnalyticsError,
  type CampaignInsightsParams,
  type CampaignsParams,
  type CatalogCampaign,
  type InsightsParams,
  readCatalogPages,
} from "./client.ts";
import { type Resolution, resolveWithSearch } from "./resolve.ts";
import { VectorIndex } from "./vector_search.ts";

const MAX_CATALOG_PAGES = 20;

/** Options of {@linkcode createStoreAnalyticsClient}. */
export interface StoreClientOptions {
  /** The tenant every read is restricted to. */
  tenantId: string;
  /** The zone calendar dates are read in when a request names none. Default UTC. */
  timeZone?: string;
}

/** Calendar dates (inclusive) or instants to the store's [from, to) instants. */
function range(
  params: { from?: string; to?: string },
  timeZone: string,
): { from?: Date; to?: Date } {
  return resolveRange(
    params,
    timeZone,
    (field, message) => new AnalyticsError("bad_request", message, 400, field),
  );
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
    return campaignInsightsReport({
      campaignId: id,
      catalog,
      platforms,
      from: params.from,
      to: params.to,
      timeZone,
      totals,
      series,
      target: null,
    });
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
    return insightsReport({
      from: params.from,
      to: params.to,
      timeZone,
      platforms: selection.platforms ?? [],
      campaignId: params.campaign_id,
      groupBy: params.group_by,
      totals,
      groups,
      target: null,
    });
  }

  async #groups(
    selection: Selection,
    params: InsightsParams,
    timeZone: string,
  ): Promise<InsightsGroup[] | undefined> {
    const groupBy = params.group_by;
    if (!groupBy) return undefined;
    if (groupBy === "day" || groupBy === "week" || groupBy === "month") {
      return bucketGroups(await this.#store.series(selection, groupBy, timeZone), null);
    }
    const ranked = await this.#store.rank(selection, {
      groupBy,
      metric: params.order_by ?? "cost",
      order: params.order ?? "desc",
      limit: params.limit ?? 10,
    });
    return rankedGroups(ranked, groupBy);
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
      const campaigns = await readCatalogPages(this, MAX_CATALOG_PAGES);
      return campaigns.map((campaign) => ({
        campaign_id: campaign.campaign_id,
        name: campaign.name ?? campaign.campaign_id,
        platform: campaign.platform as Platform,
        campaign,
      }));
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
