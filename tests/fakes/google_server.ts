/**
 * A fake Google Ads REST API plus its OAuth token endpoint, as the platform documents it:
 * - `POST /token` (form: grant_type=refresh_token, client_id, client_secret,
 *   refresh_token) → `{access_token, expires_in, token_type}`; bad credentials →
 *   HTTP 400 `{error: "invalid_grant"}`;
 * - `POST /v17/customers/{id}/googleAds:searchStream` with `{query}` (GAQL), headers
 *   `Authorization: Bearer`, `developer-token` and (when required) `login-customer-id`;
 *   answers a JSON ARRAY of batches `{results, fieldMask, requestId}`, lowerCamelCase
 *   fields, int64 as strings, conversions/conversionsValue as doubles, zero values
 *   omitted (proto3 JSON);
 * - throttling: HTTP 429 RESOURCE_EXHAUSTED whose GoogleAdsFailure carries
 *   `quotaErrorDetails.retryDelay`; server error: HTTP 503 UNAVAILABLE;
 * - unknown access token: 401 UNAUTHENTICATED; wrong developer token: 401 with
 *   `authenticationError: DEVELOPER_TOKEN_INVALID`.
 * Requests it cannot accept (no developer-token, no BETWEEN dates) are answered 400
 * INVALID_ARGUMENT and recorded as violations.
 */
import { decimalToUnits } from "../../lib/decimal.ts";
import {
  daysIn,
  type FakeDataset,
  type FakePlatformServer,
  findAccount,
  json,
  newState,
  platformServer,
  recordRequest,
  startServer,
  takeFault,
} from "./ad_platform.ts";

export interface FakeGoogleOptions {
  dataset: FakeDataset;
  developerToken?: string;
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  /** When set, every request must carry this login-customer-id. */
  loginCustomerId?: string;
  /** Results per streamed batch. */
  batchSize?: number;
  /** The retryDelay of a throttling answer. */
  retryDelay?: string;
  /** Lifetime of issued access tokens, seconds. */
  expiresIn?: number;
}

export interface FakeGoogleServer extends FakePlatformServer {
  /** Base of the OAuth endpoint: GOOGLE_OAUTH_TOKEN_URL. */
  tokenUrl: string;
  developerToken: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** How many access tokens were issued. */
  readonly tokenExchanges: number;
  /** Forget every issued access token (as if revoked). */
  revokeAccessTokens(): void;
}

const FAILURE_TYPE = "type.googleapis.com/google.ads.googleads.v17.errors.GoogleAdsFailure";

function googleError(
  code: number,
  status: string,
  message: string,
  errors: unknown[] = [],
): Response {
  return json(
    {
      error: {
        code,
        message,
        status,
        details: errors.length ? [{ "@type": FAILURE_TYPE, errors, requestId: "req-1" }] : [],
      },
    },
    code,
  );
}

/** proto3 JSON leaves zero values out. */
function withoutZeros(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== 0 && value !== "0"),
  );
}

export function startFakeGoogle(options: FakeGoogleOptions): FakeGoogleServer {
  const state = newState(options.dataset);
  const developerToken = options.developerToken ?? "dev-token-google-secret";
  const clientId = options.clientId ?? "client-id-123.apps.googleusercontent.com";
  const clientSecret = options.clientSecret ?? "GOCSPX-client-secret";
  const refreshToken = options.refreshToken ?? "1//refresh-token-secret";
  const batchSize = options.batchSize ?? 10;
  const issued = new Set<string>();
  let exchanges = 0;

  const violation = (message: string) => {
    state.violations.push(message);
    return googleError(400, "INVALID_ARGUMENT", message);
  };

  const token = (request: Request, body: string): Response => {
    const form = new URLSearchParams(body);
    if (
      request.headers.get("content-type")?.split(";")[0] !== "application/x-www-form-urlencoded"
    ) {
      state.violations.push("token request is not a form POST");
      return json({ error: "invalid_request" }, 400);
    }
    if (form.get("grant_type") !== "refresh_token") {
      state.violations.push("grant_type must be refresh_token");
      return json({ error: "unsupported_grant_type" }, 400);
    }
    if (form.get("client_id") !== clientId || form.get("client_secret") !== clientSecret) {
      return json(
        { error: "invalid_client", error_description: "The OAuth client was not found." },
        401,
      );
    }
    if (form.get("refresh_token") !== refreshToken) {
      return json({
        error: "invalid_grant",
        error_description: "Token has been expired or revoked.",
      }, 400);
    }
    exchanges++;
    const accessToken = `ya29.fake-access-${exchanges}-${crypto.randomUUID()}`;
    issued.add(accessToken);
    return json({
      access_token: accessToken,
      expires_in: options.expiresIn ?? 3599,
      token_type: "Bearer",
    });
  };

  const search = (request: Request, body: string, customerId: string): Response => {
    const bearer = request.headers.get("authorization")?.replace(/^Bearer\s+/i, "");
    if (!bearer || !issued.has(bearer)) {
      return googleError(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials.",
        [
          { errorCode: { authenticationError: "OAUTH_TOKEN_INVALID" }, message: "Invalid token" },
        ],
      );
    }
    const devToken = request.headers.get("developer-token");
    if (!devToken) return violation("developer-token header is missing");
    if (devToken !== developerToken) {
      return googleError(401, "UNAUTHENTICATED", "The developer token is not valid.", [
        { errorCode: { authenticationError: "DEVELOPER_TOKEN_INVALID" }, message: "bad token" },
      ]);
    }
    if (
      options.loginCustomerId &&
      request.headers.get("login-customer-id") !== options.loginCustomerId
    ) {
      return googleError(403, "PERMISSION_DENIED", "The caller does not have permission", [
        {
          errorCode: { authorizationError: "USER_PERMISSION_DENIED" },
          message: "login-customer-id",
        },
      ]);
    }
    let query: string;
    try {
      query = String(JSON.parse(body).query ?? "");
    } catch {
      return violation("body must be JSON {query}");
    }
    const account = findAccount(state.dataset, customerId);
    if (!account) {
      return googleError(403, "PERMISSION_DENIED", "Customer not accessible", [
        { errorCode: { authorizationError: "CUSTOMER_NOT_ENABLED" }, message: "no customer" },
      ]);
    }
    if (/\bFROM\s+customer\b/i.test(query)) {
      if (!/customer\.currency_code/.test(query) || !/customer\.time_zone/.test(query)) {
        return violation("customer query must select currency_code and time_zone");
      }
      return json([{
        results: [{
          customer: {
            resourceName: `customers/${account.id}`,
            currencyCode: account.currency,
            timeZone: account.timeZone,
          },
        }],
        fieldMask: "customer.currencyCode,customer.timeZone",
        requestId: "req-customer",
      }]);
    }
    if (takeFault(state.faults, "throttle")) {
      return googleError(
        429,
        "RESOURCE_EXHAUSTED",
        "Resource has been exhausted (e.g. check quota).",
        [{
          errorCode: { quotaError: "RESOURCE_EXHAUSTED" },
          message: "Too many requests. Retry in 1.5 seconds.",
          details: {
            quotaErrorDetails: {
              rateScope: "ACCOUNT",
              rateName: "Number of operations for explorer access",
              retryDelay: options.retryDelay ?? "1.5s",
            },
          },
        }],
      );
    }
    if (takeFault(state.faults, "serverError")) {
      return googleError(503, "UNAVAILABLE", "The service is currently unavailable.");
    }
    const range = /segments\.date\s+BETWEEN\s+'(\d{4}-\d{2}-\d{2})'\s+AND\s+'(\d{4}-\d{2}-\d{2})'/i
      .exec(query);
    if (!/\bFROM\s+campaign\b/i.test(query) || !range) {
      return violation("query must be FROM campaign with segments.date BETWEEN two dates");
    }
    for (
      const field of [
        "campaign.id",
        "segments.date",
        "metrics.cost_micros",
        "metrics.conversions_value",
      ]
    ) {
      if (!query.includes(field)) return violation(`query must select ${field}`);
    }
    const results: unknown[] = account.campaigns.flatMap((campaign) =>
      daysIn(campaign, range[1], range[2]).map((day) => {
        state.ledger.record(account.id, campaign.id, account.currency, day);
        return {
          campaign: {
            resourceName: `customers/${account.id}/campaigns/${campaign.id}`,
            id: campaign.id,
            name: campaign.name,
            status: campaign.status === "ACTIVE" ? "ENABLED" : "PAUSED",
          },
          metrics: withoutZeros({
            impressions: String(day.impressions),
            clicks: String(day.clicks),
            costMicros: decimalToUnits(day.cost, 6).toString(),
            conversions: Number(day.conversions),
            conversionsValue: Number(day.revenue),
          }),
          segments: { date: day.date },
        };
      })
    );
    if (state.malformedRow) {
      state.malformedRow = false;
      results.push({
        campaign: { id: "999", name: "broken" },
        metrics: { impressions: "5", costMicros: "abc" },
        segments: { date: range[1] },
      });
    }
    const batches = [];
    for (let start = 0; start < results.length || start === 0; start += batchSize) {
      batches.push({
        results: results.slice(start, start + batchSize),
        fieldMask: "campaign.id,campaign.name,campaign.status,segments.date,metrics.impressions," +
          "metrics.clicks,metrics.costMicros,metrics.conversions,metrics.conversionsValue",
        requestId: `req-${start}`,
      });
    }
    return json(batches);
  };

  const handler = async (request: Request): Promise<Response> => {
    const recorded = await recordRequest(request);
    state.requests.push(recorded);
    const url = new URL(request.url);
    if (url.pathname === "/token" && request.method === "POST") {
      return token(request, recorded.body);
    }
    const match = /^\/v17\/customers\/(\d+)\/googleAds:searchStream$/.exec(url.pathname);
    if (match && request.method === "POST") return search(request, recorded.body, match[1]);
    return googleError(404, "NOT_FOUND", `no route ${request.method} ${url.pathname}`);
  };

  const server = startServer(handler);
  return platformServer(state, server, { url: `${server.origin}/v17`, token: developerToken }, {
    tokenUrl: `${server.origin}/token`,
    developerToken,
    clientId,
    clientSecret,
    refreshToken,
    get tokenExchanges() {
      return exchanges;
    },
    revokeAccessTokens: () => issued.clear(),
  });
}
