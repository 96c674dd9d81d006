/**
 * LinkedIn Marketing API connector: campaign analytics per day (adAnalytics, analytics
 * finder, pivot CAMPAIGN, DAILY).
 *
 * The query is Rest.li 2.0 syntax and is built by hand: `dateRange=(start:(...),end:(...))`
 * and `accounts=List(...)` keep their parentheses, commas and colons literal while the
 * URNs inside are percent-encoded; a generic query encoder would escape the structure.
 * The finder does not page but caps a response, so windows are split (≤ 30 days) and a
 * response that reaches the cap is split again. Days are UTC days (LinkedIn reports in
 * UTC; ad accounts carry no reporting zone). Names and statuses come from the account's
 * campaign search, the currency from the ad account.
 */
import { z } from "zod";
import { chunkWindow, daysBetween, shiftDate } from "../lib/dates.ts";
import { silentLogger } from "../lib/log.ts";
import type { CampaignMetadata } from "../lib/store/metrics_store.ts";
import { type Source, type SourceBatch, SourceError, type SyncWindow } from "./source.ts";
import {
  type Classifier,
  createHttpClient,
  type HttpClient,
  type HttpDeps,
  HttpError,
  parseRetryAfter,
} from "./http.ts";
import { type Env, parseEnv } from "../lib/config.ts";
import { accountIdList, BaseUrlSchema, SecretSchema } from "./connector_env.ts";
import { dayStart, wireId, wireMeasure, wireText } from "./platform_rows.ts";
import { isRecord } from "../lib/schema.ts";

export const LINKEDIN_DEFAULT_BASE_URL = "https://api.linkedin.com/rest";
/** A recent active version (LinkedIn keeps a version for about a year, then refuses it). */
export const LINKEDIN_DEFAULT_VERSION = "202609";
/** LinkedIn reports analytics by UTC day. */
export const LINKEDIN_REPORT_TIME_ZONE = "UTC";

const ACCOUNT_URN = /^urn:li:sponsoredAccount:(\d+)$/;
const CAMPAIGN_URN = /^urn:li:sponsoredCampaign:(\d+)$/;

/** `urn:li:sponsoredAccount:123` or `123` → `123`. */
export function normalizeLinkedInAccountId(raw: string): string | undefined {
  const text = raw.trim();
  const id = ACCOUNT_URN.exec(text)?.[1] ?? text;
  return /^\d+$/.test(id) ? id : undefined;
}

/** `urn:li:sponsoredCampaign:123` (or a bare id) → `123`; undefined otherwise. */
export function campaignIdFromUrn(value: unknown): string | undefined {
  const text = wireId(value);
  if (text === undefined) return undefined;
  const id = CAMPAIGN_URN.exec(text)?.[1] ?? text;
  return /^\d+$/.test(id) ? id : undefined;
}

export const LinkedInConfigSchema = z.object({
  LINKEDIN_ACCESS_TOKEN: SecretSchema,
  LINKEDIN_AD_ACCOUNT_IDS: accountIdList(
    normalizeLinkedInAccountId,
    "urn:li:sponsoredAccount:123 or 123",
  ),
  LINKEDIN_API_BASE_URL: BaseUrlSchema.default(LINKEDIN_DEFAULT_BASE_URL),
  LINKEDIN_VERSION: z.string().trim().regex(/^\d{6}(\.\d{2})?$/, "expected YYYYMM")
    .default(LINKEDIN_DEFAULT_VERSION),
}).transform((env) => ({
  accessToken: env.LINKEDIN_ACCESS_TOKEN,
  accountIds: env.LINKEDIN_AD_ACCOUNT_IDS,
  baseUrl: env.LINKEDIN_API_BASE_URL,
  version: env.LINKEDIN_VERSION,
  /** Days per analytics request. */
  maxDaysPerRequest: 30,
  /** Elements at which LinkedIn truncates a response: reaching it means "split further". */
  elementCap: 15_000,
}));
/** The connector's settings, for the accounts of one tenant. */
export type LinkedInConfig = z.output<typeof LinkedInConfigSchema> & { tenantId: string };

/** The connector's variables; its accounts belong to `tenantId` (INGEST_TENANT). */
export function parseLinkedInConfig(env: Env, tenantId = "default"): LinkedInConfig {
  return { ...parseEnv(LinkedInConfigSchema, env, "linkedin source"), tenantId };
}

// ---------------------------------------------------------------------------
// Rest.li query building

export const ANALYTICS_FIELDS = [
  "pivotValues",
  "dateRange",
  "impressions",
  "clicks",
  "costInLocalCurrency",
  "externalWebsiteConversions",
  "conversionValueInLocalCurrency",
] as const;

/** "2024-04-01" → "(year:2024,month:4,day:1)". */
export function restliDate(date: string): string {
  const [year, month, day] = date.split("-").map(Number);
  return `(year:${year},month:${month},day:${day})`;
}

/** The adAnalytics query string, Rest.li structure literal and URNs percent-encoded. */
export function analyticsQuery(accountId: string, window: SyncWindow): string {
  const accountUrn = encodeURIComponent(`urn:li:sponsoredAccount:${accountId}`);
  return [
    "q=analytics",
    "pivot=CAMPAIGN",
    "timeGranularity=DAILY",
    `dateRange=(start:${restliDate(window.from)},end:${restliDate(window.to)})`,
    `accounts=List(${accountUrn})`,
    `fields=${ANALYTICS_FIELDS.join(",")}`,
  ].join("&");
}

// ---------------------------------------------------------------------------
// Wire shapes

const AnalyticsResponseSchema = z.object({ elements: z.array(z.unknown()) }).loose();

const CampaignPageSchema = z.object({
  elements: z.array(z.unknown()),
  metadata: z.object({ nextPageToken: z.string().nullish() }).loose().nullish(),
  paging: z.object({
    start: z.number().optional(),
    count: z.number().optional(),
    total: z.number().optional(),
  }).loose().nullish(),
}).loose();

const AdAccountSchema = z.object({
  currency: z.string().optional(),
  name: z.string().optional(),
}).loose();

const LinkedInErrorSchema = z.object({
  message: z.string().optional(),
  serviceErrorCode: z.union([z.number(), z.string()]).optional(),
  code: z.string().optional(),
  status: z.number().optional(),
}).loose();

const DatePartsSchema = z.object({
  year: z.number().int(),
  month: z.number().int(),
  day: z.number().int(),
}).loose();

/** {year, month, day} → "YYYY-MM-DD"; undefined when unreadable. */
function calendarDateOf(value: unknown): string | undefined {
  const parsed = DatePartsSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const { year, month, day } = parsed.data;
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${
    String(day).padStart(2, "0")
  }`;
}

// ---------------------------------------------------------------------------
// Errors

const VERSION_CODES = new Set(["VERSION_MISSING", "NONEXISTENT_VERSION", "INVALID_VERSION"]);

/** 429 waits Retry-After; 401/403 are credentials; 426 (or a version code) is a retired version. */
export const classifyLinkedIn: Classifier = (response, context) => {
  if (response.status >= 200 && response.status < 300) return { action: "ok" };
  const parsed = LinkedInErrorSchema.safeParse(response.body);
  const error = parsed.success ? parsed.data : {};
  const reason = `HTTP ${response.status}${error.code ? ` ${error.code}` : ""}${
    error.serviceErrorCode !== undefined ? ` (${error.serviceErrorCode})` : ""
  }: ${error.message ?? (response.text.slice(0, 200) || "no message")}`;
  if (response.status === 429 || response.status === 408 || response.status >= 500) {
    return {
      action: "retry",
      reason,
      waitMs: parseRetryAfter(response.headers.get("retry-after"), context.now),
    };
  }
  if (response.status === 401 || response.status === 403) return { action: "auth", reason };
  if (response.status === 426 || (error.code && VERSION_CODES.has(error.code))) {
    return { action: "fail", reason: `${reason}; check LINKEDIN_VERSION` };
  }
  return { action: "fail", reason };
};

// ---------------------------------------------------------------------------
// The source

export type LinkedInDeps = HttpDeps;

export function createLinkedInSource(config: LinkedInConfig, deps: LinkedInDeps = {}): Source {
  return new LinkedInSource(config, deps);
}

interface CampaignInfo {
  name?: string;
  status?: string;
}

class LinkedInSource implements Source {
  readonly name = "linkedin" as const;
  readonly tenantId: string;
  private readonly http: HttpClient;
  private readonly logger;

  constructor(private readonly config: LinkedInConfig, deps: LinkedInDeps) {
    this.tenantId = config.tenantId;
    this.logger = (deps.logger ?? silentLogger).child({ source: "linkedin" });
    this.http = createHttpClient({
      platform: "linkedin",
      classify: classifyLinkedIn,
      secrets: () => [config.accessToken],
      deps,
    });
  }

  accounts(): string[] {
    return [...this.config.accountIds];
  }

  async fetch(account: string, window: SyncWindow, signal?: AbortSignal): Promise<SourceBatch> {
    const accountId = normalizeLinkedInAccountId(account);
    if (!accountId) {
      throw new SourceError("linkedin", "account id must look like urn:li:sponsoredAccount:123");
    }
    const adAccount = await this.adAccount(accountId, signal);
    const campaignInfo = await this.campaignsOrNone(accountId, signal);
    this.logger.debug("reading report days as UTC days", { account_id: accountId });
    const rows: unknown[] = [];
    for (const chunk of chunkWindow(window, this.config.maxDaysPerRequest)) {
      for (const element of await this.analytics(accountId, chunk, signal)) {
        rows.push(this.toRow(element, accountId, adAccount.currency, campaignInfo));
      }
    }
    const campaigns: CampaignMetadata[] = [...campaignInfo].map(([campaignId, info]) => ({
      tenant_id: this.tenantId,
      platform: "linkedin",
      account_id: accountId,
      campaign_id: campaignId,
      name: info.name ?? null,
      status: info.status ?? null,
    }));
    return {
      account: {
        account_id: accountId,
        currency: adAccount.currency ?? null,
        time_zone: LINKEDIN_REPORT_TIME_ZONE,
        name: adAccount.name ?? null,
      },
      rows,
      campaigns,
    };
  }

  private toRow(
    element: unknown,
    accountId: string,
    currency: string | undefined,
    campaigns: Map<string, CampaignInfo>,
  ): unknown {
    if (!isRecord(element)) return element;
    const pivot = Array.isArray(element.pivotValues) ? element.pivotValues[0] : element.pivotValue;
    const campaignId = campaignIdFromUrn(pivot);
    const info = campaignId ? campaigns.get(campaignId) : undefined;
    const dateRange = isRecord(element.dateRange) ? element.dateRange : {};
    const day = calendarDateOf(dateRange.start);
    return {
      tenant_id: this.tenantId,
      platform: "linkedin",
      account_id: accountId,
      campaign_id: campaignId,
      campaign_name: info?.name,
      campaign_status: info?.status,
      ts: day === undefined ? dateRange.start : dayStart(day, LINKEDIN_REPORT_TIME_ZONE),
      impressions: wireMeasure(element.impressions),
      clicks: wireMeasure(element.clicks),
      conversions: wireMeasure(element.externalWebsiteConversions),
      cost: wireMeasure(element.costInLocalCurrency),
      revenue: wireMeasure(element.conversionValueInLocalCurrency),
      currency,
      source: "linkedin",
    };
  }

  /** One window's elements; a response that reaches the cap may be truncated, so halve it. */
  private async analytics(
    accountId: string,
    window: SyncWindow,
    signal?: AbortSignal,
  ): Promise<unknown[]> {
    const url = `${this.config.baseUrl}/adAnalytics?${analyticsQuery(accountId, window)}`;
    const body = await this.get(url, `analytics of account ${accountId}`, signal);
    const parsed = AnalyticsResponseSchema.safeParse(body);
    if (!parsed.success) {
      throw new SourceError("linkedin", `unexpected analytics response for account ${accountId}`);
    }
    const days = daysBetween(window.from, window.to) + 1;
    if (parsed.data.elements.length < this.config.elementCap || days <= 1) {
      if (parsed.data.elements.length >= this.config.elementCap) {
        this.logger.warn("analytics response reached the element cap for a single day", {
          account_id: accountId,
          day: window.from,
        });
      }
      return parsed.data.elements;
    }
    const middle = shiftDate(window.from, Math.floor(days / 2) - 1);
    return [
      ...await this.analytics(accountId, { from: window.from, to: middle }, signal),
      ...await this.analytics(accountId, { from: shiftDate(middle, 1), to: window.to }, signal),
    ];
  }

  /**
   * Names and statuses only decorate the rows: a permanent failure of the campaign
   * search is logged and the metrics are still returned. Auth and exhausted retries end
   * the run like any other request.
   */
  private async campaignsOrNone(
    accountId: string,
    signal?: AbortSignal,
  ): Promise<Map<string, CampaignInfo>> {
    try {
      return await this.campaigns(accountId, signal);
    } catch (error) {
      if (!(error instanceof SourceError) || error.kind !== "permanent") throw error;
      this.logger.warn("campaign names unavailable", {
        account_id: accountId,
        error: error.message,
      });
      return new Map();
    }
  }

  /** Every campaign of the account (id → name, status), following cursor or offset paging. */
  private async campaigns(
    accountId: string,
    signal?: AbortSignal,
  ): Promise<Map<string, CampaignInfo>> {
    const campaigns = new Map<string, CampaignInfo>();
    const base = `${this.config.baseUrl}/adAccounts/${accountId}/adCampaigns?q=search`;
    let url: string | undefined = base;
    for (let page = 1; url; page++) {
      if (page > 1000) throw new SourceError("linkedin", "campaign paging does not end");
      const body = await this.get(url, `campaigns of account ${accountId}`, signal);
      const parsed = CampaignPageSchema.safeParse(body);
      if (!parsed.success) {
        throw new SourceError("linkedin", `unexpected campaigns response for account ${accountId}`);
      }
      const { elements, metadata, paging } = parsed.data;
      for (const element of elements) {
        if (!isRecord(element)) continue;
        const id = campaignIdFromUrn(element.id);
        if (id) {
          campaigns.set(id, { name: wireText(element.name), status: wireText(element.status) });
        }
      }
      url = undefined;
      if (metadata?.nextPageToken) {
        url = `${base}&pageToken=${encodeURIComponent(metadata.nextPageToken)}`;
      } else if (paging?.total !== undefined && elements.length > 0) {
        const next = (paging.start ?? 0) + elements.length;
        if (next < paging.total) {
          url = `${base}&start=${next}&count=${paging.count ?? elements.length}`;
        }
      }
    }
    return campaigns;
  }

  private async adAccount(accountId: string, signal?: AbortSignal) {
    const body = await this.get(
      `${this.config.baseUrl}/adAccounts/${accountId}`,
      `ad account ${accountId}`,
      signal,
    );
    const parsed = AdAccountSchema.safeParse(body);
    if (!parsed.success) {
      throw new SourceError("linkedin", `unexpected ad account response for ${accountId}`);
    }
    return parsed.data;
  }

  private async get(url: string, label: string, signal?: AbortSignal): Promise<unknown> {
    try {
      const response = await this.http.request({
        url,
        headers: {
          authorization: `Bearer ${this.config.accessToken}`,
          "linkedin-version": this.config.version,
          "x-restli-protocol-version": "2.0.0",
        },
        label,
        signal,
      });
      return response.body;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      if (error.kind === "auth") {
        throw new SourceError(
          "linkedin",
          `${error.message}; check LINKEDIN_ACCESS_TOKEN (and that it may read LINKEDIN_AD_ACCOUNT_IDS)`,
          "auth",
        );
      }
      throw new SourceError("linkedin", error.message, error.kind);
    }
  }
}
