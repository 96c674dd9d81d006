/**
 * TikTok Business API (v1.3) connector: the integrated BASIC report at campaign level,
 * one row per campaign and day.
 *
 * Parameters are query strings whose list values are JSON-encoded. A daily report spans
 * at most 30 days per request and pages until `page == total_page`. Errors arrive inside
 * HTTP 200 with `code != 0` (40100 is throttling). Every metric is a string.
 *
 * Conversions: `complete_payment` (purchases) by default, because revenue is
 * `total_complete_payment_rate` (the purchase VALUE, despite its name) and a ROAS/CPA
 * only means something when both count the same event. `TIKTOK_CONVERSION_METRIC=conversion`
 * switches to the campaign's optimization-goal conversions instead.
 */
import { z } from "zod";
import { chunkWindow } from "../lib/dates.ts";
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
import { dayStart, resolveTimeZone, wireId, wireMeasure, wireText } from "./platform_rows.ts";
import { isRecord } from "../lib/schema.ts";

export const TIKTOK_DEFAULT_BASE_URL = "https://business-api.tiktok.com/open_api/v1.3";
export const TIKTOK_CONVERSION_METRICS = ["complete_payment", "conversion"] as const;

export function normalizeTikTokAdvertiserId(raw: string): string | undefined {
  const id = raw.trim();
  return /^\d+$/.test(id) ? id : undefined;
}

export const TikTokConfigSchema = z.object({
  TIKTOK_ACCESS_TOKEN: SecretSchema,
  TIKTOK_ADVERTISER_IDS: accountIdList(normalizeTikTokAdvertiserId, "7012345678901234567"),
  TIKTOK_API_BASE_URL: BaseUrlSchema.default(TIKTOK_DEFAULT_BASE_URL),
  TIKTOK_CONVERSION_METRIC: z.enum(TIKTOK_CONVERSION_METRICS).default("complete_payment"),
}).transform((env) => ({
  accessToken: env.TIKTOK_ACCESS_TOKEN,
  advertiserIds: env.TIKTOK_ADVERTISER_IDS,
  baseUrl: env.TIKTOK_API_BASE_URL,
  conversionMetric: env.TIKTOK_CONVERSION_METRIC,
  /** A daily report may span at most 30 days. */
  maxDaysPerRequest: 30,
  /** Rows per page (TikTok's maximum is 1000). */
  pageSize: 1000,
}));
/** The connector's settings, for the accounts of one tenant. */
export type TikTokConfig = z.output<typeof TikTokConfigSchema> & { tenantId: string };

/** The connector's variables; its accounts belong to `tenantId` (INGEST_TENANT). */
export function parseTikTokConfig(env: Env, tenantId = "default"): TikTokConfig {
  return { ...parseEnv(TikTokConfigSchema, env, "tiktok source"), tenantId };
}

export const REPORT_DIMENSIONS = ["campaign_id", "stat_time_day"] as const;
export const REPORT_METRICS = [
  "campaign_name",
  "spend",
  "impressions",
  "clicks",
  "conversion",
  "complete_payment",
  "total_complete_payment_rate",
  "currency",
] as const;

/** The report request's parameters; list values are JSON-encoded as TikTok expects. */
export function reportParams(
  advertiserId: string,
  window: SyncWindow,
  page: number,
  pageSize: number,
): URLSearchParams {
  return new URLSearchParams({
    advertiser_id: advertiserId,
    report_type: "BASIC",
    data_level: "AUCTION_CAMPAIGN",
    dimensions: JSON.stringify(REPORT_DIMENSIONS),
    metrics: JSON.stringify(REPORT_METRICS),
    start_date: window.from,
    end_date: window.to,
    page: String(page),
    page_size: String(Math.min(pageSize, 1000)),
  });
}

// ---------------------------------------------------------------------------
// Wire shapes

const NumberLike = z.union([z.number(), z.string().regex(/^-?\d+$/).transform(Number)]);

const EnvelopeSchema = z.object({
  code: NumberLike,
  message: z.string().optional(),
  request_id: z.string().optional(),
  data: z.unknown().optional(),
}).loose();

const ReportDataSchema = z.object({
  list: z.array(z.unknown()),
  page_info: z.object({
    page: NumberLike.optional(),
    total_page: NumberLike.optional(),
    total_number: NumberLike.optional(),
  }).loose().optional(),
}).loose();

const AdvertiserListSchema = z.object({
  list: z.array(
    z.object({
      advertiser_id: z.union([z.string(), z.number()]).optional(),
      name: z.string().optional(),
      currency: z.string().optional(),
      timezone: z.string().optional(),
      display_timezone: z.string().optional(),
    }).loose(),
  ),
}).loose();

// ---------------------------------------------------------------------------
// Errors

const THROTTLE_CODES = new Set([40100]);
/** Expired (40102), missing (40104), invalid or revoked (40105) access token. */
const AUTH_CODES = new Set([40102, 40104, 40105]);

/** TikTok answers HTTP 200 with `code != 0`: 40100 throttle, 40105 token, ≥ 50000 transient. */
export const classifyTikTok: Classifier = (response, context) => {
  const envelope = EnvelopeSchema.safeParse(response.body);
  if (!envelope.success) return undefined;
  const { code, message, request_id: requestId } = envelope.data;
  if (code === 0) {
    return response.status >= 200 && response.status < 300 ? { action: "ok" } : undefined;
  }
  const reason = `code ${code}: ${message ?? "no message"}${
    requestId ? ` (request ${requestId})` : ""
  }`;
  const waitMs = parseRetryAfter(response.headers.get("retry-after"), context.now);
  if (THROTTLE_CODES.has(code)) return { action: "retry", reason: `throttled (${reason})`, waitMs };
  if (AUTH_CODES.has(code)) return { action: "auth", reason };
  if (code >= 50000) return { action: "retry", reason, waitMs };
  return { action: "fail", reason };
};

// ---------------------------------------------------------------------------
// The source

export type TikTokDeps = HttpDeps;

export function createTikTokSource(config: TikTokConfig, deps: TikTokDeps = {}): Source {
  return new TikTokSource(config, deps);
}

class TikTokSource implements Source {
  readonly name = "tiktok" as const;
  readonly tenantId: string;
  private readonly http: HttpClient;
  private readonly logger;

  constructor(private readonly config: TikTokConfig, deps: TikTokDeps) {
    this.tenantId = config.tenantId;
    this.logger = (deps.logger ?? silentLogger).child({ source: "tiktok" });
    this.http = createHttpClient({
      platform: "tiktok",
      classify: classifyTikTok,
      secrets: () => [config.accessToken],
      deps,
    });
  }

  accounts(): string[] {
    return [...this.config.advertiserIds];
  }

  async fetch(account: string, window: SyncWindow, signal?: AbortSignal): Promise<SourceBatch> {
    const advertiserId = normalizeTikTokAdvertiserId(account);
    if (!advertiserId) throw new SourceError("tiktok", "advertiser id must be digits");
    const advertiser = await this.advertiserInfo(advertiserId, signal);
    // display_timezone is the IANA name; timezone may be a fixed offset form.
    const { zone, known } = resolveTimeZone(
      [advertiser?.display_timezone, advertiser?.timezone],
      this.logger,
      { advertiser_id: advertiserId },
    );
    const rows: unknown[] = [];
    for (const chunk of chunkWindow(window, this.config.maxDaysPerRequest)) {
      for await (const item of this.reportRows(advertiserId, chunk, signal)) {
        rows.push(this.toRow(item, advertiserId, advertiser?.currency, zone));
      }
    }
    return {
      account: {
        account_id: advertiserId,
        currency: advertiser?.currency ?? null,
        time_zone: known ? zone : null,
        name: advertiser?.name ?? null,
      },
      rows,
      campaigns: campaignsOf(rows, this.tenantId, advertiserId),
    };
  }

  private toRow(
    item: unknown,
    advertiserId: string,
    currency: string | undefined,
    zone: string,
  ): unknown {
    if (!isRecord(item)) return item;
    const dimensions = isRecord(item.dimensions) ? item.dimensions : {};
    const metrics = isRecord(item.metrics) ? item.metrics : {};
    // "2024-04-01 00:00:00" → "2024-04-01"
    const statDay = dimensions.stat_time_day;
    const day = typeof statDay === "string" ? /^(\d{4}-\d{2}-\d{2})/.exec(statDay)?.[1] : undefined;
    return {
      tenant_id: this.tenantId,
      platform: "tiktok",
      account_id: advertiserId,
      campaign_id: wireId(dimensions.campaign_id),
      campaign_name: wireText(metrics.campaign_name),
      ts: dayStart(day ?? statDay, zone),
      impressions: wireMeasure(metrics.impressions),
      clicks: wireMeasure(metrics.clicks),
      conversions: wireMeasure(metrics[this.config.conversionMetric]),
      cost: wireMeasure(metrics.spend),
      revenue: wireMeasure(metrics.total_complete_payment_rate),
      currency: wireText(metrics.currency) ?? currency,
      source: "tiktok",
    };
  }

  private async *reportRows(
    advertiserId: string,
    window: SyncWindow,
    signal?: AbortSignal,
  ): AsyncGenerator<unknown> {
    for (let page = 1;; page++) {
      if (page > 10_000) throw new SourceError("tiktok", "report paging does not end");
      const params = reportParams(advertiserId, window, page, this.config.pageSize);
      const data = await this.get(
        `${this.config.baseUrl}/report/integrated/get/?${params}`,
        `report of advertiser ${advertiserId} page ${page}`,
        signal,
      );
      const parsed = ReportDataSchema.safeParse(data);
      if (!parsed.success) {
        throw new SourceError(
          "tiktok",
          `unexpected report response for advertiser ${advertiserId}`,
        );
      }
      yield* parsed.data.list;
      const { list, page_info: pageInfo } = parsed.data;
      const current = pageInfo?.page ?? page;
      // Without total_page, a full page suggests there is another one.
      const totalPage = pageInfo?.total_page ??
        (list.length >= Math.min(this.config.pageSize, 1000) ? current + 1 : current);
      if (list.length === 0 || current >= totalPage) return;
    }
  }

  private async advertiserInfo(advertiserId: string, signal?: AbortSignal) {
    const params = new URLSearchParams({ advertiser_ids: JSON.stringify([advertiserId]) });
    const data = await this.get(
      `${this.config.baseUrl}/advertiser/info/?${params}`,
      `advertiser ${advertiserId}`,
      signal,
    );
    const parsed = AdvertiserListSchema.safeParse(data);
    if (!parsed.success) {
      throw new SourceError("tiktok", `unexpected advertiser response for ${advertiserId}`);
    }
    return parsed.data.list.find((item) => String(item.advertiser_id) === advertiserId) ??
      parsed.data.list[0];
  }

  /** The `data` of a successful envelope. */
  private async get(url: string, label: string, signal?: AbortSignal): Promise<unknown> {
    let body: unknown;
    try {
      const response = await this.http.request({
        url,
        headers: { "access-token": this.config.accessToken },
        label,
        signal,
      });
      body = response.body;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      if (error.kind === "auth") {
        throw new SourceError("tiktok", `${error.message}; check TIKTOK_ACCESS_TOKEN`, "auth");
      }
      const hint = /code 4000[12]\b/.test(error.message)
        ? "; check TIKTOK_ADVERTISER_IDS and the token's permissions"
        : "";
      throw new SourceError("tiktok", `${error.message}${hint}`, error.kind);
    }
    const envelope = EnvelopeSchema.safeParse(body);
    if (!envelope.success) throw new SourceError("tiktok", `unexpected response to ${label}`);
    return envelope.data.data;
  }
}

function campaignsOf(rows: unknown[], tenantId: string, accountId: string): CampaignMetadata[] {
  const campaigns = new Map<string, CampaignMetadata>();
  for (const row of rows) {
    if (!isRecord(row) || typeof row.campaign_id !== "string") continue;
    campaigns.set(row.campaign_id, {
      tenant_id: tenantId,
      platform: "tiktok",
      account_id: accountId,
      campaign_id: row.campaign_id,
      name: wireText(row.campaign_name) ?? null,
    });
  }
  return [...campaigns.values()];
}
