/**
 * Meta Marketing API (Graph API) connector: campaign-level daily insights.
 *
 * GET /act_{id}/insights?level=campaign&time_increment=1&time_range={...}&fields=...,
 * following `paging.next` until it is absent, one request series per ≤ 30-day chunk
 * (big ranges time out). Every number on the wire is a string and stays one.
 * Conversions and revenue come from `actions` / `action_values` of ONE purchase action
 * type (see selectPurchases): Meta reports one purchase under several overlapping types.
 */
import { z } from "zod";
import { chunkWindow } from "../lib/dates.ts";
import { silentLogger } from "../lib/log.ts";
import type { CampaignMetadata } from "../lib/store/metrics_store.ts";
import { type Source, type SourceBatch, SourceError, type SyncWindow } from "./source.ts";
import {
  type Classifier,
  type ClassifyContext,
  createHttpClient,
  findValues,
  type HttpClient,
  type HttpDeps,
  HttpError,
  type HttpResponseData,
  parseRetryAfter,
  type Verdict,
} from "./http.ts";
import { type Env, parseEnv } from "../lib/config.ts";
import { accountIdList, BaseUrlSchema, SecretSchema } from "./connector_env.ts";
import { dayStart, resolveTimeZone, wireId, wireMeasure, wireText } from "./platform_rows.ts";
import { isRecord } from "../lib/schema.ts";

export const META_DEFAULT_BASE_URL = "https://graph.facebook.com/v21.0";

/**
 * Default purchase action types, most preferred first. The first type present in a row
 * wins and the others are ignored: `purchase`, `omni_purchase` and the pixel/onsite types
 * are the same purchases counted by different channels, never to be added together.
 */
export const META_DEFAULT_ACTION_TYPES = [
  "purchase",
  "omni_purchase",
  "offsite_conversion.fb_pixel_purchase",
  "onsite_web_purchase",
] as const;

/** `act_123`, `123` → `123`; undefined for anything else. */
export function normalizeMetaAccountId(raw: string): string | undefined {
  const id = raw.trim().replace(/^act_/i, "");
  return /^\d+$/.test(id) ? id : undefined;
}

export const MetaConfigSchema = z.object({
  META_ACCESS_TOKEN: SecretSchema,
  META_AD_ACCOUNT_IDS: accountIdList(normalizeMetaAccountId, "act_123 or 123"),
  META_API_BASE_URL: BaseUrlSchema.default(META_DEFAULT_BASE_URL),
  META_ACTION_TYPES: z.string().transform((text) =>
    text.split(",").map((type) => type.trim()).filter(Boolean)
  ).pipe(z.array(z.string()).min(1, "at least one action type"))
    .default([...META_DEFAULT_ACTION_TYPES]),
}).transform((env) => ({
  accessToken: env.META_ACCESS_TOKEN,
  accountIds: env.META_AD_ACCOUNT_IDS,
  baseUrl: env.META_API_BASE_URL,
  actionTypes: env.META_ACTION_TYPES,
  /** Days per insights request; longer windows are split. */
  maxDaysPerRequest: 30,
  /** Rows per page (`limit`). */
  pageSize: 500,
}));
/** The connector's settings, for the accounts of one tenant. */
export type MetaConfig = z.output<typeof MetaConfigSchema> & { tenantId: string };

export const INSIGHTS_FIELDS = [
  "campaign_id",
  "campaign_name",
  "account_id",
  "account_currency",
  "impressions",
  "clicks",
  "spend",
  "actions",
  "action_values",
] as const;

/** The connector's variables; its accounts belong to `tenantId` (INGEST_TENANT). */
export function parseMetaConfig(env: Env, tenantId = "default"): MetaConfig {
  return { ...parseEnv(MetaConfigSchema, env, "meta source"), tenantId };
}

// ---------------------------------------------------------------------------
// Wire shapes (tolerant of extra fields)

const NumberLike = z.union([z.number(), z.string().regex(/^-?\d+$/).transform(Number)]);

const MetaErrorBodySchema = z.object({
  error: z.object({
    message: z.string().optional(),
    type: z.string().optional(),
    code: NumberLike.optional(),
    error_subcode: NumberLike.optional(),
    is_transient: z.boolean().optional(),
  }).loose(),
}).loose();

const InsightsPageSchema = z.object({
  data: z.array(z.unknown()),
  paging: z.object({ next: z.string().optional() }).loose().optional(),
}).loose();

const AccountInfoWireSchema = z.object({
  currency: z.string().optional(),
  timezone_name: z.string().optional(),
  name: z.string().optional(),
}).loose();

const ActionListSchema = z.array(
  z.object({ action_type: z.string(), value: z.unknown() }).loose(),
);

// ---------------------------------------------------------------------------
// Purchases

export interface PurchaseMetrics {
  /** The action type the numbers come from; undefined when the row has none. */
  actionType?: string;
  conversions: unknown;
  revenue: unknown;
}

/**
 * Conversions and revenue of one row: the first preferred action type present in
 * `actions` or `action_values` supplies both numbers; other types are ignored, so a
 * purchase reported as purchase + omni_purchase + fb_pixel_purchase counts once.
 * A malformed list is passed on as the value, for validation to reject the row.
 */
export function selectPurchases(
  actions: unknown,
  actionValues: unknown,
  preference: readonly string[],
): PurchaseMetrics {
  const counts = actions === undefined || actions === null
    ? { success: true as const, data: [] }
    : ActionListSchema.safeParse(actions);
  const values = actionValues === undefined || actionValues === null
    ? { success: true as const, data: [] }
    : ActionListSchema.safeParse(actionValues);
  if (!counts.success || !values.success) {
    return {
      conversions: counts.success ? "0" : actions,
      revenue: values.success ? "0" : actionValues,
    };
  }
  const actionType = preference.find((type) =>
    counts.data.some((action) => action.action_type === type) ||
    values.data.some((action) => action.action_type === type)
  );
  if (actionType === undefined) return { conversions: "0", revenue: "0" };
  const valueOf = (list: { action_type: string; value: unknown }[]) =>
    wireMeasure(list.find((action) => action.action_type === actionType)?.value);
  return { actionType, conversions: valueOf(counts.data), revenue: valueOf(values.data) };
}

// ---------------------------------------------------------------------------
// Errors and throttling

const THROTTLE_CODES = new Set([4, 17, 32, 613]);
const isThrottleCode = (code: number) =>
  THROTTLE_CODES.has(code) || (code >= 80000 && code <= 80014);
/** Invalid, expired or revoked token / session. */
const TOKEN_CODES = new Set([190, 102, 463, 467]);
/** Permission errors: the token cannot read this account. */
const isPermissionCode = (code: number) => code === 10 || (code >= 200 && code <= 299);

/**
 * How long Meta asks us to stay away, from the usage headers: the largest
 * `estimated_time_to_regain_access` (minutes) or `reset_time_duration` (seconds) in
 * `x-business-use-case-usage`, `x-ad-account-usage` or `x-app-usage`; undefined if none.
 */
export function metaRegainAccessMs(headers: Headers): number | undefined {
  let longest = 0;
  for (const name of ["x-business-use-case-usage", "x-ad-account-usage", "x-app-usage"]) {
    const text = headers.get(name);
    if (!text) continue;
    let usage: unknown;
    try {
      usage = JSON.parse(text);
    } catch {
      continue;
    }
    for (const minutes of findValues(usage, "estimated_time_to_regain_access")) {
      const value = Number(minutes);
      if (Number.isFinite(value)) longest = Math.max(longest, value * 60_000);
    }
    for (const seconds of findValues(usage, "reset_time_duration")) {
      const value = Number(seconds);
      if (Number.isFinite(value)) longest = Math.max(longest, value * 1000);
    }
  }
  return longest > 0 ? longest : undefined;
}

/** Throttling is an HTTP 400 with codes 4/17/32/613/80000–80014; 190 is a dead token. */
export const classifyMeta: Classifier = (
  response: HttpResponseData,
  context: ClassifyContext,
): Verdict | undefined => {
  const parsed = MetaErrorBodySchema.safeParse(response.body);
  if (!parsed.success) return undefined;
  const { code, error_subcode: subcode, message, is_transient: transient } = parsed.data.error;
  const reason = `HTTP ${response.status}, code ${code ?? "?"}${
    subcode !== undefined ? `/${subcode}` : ""
  }: ${message ?? "no message"}`;
  if (code !== undefined && isThrottleCode(code)) {
    const waitMs = metaRegainAccessMs(response.headers) ??
      parseRetryAfter(response.headers.get("retry-after"), context.now);
    return { action: "retry", reason: `throttled (${reason})`, waitMs };
  }
  if (code !== undefined && (TOKEN_CODES.has(code) || isPermissionCode(code))) {
    return { action: "auth", reason };
  }
  if (response.status === 401 || response.status === 403) return { action: "auth", reason };
  // Codes 1 and 2 are Meta's "unknown / service temporarily unavailable".
  if (transient || code === 1 || code === 2 || response.status >= 500) {
    return { action: "retry", reason };
  }
  return { action: "fail", reason };
};

// ---------------------------------------------------------------------------
// The source

export type MetaDeps = HttpDeps;

export function createMetaSource(config: MetaConfig, deps: MetaDeps = {}): Source {
  return new MetaSource(config, deps);
}

class MetaSource implements Source {
  readonly name = "meta" as const;
  readonly tenantId: string;
  private readonly http: HttpClient;
  private readonly logger;

  constructor(private readonly config: MetaConfig, deps: MetaDeps) {
    this.tenantId = config.tenantId;
    this.logger = (deps.logger ?? silentLogger).child({ source: "meta" });
    this.http = createHttpClient({
      platform: "meta",
      classify: classifyMeta,
      secrets: () => [config.accessToken],
      deps,
    });
  }

  accounts(): string[] {
    return [...this.config.accountIds];
  }

  async fetch(account: string, window: SyncWindow, signal?: AbortSignal): Promise<SourceBatch> {
    const accountId = normalizeMetaAccountId(account);
    if (!accountId) throw new SourceError("meta", "account id must look like act_123 or 123");
    const info = await this.accountInfo(accountId, signal);
    const { zone, known } = resolveTimeZone([info.timezone_name], this.logger, {
      account_id: accountId,
    });
    const rows: unknown[] = [];
    const campaigns = new Map<string, CampaignMetadata>();
    for (const chunk of chunkWindow(window, this.config.maxDaysPerRequest)) {
      for await (const raw of this.insightRows(accountId, chunk, signal)) {
        const row = this.toRow(raw, accountId, info.currency, zone);
        rows.push(row);
        if (isRecord(row) && typeof row.campaign_id === "string") {
          campaigns.set(row.campaign_id, {
            tenant_id: this.tenantId,
            platform: "meta",
            account_id: accountId,
            campaign_id: row.campaign_id,
            name: wireText(row.campaign_name) ?? null,
          });
        }
      }
    }
    return {
      account: {
        account_id: accountId,
        currency: info.currency ?? null,
        time_zone: known ? zone : null,
        name: info.name ?? null,
      },
      rows,
      campaigns: [...campaigns.values()],
    };
  }

  /** A unified row; a non-object wire row is passed on as it came (and gets rejected). */
  private toRow(
    raw: unknown,
    accountId: string,
    currency: string | undefined,
    zone: string,
  ): unknown {
    if (!isRecord(raw)) return raw;
    const purchases = selectPurchases(raw.actions, raw.action_values, this.config.actionTypes);
    return {
      tenant_id: this.tenantId,
      platform: "meta",
      account_id: accountId,
      campaign_id: wireId(raw.campaign_id),
      campaign_name: wireText(raw.campaign_name),
      ts: dayStart(raw.date_start, zone),
      impressions: wireMeasure(raw.impressions),
      clicks: wireMeasure(raw.clicks),
      conversions: purchases.conversions,
      cost: wireMeasure(raw.spend),
      revenue: purchases.revenue,
      currency: wireText(raw.account_currency) ?? currency,
      source: "meta",
    };
  }

  private async *insightRows(
    accountId: string,
    window: SyncWindow,
    signal?: AbortSignal,
  ): AsyncGenerator<unknown> {
    const first = this.endpoint(`act_${accountId}/insights`);
    first.search = new URLSearchParams({
      level: "campaign",
      time_increment: "1",
      time_range: JSON.stringify({ since: window.from, until: window.to }),
      // The documented field list; date_start/date_stop come with every row anyway.
      fields: INSIGHTS_FIELDS.join(","),
      limit: String(this.config.pageSize),
    }).toString();
    let url: URL | undefined = first;
    for (let page = 1; url; page++) {
      if (page > 10_000) throw new SourceError("meta", "insights paging does not end");
      const body = await this.get(url, `insights of act_${accountId} page ${page}`, signal);
      const parsed = InsightsPageSchema.safeParse(body);
      if (!parsed.success) {
        throw new SourceError("meta", `unexpected insights response for act_${accountId}`);
      }
      yield* parsed.data.data;
      const next = parsed.data.paging?.next;
      url = next ? this.nextPageUrl(next, first) : undefined;
    }
  }

  /**
   * `paging.next` is followed as given when it points at our configured host; when it
   * names another host (an emulator echoing the real one), its cursor query is replayed
   * against our endpoint instead, so a base URL override is never escaped.
   */
  private nextPageUrl(next: string, first: URL): URL {
    let url: URL;
    try {
      url = new URL(next, first);
    } catch {
      throw new SourceError("meta", "paging.next is not a URL");
    }
    if (url.origin !== first.origin) {
      const rebased = new URL(first);
      rebased.search = url.search;
      url = rebased;
    }
    return url;
  }

  private async accountInfo(accountId: string, signal?: AbortSignal) {
    const url = this.endpoint(`act_${accountId}`);
    url.searchParams.set("fields", "currency,timezone_name,name");
    const body = await this.get(url, `account act_${accountId}`, signal);
    const parsed = AccountInfoWireSchema.safeParse(body);
    if (!parsed.success) {
      throw new SourceError("meta", `unexpected account response for act_${accountId}`);
    }
    return parsed.data;
  }

  private endpoint(path: string): URL {
    return new URL(`${this.config.baseUrl}/${path}`);
  }

  /** The token travels in the Authorization header and, as Graph also accepts, the query. */
  private async get(url: URL, label: string, signal?: AbortSignal): Promise<unknown> {
    if (!url.searchParams.has("access_token")) {
      url.searchParams.set("access_token", this.config.accessToken);
    }
    try {
      const response = await this.http.request({
        url,
        headers: { authorization: `Bearer ${this.config.accessToken}` },
        label,
        signal,
      });
      return response.body;
    } catch (error) {
      throw toSourceError(error);
    }
  }
}

function toSourceError(error: unknown): unknown {
  if (!(error instanceof HttpError)) return error;
  if (error.kind === "auth") {
    return new SourceError(
      "meta",
      `${error.message}; check META_ACCESS_TOKEN (and that it may read META_AD_ACCOUNT_IDS)`,
      "auth",
    );
  }
  return new SourceError("meta", error.message, error.kind);
}
