/**
 * How the bot reads the analytics API: one `AnalyticsClient` interface, one
 * implementation over a fetch-like transport, two ways to build it.
 *
 * - `createHttpAnalyticsClient`: the insights API over HTTP (`ANALYTICS_API_URL`), with the
 *   caller's own bearer token, a timeout per request and honest errors.
 * - `createInProcessAnalyticsClient`: the same requests handed to the app in this process
 *   (`app.request`), so authentication, tenancy and caching are exactly the API's.
 *
 * Both resolve `latest` and campaign names through `GET /campaigns`. Names are matched
 * against the tenant's catalog with TF-IDF vectors behind the `VectorSearch` interface
 * (in memory by default, pgvector when configured); the index is cached per tenant and
 * rebuilt only when the catalog the API returns changes.
 *
 * Web-standard only (fetch, Request, crypto.subtle): lib/ imports nothing from handlers/.
 */
import type { z } from "zod";
import {
  type Campaign,
  type CampaignInsights,
  CampaignInsightsSchema,
  type CampaignsPage,
  CampaignsPageSchema,
  type Insights,
  type InsightsGroup,
  InsightsSchema,
} from "../api.ts";
import { type MetricName, type Platform, PlatformSchema } from "../schema.ts";
import { type CatalogEntry, type Resolution, resolveWithSearch } from "./resolve.ts";
import { VectorIndex, type VectorSearch } from "./vector_search.ts";

// ---------------------------------------------------------------------------------
// The API's answers (lib/api.ts, the shapes the handlers build), read loosely: fields
// the bot does not know yet pass through untouched.
// ---------------------------------------------------------------------------------

const CampaignInsightsAnswer = CampaignInsightsSchema.loose();
const InsightsAnswer = InsightsSchema.loose();
const CampaignsPageAnswer = CampaignsPageSchema.loose();

export type { Campaign, CampaignInsights, CampaignsPage, Insights, InsightsGroup };

// ---------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------

/** A metric the API ranks and reports by (the store's {@linkcode MetricName}). */
export type ApiMetric = MetricName;

export interface CampaignInsightsParams {
  from?: string;
  to?: string;
  platform?: readonly Platform[];
  granularity?: "day" | "week" | "month";
  /** Report money in this currency, converted at each day's rate. */
  currency?: string;
  /** Only rows recorded in this currency. */
  source_currency?: string;
  tz?: string;
}

export interface InsightsParams {
  from?: string;
  to?: string;
  platform?: readonly Platform[];
  campaign_id?: string;
  group_by?: "platform" | "campaign" | "day" | "week" | "month";
  order_by?: ApiMetric;
  order?: "asc" | "desc";
  limit?: number;
  /** Report money in this currency, converted at each day's rate. */
  currency?: string;
  /** Only rows recorded in this currency. */
  source_currency?: string;
  tz?: string;
}

export interface CampaignsParams {
  platform?: readonly Platform[];
  q?: string;
  sort?: "latest" | "spend";
  limit?: number;
  cursor?: string;
  currency?: string;
}

/** A catalog entry the resolver can match, carrying the API's campaign record. */
export interface CatalogCampaign extends CatalogEntry {
  readonly campaign: Campaign;
}

export interface AnalyticsClient {
  /** `GET /campaign/:id/insights`. */
  campaignInsights(id: string, params?: CampaignInsightsParams): Promise<CampaignInsights>;
  /** `GET /insights`. */
  insights(params?: InsightsParams): Promise<Insights>;
  /** `GET /campaigns` (one page). */
  campaigns(params?: CampaignsParams): Promise<CampaignsPage>;
  /** The most recently launched campaign (on these platforms), or null when there is none. */
  latestCampaign(platforms?: readonly Platform[]): Promise<Campaign | null>;
  /** A campaign name as said in a prompt, matched against the caller's catalog. */
  resolveCampaign(
    name: string,
    options?: { platform?: Platform },
  ): Promise<Resolution<CatalogCampaign>>;
  /** The API paths requested so far, in order (returned beside answers). */
  readonly requests: readonly string[];
  /**
   * The `fx` objects of answers whose money was converted to the currency asked for
   * (`currency=XXX`), in order; absent on clients that never see one.
   */
  readonly conversions?: readonly FxNote[];
}

/** What an answer says about a currency conversion it made (the API's `fx` object). */
export type FxNote = Readonly<Record<string, unknown>>;

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

export type AnalyticsErrorKind =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "bad_request"
  | "unavailable"
  | "timeout"
  | "invalid_response";

/** A failed API call, classified so the bot can say honestly what went wrong. */
export class AnalyticsError extends Error {
  constructor(
    readonly kind: AnalyticsErrorKind,
    message: string,
    readonly status: number | null = null,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = "AnalyticsError";
  }
}

function errorKindFor(status: number): AnalyticsErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429 || status >= 500) return "unavailable";
  return "bad_request";
}

// ---------------------------------------------------------------------------------
// The catalog index cache: one vector index per tenant, rebuilt when the catalog changes.
// ---------------------------------------------------------------------------------

/** Builds a searchable index over a tenant's catalog (in memory, or pgvector). */
export type CatalogIndexFactory = (
  key: string,
  entries: readonly CatalogCampaign[],
) => Promise<VectorSearch<CatalogCampaign>>;

/** The default: the in-memory TF-IDF index the parser and resolver use. */
export const memoryIndexFactory: CatalogIndexFactory = (_key, entries) => {
  const index = new VectorIndex<CatalogCampaign>();
  entries.forEach((entry, position) => index.add(String(position), entry.name, entry));
  return Promise.resolve(index);
};

interface CachedIndex {
  fingerprint: string;
  index: Promise<VectorSearch<CatalogCampaign>>;
}

/**
 * Indexes keyed by tenant (or, for HTTP callers whose tenant the bot cannot see, a
 * digest of the API URL and token): the entry is reused while the catalog's
 * fingerprint (ids, platforms and names) is unchanged, so a question costs a cached
 * `/campaigns` read, not a refit. Least recently used keys are dropped past `maxKeys`.
 */
export class CatalogIndexCache {
  readonly #entries = new Map<string, CachedIndex>();
  readonly #factory: CatalogIndexFactory;
  readonly #maxKeys: number;
  /** Number of indexes built so far (for tests and metrics). */
  builds = 0;

  constructor(options: { factory?: CatalogIndexFactory; maxKeys?: number } = {}) {
    this.#factory = options.factory ?? memoryIndexFactory;
    this.#maxKeys = options.maxKeys ?? 1000;
  }

  get(key: string, entries: readonly CatalogCampaign[]): Promise<VectorSearch<CatalogCampaign>> {
    const fingerprint = entries.map((e) => `${e.platform}\u0001${e.campaign_id}\u0001${e.name}`)
      .join("\u0002");
    const cached = this.#entries.get(key);
    if (cached && cached.fingerprint === fingerprint) {
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached.index;
    }
    this.builds++;
    const index = this.#factory(key, entries);
    const entry = { fingerprint, index };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    // A failed build is not kept: the next question tries again.
    index.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    while (this.#entries.size > this.#maxKeys) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return index;
  }
}

// ---------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------

/** What carries a request: `fetch` itself, or a function handing it to an app in-process. */
export type FetchLike = (request: Request) => Promise<Response>;

export interface ClientOptions {
  transport: FetchLike;
  /** Base URL the paths are resolved against. */
  baseUrl: string;
  /** The caller's bearer token, forwarded as is. */
  token: string;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Shared across requests; a private one is made when absent. */
  catalogCache?: CatalogIndexCache;
  /**
   * Cache key for this caller's catalog index: the tenant when known. Otherwise a
   * SHA-256 digest of the base URL and token is used, so two callers share an index
   * only when they hold the same credential.
   */
  catalogKey?: string;
  /** At most this many `/campaigns` pages of 100 are read for name resolution. Default 20. */
  maxCatalogPages?: number;
  /** How errors name the other side: "the analytics API" or "the analytics service". */
  serviceName?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const CATALOG_PAGE_SIZE = 100;

/**
 * The caller's catalog for name resolution: `/campaigns` pages of 100, latest first,
 * read until the last page or `maxPages` pages.
 */
export async function readCatalogPages(
  client: Pick<AnalyticsClient, "campaigns">,
  maxPages: number,
): Promise<Campaign[]> {
  const campaigns: Campaign[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const answer = await client.campaigns({ sort: "latest", limit: CATALOG_PAGE_SIZE, cursor });
    campaigns.push(...answer.campaigns);
    if (!answer.next_cursor) break;
    cursor = answer.next_cursor;
  }
  return campaigns;
}

function queryString(params: object): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      if (value.length) search.set(key, value.join(","));
    } else search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

class ApiAnalyticsClient implements AnalyticsClient {
  readonly #options: ClientOptions;
  readonly #cache: CatalogIndexCache;
  readonly #requests: string[] = [];
  readonly #conversions: FxNote[] = [];
  #catalog: Promise<CatalogCampaign[]> | undefined;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#cache = options.catalogCache ?? new CatalogIndexCache();
  }

  get requests(): readonly string[] {
    return this.#requests;
  }

  get conversions(): readonly FxNote[] {
    return this.#conversions;
  }

  async campaignInsights(
    id: string,
    params: CampaignInsightsParams = {},
  ): Promise<CampaignInsights> {
    return await this.#get(
      `/campaign/${encodeURIComponent(id)}/insights${queryString(params)}`,
      CampaignInsightsAnswer,
    );
  }

  async insights(params: InsightsParams = {}): Promise<Insights> {
    return await this.#get(`/insights${queryString(params)}`, InsightsAnswer);
  }

  async campaigns(params: CampaignsParams = {}): Promise<CampaignsPage> {
    return await this.#get(`/campaigns${queryString(params)}`, CampaignsPageAnswer);
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
    const key = this.#options.catalogKey ??
      `token:${await sha256Hex(`${this.#options.baseUrl}\u0000${this.#options.token}`)}`;
    const index = await this.#cache.get(key, catalog);
    return await resolveWithSearch(name, catalog, index, { platform: options.platform });
  }

  /** The caller's whole catalog (up to the page cap), read once per client. */
  #readCatalog(): Promise<CatalogCampaign[]> {
    this.#catalog ??= (async () => {
      const entries: CatalogCampaign[] = [];
      for (const campaign of await readCatalogPages(this, this.#options.maxCatalogPages ?? 20)) {
        const platform = PlatformSchema.safeParse(campaign.platform);
        if (!platform.success) continue;
        entries.push({
          campaign_id: campaign.campaign_id,
          name: campaign.name ?? campaign.campaign_id,
          platform: platform.data,
          campaign,
        });
      }
      return entries;
    })();
    return this.#catalog;
  }

  async #get<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T>> {
    this.#requests.push(path);
    const service = this.#options.serviceName ?? "the analytics API";
    const timeoutMs = this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new AnalyticsError("timeout", `${service} did not answer in time`));
      }, timeoutMs);
    });
    let response: Response;
    try {
      // Relative to the base, so a base with a path prefix (https://host/api/) keeps it.
      const request = new Request(new URL(path.replace(/^\//, ""), this.#options.baseUrl), {
        headers: { Authorization: `Bearer ${this.#options.token}`, Accept: "application/json" },
        signal: controller.signal,
      });
      response = await Promise.race([this.#options.transport(request), timedOut]);
    } catch (error) {
      clearTimeout(timer);
      if (error instanceof AnalyticsError) throw error;
      throw new AnalyticsError("unavailable", `could not reach ${service}`);
    }
    try {
      const text = await Promise.race([response.text(), timedOut]);
      if (!response.ok) {
        let message = `${service} answered ${response.status}`;
        let field: string | null = null;
        try {
          const body = JSON.parse(text);
          if (typeof body?.error === "string") message = body.error;
          if (typeof body?.field === "string") field = body.field;
        } catch {
          // Not JSON (a proxy's error page): keep the status line.
        }
        throw new AnalyticsError(errorKindFor(response.status), message, response.status, field);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new AnalyticsError("invalid_response", `${service} answered with invalid JSON`);
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        throw new AnalyticsError(
          "invalid_response",
          `${service} answered in an unexpected shape`,
          response.status,
        );
      }
      const fx = (parsed.data as { fx?: unknown }).fx;
      if (fx !== null && typeof fx === "object" && !Array.isArray(fx)) {
        this.#conversions.push(fx as FxNote);
      }
      return parsed.data;
    } catch (error) {
      if (error instanceof AnalyticsError) throw error;
      throw new AnalyticsError("unavailable", `the answer from ${service} was cut off`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The insights API over HTTP with the caller's own token (the standalone bot, `ask`). */
export function createHttpAnalyticsClient(options: {
  baseUrl: string;
  token: string;
  fetch?: FetchLike;
  timeoutMs?: number;
  catalogCache?: CatalogIndexCache;
  maxCatalogPages?: number;
}): AnalyticsClient {
  const fetcher = options.fetch ?? ((request: Request) => fetch(request));
  return new ApiAnalyticsClient({
    transport: fetcher,
    baseUrl: options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`,
    token: options.token,
    timeoutMs: options.timeoutMs,
    catalogCache: options.catalogCache,
    maxCatalogPages: options.maxCatalogPages,
    serviceName: "the analytics API",
  });
}

/**
 * The app in this process: `request` is typically `(r) => app.request(r)` (Hono), so the
 * question goes through the very same auth, tenancy and cache as an API call. `tenant`,
 * when known, keys the catalog index cache.
 */
export function createInProcessAnalyticsClient(options: {
  request: FetchLike;
  token: string;
  tenant?: string;
  timeoutMs?: number;
  catalogCache?: CatalogIndexCache;
  maxCatalogPages?: number;
}): AnalyticsClient {
  return new ApiAnalyticsClient({
    transport: options.request,
    baseUrl: "http://in-process/",
    token: options.token,
    timeoutMs: options.timeoutMs,
    catalogCache: options.catalogCache,
    catalogKey: options.tenant === undefined ? undefined : `tenant:${options.tenant}`,
    maxCatalogPages: options.maxCatalogPages,
    serviceName: "the analytics service",
  });
}
