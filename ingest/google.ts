/**
 * Google Ads API (REST) connector: campaign metrics per day through searchStream.
 *
 * Auth is an OAuth2 refresh-token exchange whose access token is cached (shared by all
 * customers of the source) until a minute before it expires. Each customer's currency
 * and time zone come from a `FROM customer` query; the metrics from one GAQL query per
 * window. int64 values arrive as strings, `conversions`/`conversionsValue` as doubles:
 * money never passes through float arithmetic (costMicros is scaled with BigInt, doubles
 * are taken by their shortest JSON text).
 */
import { z } from "zod";
import { silentLogger } from "../lib/log.ts";
import { normalizeDecimal, unitsToDecimal } from "../lib/decimal.ts";
import type { CampaignMetadata } from "../lib/store/metrics_store.ts";
import { type Source, type SourceBatch, SourceError, type SyncWindow } from "./source.ts";
import {
  type Classifier,
  createHttpClient,
  defaultClassify,
  findValues,
  type HttpClient,
  type HttpDeps,
  HttpError,
  parseDurationMs,
  parseRetryAfter,
} from "./http.ts";
import { type Env, parseEnv } from "../lib/config.ts";
import { accountIdList, BaseUrlSchema, SecretSchema } from "./connector_env.ts";
import { dayStart, resolveTimeZone, wireId, wireMeasure, wireText } from "./platform_rows.ts";
import { isRecord } from "../lib/schema.ts";

export const GOOGLE_DEFAULT_BASE_URL = "https://googleads.googleapis.com/v17";
export const GOOGLE_DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token";

/** "123-456-7890" → "1234567890"; undefined when not digits. */
export function normalizeGoogleCustomerId(raw: string): string | undefined {
  const id = raw.trim().replace(/[-\s]/g, "");
  return /^\d+$/.test(id) ? id : undefined;
}

export const GoogleConfigSchema = z.object({
  GOOGLE_ADS_DEVELOPER_TOKEN: SecretSchema,
  GOOGLE_ADS_CLIENT_ID: SecretSchema,
  GOOGLE_ADS_CLIENT_SECRET: SecretSchema,
  GOOGLE_ADS_REFRESH_TOKEN: SecretSchema,
  GOOGLE_ADS_CUSTOMER_IDS: accountIdList(normalizeGoogleCustomerId, "123-456-7890"),
  GOOGLE_ADS_LOGIN_CUSTOMER_ID: z.string().transform((text, ctx) => {
    const id = normalizeGoogleCustomerId(text);
    if (id) return id;
    ctx.addIssue({ code: "custom", message: "must look like 123-456-7890" });
    return z.NEVER;
  }).optional(),
  GOOGLE_ADS_API_BASE_URL: BaseUrlSchema.default(GOOGLE_DEFAULT_BASE_URL),
  GOOGLE_OAUTH_TOKEN_URL: BaseUrlSchema.default(GOOGLE_DEFAULT_TOKEN_URL),
}).transform((env) => ({
  developerToken: env.GOOGLE_ADS_DEVELOPER_TOKEN,
  clientId: env.GOOGLE_ADS_CLIENT_ID,
  clientSecret: env.GOOGLE_ADS_CLIENT_SECRET,
  refreshToken: env.GOOGLE_ADS_REFRESH_TOKEN,
  customerIds: env.GOOGLE_ADS_CUSTOMER_IDS,
  loginCustomerId: env.GOOGLE_ADS_LOGIN_CUSTOMER_ID,
  baseUrl: env.GOOGLE_ADS_API_BASE_URL,
  tokenUrl: env.GOOGLE_OAUTH_TOKEN_URL,
}));
/** The connector's settings, for the accounts of one tenant. */
export type GoogleConfig = z.output<typeof GoogleConfigSchema> & { tenantId: string };

/** The connector's variables; its accounts belong to `tenantId` (INGEST_TENANT). */
export function parseGoogleConfig(env: Env, tenantId = "default"): GoogleConfig {
  return { ...parseEnv(GoogleConfigSchema, env, "google source"), tenantId };
}

// ---------------------------------------------------------------------------
// GAQL and conversions

export const CUSTOMER_QUERY = "SELECT customer.currency_code, customer.time_zone FROM customer";

export function campaignMetricsQuery(window: SyncWindow): string {
  return [
    "SELECT campaign.id, campaign.name, campaign.status, segments.date,",
    "metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions,",
    "metrics.conversions_value FROM campaign",
    `WHERE segments.date BETWEEN '${window.from}' AND '${window.to}'`,
  ].join(" ");
}

/**
 * costMicros (an int64, usually a JSON string) as an exact decimal: integer units of
 * 10^-6, scaled by string/BigInt arithmetic. "12345678" → "12.345678". Absent means 0;
 * a value that is not an integer is passed on for validation to reject.
 */
export function microsToDecimal(micros: unknown): unknown {
  if (micros === undefined || micros === null) return "0";
  const text = typeof micros === "number" && Number.isSafeInteger(micros)
    ? String(micros)
    : typeof micros === "string"
    ? micros.trim()
    : undefined;
  if (text === undefined || !/^-?\d+$/.test(text)) return micros;
  return normalizeDecimal(unitsToDecimal(BigInt(text), 6));
}

// ---------------------------------------------------------------------------
// Wire shapes

const NumberLike = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: NumberLike.optional(),
  token_type: z.string().optional(),
}).loose();

const OAuthErrorSchema = z.object({
  error: z.string(),
  error_description: z.string().optional(),
}).loose();

const GoogleErrorSchema = z.object({
  error: z.object({
    code: NumberLike.optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    details: z.unknown().optional(),
  }).loose(),
}).loose();
type GoogleError = z.infer<typeof GoogleErrorSchema>["error"];

const BatchSchema = z.object({ results: z.array(z.unknown()).optional() }).loose();
const StreamSchema = z.union([z.array(BatchSchema), BatchSchema.transform((batch) => [batch])]);

const CustomerResultSchema = z.object({
  customer: z.object({
    currencyCode: z.string().optional(),
    timeZone: z.string().optional(),
    descriptiveName: z.string().optional(),
  }).loose(),
}).loose();

// ---------------------------------------------------------------------------
// Errors

/** The error of a response: an `{error}` object, or the first `{error}` of a stream array. */
function googleErrorOf(body: unknown): GoogleError | undefined {
  const candidates = Array.isArray(body) ? body : [body];
  for (const candidate of candidates) {
    const parsed = GoogleErrorSchema.safeParse(candidate);
    if (parsed.success) return parsed.data.error;
  }
  return undefined;
}

/** GoogleAdsFailure error codes, e.g. "quotaError.RESOURCE_EXHAUSTED". */
function failureCodes(details: unknown): string[] {
  return findValues(details, "errorCode").flatMap((code) =>
    isRecord(code) ? Object.entries(code).map(([kind, value]) => `${kind}.${value}`) : []
  );
}

/** The longest `retryDelay` ("1.5s") anywhere in the error details. */
export function googleRetryDelayMs(details: unknown): number | undefined {
  const delays = findValues(details, "retryDelay")
    .map(parseDurationMs)
    .filter((ms): ms is number => ms !== undefined);
  return delays.length ? Math.max(...delays) : undefined;
}

const RETRYABLE_STATUSES = new Set([
  "RESOURCE_EXHAUSTED",
  "UNAVAILABLE",
  "INTERNAL",
  "DEADLINE_EXCEEDED",
  "ABORTED",
]);

/** RESOURCE_EXHAUSTED (429) waits `retryDelay`; 401/403 are credentials; errors can sit in a 200 stream. */
export const classifyGoogle: Classifier = (response, context) => {
  const error = googleErrorOf(response.body);
  if (!error) return undefined;
  const codes = failureCodes(error.details);
  const reason = `HTTP ${response.status} ${error.status ?? ""}: ${error.message ?? "no message"}${
    codes.length ? ` [${codes.join(", ")}]` : ""
  }`;
  if (
    response.status === 429 || (error.status && RETRYABLE_STATUSES.has(error.status)) ||
    response.status >= 500
  ) {
    const waitMs = googleRetryDelayMs(error.details) ??
      parseRetryAfter(response.headers.get("retry-after"), context.now);
    return { action: "retry", reason, waitMs };
  }
  if (
    response.status === 401 || response.status === 403 || error.status === "UNAUTHENTICATED" ||
    error.status === "PERMISSION_DENIED"
  ) {
    return { action: "auth", reason };
  }
  return { action: "fail", reason };
};

/** The token endpoint: invalid_grant / invalid_client are credential problems. */
const classifyOAuth: Classifier = (response, context) => {
  const parsed = OAuthErrorSchema.safeParse(response.body);
  if (response.status >= 200 && response.status < 300) return { action: "ok" };
  if (!parsed.success) return defaultClassify(response, context);
  const reason = `HTTP ${response.status} ${parsed.data.error}${
    parsed.data.error_description ? `: ${parsed.data.error_description}` : ""
  }`;
  if (
    ["invalid_grant", "invalid_client", "unauthorized_client", "access_denied"].includes(
      parsed.data.error,
    ) || response.status === 401 || response.status === 403
  ) {
    return { action: "auth", reason };
  }
  if (response.status === 429 || response.status >= 500) {
    return {
      action: "retry",
      reason,
      waitMs: parseRetryAfter(response.headers.get("retry-after"), context.now),
    };
  }
  return { action: "fail", reason };
};

const OAUTH_VARIABLES =
  "GOOGLE_ADS_REFRESH_TOKEN, GOOGLE_ADS_CLIENT_ID and GOOGLE_ADS_CLIENT_SECRET";

/** Which variables to name for an auth failure of the Ads API. */
function authHint(error: HttpError): string {
  const reason = error.reason ?? "";
  if (/DEVELOPER_TOKEN/i.test(reason)) return "check GOOGLE_ADS_DEVELOPER_TOKEN";
  if (error.status === 401 || /UNAUTHENTICATED/.test(reason)) {
    return `check ${OAUTH_VARIABLES}, and GOOGLE_ADS_DEVELOPER_TOKEN`;
  }
  return "check GOOGLE_ADS_DEVELOPER_TOKEN, GOOGLE_ADS_LOGIN_CUSTOMER_ID and that " +
    "GOOGLE_ADS_CUSTOMER_IDS are reachable with these credentials";
}

// ---------------------------------------------------------------------------
// Access tokens

/** One access token for the whole source, refreshed a minute before it expires. */
class AccessTokenCache {
  private cached?: { value: string; refreshAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly http: HttpClient,
    private readonly config: GoogleConfig,
    private readonly now: () => number,
  ) {}

  /** The cached token (for scrubbing); undefined before the first exchange. */
  current(): string | undefined {
    return this.cached?.value;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  get(signal?: AbortSignal): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) {
      return Promise.resolve(this.cached.value);
    }
    // Concurrent callers share one exchange.
    this.pending ??= this.exchange(signal).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async exchange(signal?: AbortSignal): Promise<string> {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      client_id: this.config.clientId,
      client_secret: this.config.clientSecret,
      refresh_token: this.config.refreshToken,
    });
    let body: unknown;
    try {
      const response = await this.http.request({
        url: this.config.tokenUrl,
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
        label: "OAuth token exchange",
        classify: classifyOAuth,
        signal,
      });
      body = response.body;
    } catch (error) {
      if (error instanceof HttpError && error.kind === "auth") {
        throw new SourceError("google", `${error.message}; check ${OAUTH_VARIABLES}`, "auth");
      }
      throw error instanceof HttpError
        ? new SourceError("google", error.message, error.kind)
        : error;
    }
    const parsed = TokenResponseSchema.safeParse(body);
    if (!parsed.success) {
      throw new SourceError("google", "OAuth token exchange gave no access_token");
    }
    const lifetimeSeconds = parsed.data.expires_in ?? 3600;
    const margin = Math.min(60, lifetimeSeconds / 2);
    this.cached = {
      value: parsed.data.access_token,
      refreshAt: this.now() + (lifetimeSeconds - margin) * 1000,
    };
    return parsed.data.access_token;
  }
}

// ---------------------------------------------------------------------------
// The source

export type GoogleDeps = HttpDeps;

export function createGoogleSource(config: GoogleConfig, deps: GoogleDeps = {}): Source {
  return new GoogleSource(config, deps);
}

class GoogleSource implements Source {
  readonly name = "google" as const;
  readonly tenantId: string;
  private readonly http: HttpClient;
  private readonly tokens: AccessTokenCache;
  private readonly logger;

  constructor(private readonly config: GoogleConfig, deps: GoogleDeps) {
    this.tenantId = config.tenantId;
    this.logger = (deps.logger ?? silentLogger).child({ source: "google" });
    this.http = createHttpClient({
      platform: "google",
      classify: classifyGoogle,
      secrets: () => [
        config.developerToken,
        config.clientSecret,
        config.refreshToken,
        this.tokens?.current(),
      ],
      deps,
    });
    this.tokens = new AccessTokenCache(this.http, config, deps.now ?? Date.now);
  }

  accounts(): string[] {
    return [...this.config.customerIds];
  }

  async fetch(account: string, window: SyncWindow, signal?: AbortSignal): Promise<SourceBatch> {
    const customerId = normalizeGoogleCustomerId(account);
    if (!customerId) throw new SourceError("google", "customer id must look like 123-456-7890");
    const customer = await this.customerInfo(customerId, signal);
    const { zone, known } = resolveTimeZone([customer.timeZone], this.logger, {
      customer_id: customerId,
    });
    const results = await this.search(
      customerId,
      campaignMetricsQuery(window),
      `campaign metrics of customer ${customerId}`,
      signal,
    );
    const rows = results.map((result) =>
      this.toRow(result, customerId, customer.currencyCode, zone)
    );
    return {
      account: {
        account_id: customerId,
        currency: customer.currencyCode ?? null,
        time_zone: known ? zone : null,
        name: customer.descriptiveName ?? null,
      },
      rows,
      campaigns: campaignsOf(rows, this.tenantId, customerId),
    };
  }

  private toRow(
    result: unknown,
    customerId: string,
    currency: string | undefined,
    zone: string,
  ): unknown {
    if (!isRecord(result)) return result;
    const campaign = isRecord(result.campaign) ? result.campaign : {};
    const metrics = isRecord(result.metrics) ? result.metrics : {};
    const segments = isRecord(result.segments) ? result.segments : {};
    return {
      tenant_id: this.tenantId,
      platform: "google",
      account_id: customerId,
      campaign_id: wireId(campaign.id),
      campaign_name: wireText(campaign.name),
      campaign_status: wireText(campaign.status),
      ts: dayStart(segments.date, zone),
      impressions: wireMeasure(metrics.impressions),
      clicks: wireMeasure(metrics.clicks),
      conversions: wireMeasure(metrics.conversions),
      cost: microsToDecimal(metrics.costMicros),
      revenue: wireMeasure(metrics.conversionsValue),
      currency,
      source: "google",
    };
  }

  private async customerInfo(customerId: string, signal?: AbortSignal) {
    const results = await this.search(
      customerId,
      CUSTOMER_QUERY,
      `customer ${customerId}`,
      signal,
    );
    const parsed = CustomerResultSchema.safeParse(results[0]);
    if (!parsed.success) {
      throw new SourceError("google", `customer ${customerId} query returned no customer`);
    }
    return parsed.data.customer;
  }

  /** Runs one GAQL query; results of every streamed batch, in order. */
  private async search(
    customerId: string,
    query: string,
    label: string,
    signal?: AbortSignal,
  ): Promise<unknown[]> {
    const url = `${this.config.baseUrl}/customers/${customerId}/googleAds:searchStream`;
    for (let renewed = false;; renewed = true) {
      const accessToken = await this.tokens.get(signal);
      const headers: Record<string, string> = {
        authorization: `Bearer ${accessToken}`,
        "developer-token": this.config.developerToken,
        "content-type": "application/json",
      };
      if (this.config.loginCustomerId) headers["login-customer-id"] = this.config.loginCustomerId;
      try {
        const response = await this.http.request({
          url,
          method: "POST",
          headers,
          body: JSON.stringify({ query }),
          label,
          signal,
        });
        const stream = StreamSchema.safeParse(response.body);
        if (!stream.success) throw new SourceError("google", `unexpected response to ${label}`);
        return stream.data.flatMap((batch) => batch.results ?? []);
      } catch (error) {
        // An access token can be revoked before it expires: exchange once more, then give up.
        if (
          error instanceof HttpError && error.kind === "auth" && error.status === 401 && !renewed
        ) {
          this.tokens.invalidate();
          continue;
        }
        if (error instanceof HttpError) {
          throw new SourceError(
            "google",
            error.kind === "auth" ? `${error.message}; ${authHint(error)}` : error.message,
            error.kind,
          );
        }
        throw error;
      }
    }
  }
}

function campaignsOf(rows: unknown[], tenantId: string, accountId: string): CampaignMetadata[] {
  const campaigns = new Map<string, CampaignMetadata>();
  for (const row of rows) {
    if (!isRecord(row) || typeof row.campaign_id !== "string") continue;
    campaigns.set(row.campaign_id, {
      tenant_id: tenantId,
      platform: "google",
      account_id: accountId,
      campaign_id: row.campaign_id,
      name: wireText(row.campaign_name) ?? null,
      status: wireText(row.campaign_status) ?? null,
    });
  }
  return [...campaigns.values()];
}
