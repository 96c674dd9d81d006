/**
 * A fake LinkedIn Marketing API, as the platform documents it:
 * - every request needs `Authorization: Bearer`, `LinkedIn-Version: YYYYMM` (an active
 *   one) and `X-Restli-Protocol-Version: 2.0.0`;
 * - `GET /rest/adAnalytics?q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY&dateRange=(start:(year:..,month:..,day:..),end:(...))&accounts=List(urn%3Ali%3AsponsoredAccount%3A...)&fields=...`
 *   checked on the RAW query string: parentheses and List(...) literal, URNs
 *   percent-encoded; anything else is a 400 and a recorded violation. No paging; a
 *   response is truncated at `elementCap` elements, as the real finder caps it;
 * - `GET /rest/adAccounts/{id}` → `{id, name, currency, ...}`;
 * - `GET /rest/adAccounts/{id}/adCampaigns?q=search` → campaigns in pages of
 *   `campaignPageSize`, continued through `metadata.nextPageToken` / `pageToken`;
 * - errors `{status, serviceErrorCode, code, message}`: 429 with Retry-After when
 *   throttling, 401 for a bad token, 426 for a retired version, 500 for a server error.
 * Days are UTC days (LinkedIn reports in UTC).
 */
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

export interface FakeLinkedInOptions {
  dataset: FakeDataset;
  token?: string;
  /** Versions the fake accepts (default: 202401 up to 202612). */
  activeVersions?: (version: string) => boolean;
  /** Elements at which analytics responses are truncated. */
  elementCap?: number;
  /** Campaigns per search page. */
  campaignPageSize?: number;
  /** Seconds in Retry-After when throttling. */
  retryAfterSeconds?: number;
}

const REQUIRED_FIELDS = [
  "pivotValues",
  "dateRange",
  "impressions",
  "clicks",
  "costInLocalCurrency",
  "externalWebsiteConversions",
  "conversionValueInLocalCurrency",
];

const DATE_RANGE =
  /^\(start:\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\),end:\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\)\)$/;
const ACCOUNTS =
  /^List\((urn%3Ali%3AsponsoredAccount%3A\d+(?:,urn%3Ali%3AsponsoredAccount%3A\d+)*)\)$/;

function linkedInError(status: number, code: string, message: string, headers = {}): Response {
  return json({ status, serviceErrorCode: status * 100 + 1, code, message }, status, headers);
}

const pad = (value: string) => value.padStart(2, "0");

/** Raw `key=value` pairs of a query string, values left percent-encoded. */
function rawParams(rawQuery: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of rawQuery.split("&").filter(Boolean)) {
    const at = pair.indexOf("=");
    params.set(at < 0 ? pair : pair.slice(0, at), at < 0 ? "" : pair.slice(at + 1));
  }
  return params;
}

export function startFakeLinkedIn(options: FakeLinkedInOptions): FakePlatformServer {
  const state = newState(options.dataset);
  const token = options.token ?? "AQV-linkedin-secret-token";
  const activeVersion = options.activeVersions ??
    ((version: string) =>
      /^\d{6}(\.\d{2})?$/.test(version) && version >= "202401" && version <= "202612");
  const elementCap = options.elementCap ?? 15_000;
  const campaignPageSize = options.campaignPageSize ?? 2;

  const violation = (message: string) => {
    state.violations.push(message);
    return linkedInError(400, "ILLEGAL_ARGUMENT", message);
  };

  const analytics = (rawQuery: string): Response => {
    const params = rawParams(rawQuery);
    if (params.get("q") !== "analytics") return violation("q=analytics is required");
    if (params.get("pivot") !== "CAMPAIGN") return violation("pivot=CAMPAIGN is required");
    if (params.get("timeGranularity") !== "DAILY") {
      return violation("timeGranularity=DAILY is required");
    }
    const range = DATE_RANGE.exec(params.get("dateRange") ?? "");
    if (!range) return violation(`dateRange is not Rest.li syntax: ${params.get("dateRange")}`);
    const accounts = ACCOUNTS.exec(params.get("accounts") ?? "");
    if (!accounts) {
      return violation(`accounts is not a Rest.li List of encoded URNs: ${params.get("accounts")}`);
    }
    const fields = (params.get("fields") ?? "").split(",");
    const missing = REQUIRED_FIELDS.filter((field) => !fields.includes(field));
    if (missing.length) return violation(`fields must include ${missing.join(", ")}`);

    if (takeFault(state.faults, "throttle")) {
      return linkedInError(
        429,
        "TOO_MANY_REQUESTS",
        "Resource level throttle limit for calls to this resource is reached.",
        {
          "retry-after": String(options.retryAfterSeconds ?? 3),
        },
      );
    }
    if (takeFault(state.faults, "serverError")) {
      return linkedInError(500, "INTERNAL_SERVER_ERROR", "Internal Server Error");
    }

    const from = `${range[1]}-${pad(range[2])}-${pad(range[3])}`;
    const to = `${range[4]}-${pad(range[5])}-${pad(range[6])}`;
    const accountIds = accounts[1].split(",").map((urn) =>
      urn.replace("urn%3Ali%3AsponsoredAccount%3A", "")
    );
    const served = accountIds.flatMap((id) => {
      const account = findAccount(state.dataset, id);
      return account
        ? account.campaigns.flatMap((campaign) =>
          daysIn(campaign, from, to).map((day) => ({ account, campaign, day }))
        )
        : [];
    }).slice(0, elementCap); // the finder caps a response instead of paging
    const elements: unknown[] = served.map(({ account, campaign, day }) => {
      state.ledger.record(account.id, campaign.id, account.currency, day);
      const [year, month, dayOfMonth] = day.date.split("-").map(Number);
      const date = { year, month, day: dayOfMonth };
      return {
        pivotValues: [`urn:li:sponsoredCampaign:${campaign.id}`],
        dateRange: { start: date, end: date },
        impressions: day.impressions,
        clicks: day.clicks,
        costInLocalCurrency: day.cost,
        externalWebsiteConversions: Number(day.conversions),
        conversionValueInLocalCurrency: day.revenue,
      };
    });
    if (state.malformedRow) {
      state.malformedRow = false;
      elements.push({
        pivotValues: ["urn:li:sponsoredCampaign:999"],
        dateRange: {
          start: { year: 2024, month: 3, day: 1 },
          end: { year: 2024, month: 3, day: 1 },
        },
        impressions: 3,
        clicks: 1,
        costInLocalCurrency: "abc",
        externalWebsiteConversions: 0,
        conversionValueInLocalCurrency: "0",
      });
    }
    return json({ paging: { start: 0, count: 10, links: [] }, elements });
  };

  const campaigns = (accountId: string, rawQuery: string): Response => {
    const params = rawParams(rawQuery);
    if (params.get("q") !== "search") return violation("q=search is required");
    const account = findAccount(state.dataset, accountId);
    if (!account) return linkedInError(404, "NOT_FOUND", "Ad account not found");
    const start = Number(
      params.get("pageToken") ? atob(decodeURIComponent(params.get("pageToken")!)) : "0",
    );
    const page = account.campaigns.slice(start, start + campaignPageSize);
    const next = start + campaignPageSize;
    return json({
      elements: page.map((campaign) => ({
        id: Number(campaign.id),
        account: `urn:li:sponsoredAccount:${account.id}`,
        name: campaign.name,
        status: campaign.status,
        type: "SPONSORED_UPDATES",
      })),
      metadata: next < account.campaigns.length ? { nextPageToken: btoa(String(next)) } : {},
    });
  };

  const handler = async (request: Request): Promise<Response> => {
    const recorded = await recordRequest(request);
    state.requests.push(recorded);
    const bearer = request.headers.get("authorization")?.replace(/^Bearer\s+/i, "");
    if (!bearer) return violation("Authorization header is required");
    if (bearer !== token) return linkedInError(401, "INVALID_ACCESS_TOKEN", "Invalid access token");
    const version = request.headers.get("linkedin-version");
    if (!version) return violation("LinkedIn-Version header is required");
    if (!activeVersion(version)) {
      return linkedInError(
        426,
        "NONEXISTENT_VERSION",
        `Requested version ${version} is not active`,
      );
    }
    if (request.headers.get("x-restli-protocol-version") !== "2.0.0") {
      return violation("X-Restli-Protocol-Version: 2.0.0 is required");
    }
    const path = new URL(request.url).pathname;
    if (path === "/rest/adAnalytics") return analytics(recorded.rawQuery);
    const campaignsPath = /^\/rest\/adAccounts\/(\d+)\/adCampaigns$/.exec(path);
    if (campaignsPath) return campaigns(campaignsPath[1], recorded.rawQuery);
    const accountPath = /^\/rest\/adAccounts\/(\d+)$/.exec(path);
    if (accountPath) {
      const account = findAccount(state.dataset, accountPath[1]);
      if (!account) return linkedInError(404, "NOT_FOUND", "Ad account not found");
      return json({
        id: Number(account.id),
        name: account.name,
        currency: account.currency,
        status: "ACTIVE",
        type: "BUSINESS",
        reference: "urn:li:organization:1",
      });
    }
    return linkedInError(404, "NOT_FOUND", `No resource ${path}`);
  };

  const server = startServer(handler);
  return platformServer(state, server, { url: `${server.origin}/rest`, token });
}
