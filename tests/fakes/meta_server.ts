/**
 * A fake Meta Graph API (insights), as the platform documents it:
 * - `GET /act_{id}?fields=currency,timezone_name,name` → the ad account;
 * - `GET /act_{id}/insights` with level=campaign, time_increment=1, an explicit
 *   time_range JSON and fields; pages of `limit` rows (capped by `pageSize`), with
 *   `paging.next` (an absolute URL carrying the cursor) until the last page;
 * - every number a string; purchases reported under THREE overlapping action types
 *   (purchase, omni_purchase, offsite_conversion.fb_pixel_purchase) plus unrelated ones;
 * - the token in `access_token` or `Authorization: Bearer`; a wrong one is HTTP 400 code 190;
 * - throttling is HTTP 400 code 17 with `x-business-use-case-usage`
 *   `estimated_time_to_regain_access` (minutes); a server error is HTTP 500 code 2.
 * Missing required parameters are answered with HTTP 400 code 100 and recorded as violations.
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

export interface FakeMetaOptions {
  dataset: FakeDataset;
  token?: string;
  /** Rows per page at most, whatever `limit` asks. */
  pageSize?: number;
  /** Minutes in `estimated_time_to_regain_access` when throttling. */
  regainAccessMinutes?: number;
  /** Largest window (days) one request may ask before Meta "times out". */
  maxDaysPerRequest?: number;
}

const REQUIRED_FIELDS = [
  "campaign_id",
  "campaign_name",
  "account_currency",
  "impressions",
  "clicks",
  "spend",
  "actions",
  "action_values",
];

const PURCHASE_TYPES = ["purchase", "omni_purchase", "offsite_conversion.fb_pixel_purchase"];

function graphError(code: number, message: string, status = 400, headers = {}): Response {
  return json(
    { error: { message, type: "OAuthException", code, fbtrace_id: "AbCdEf123" } },
    status,
    headers,
  );
}

export function startFakeMeta(options: FakeMetaOptions): FakePlatformServer {
  const state = newState(options.dataset);
  const token = options.token ?? "EAAG-meta-secret-token-123";
  const pageSize = options.pageSize ?? 25;
  const regainMinutes = options.regainAccessMinutes ?? 2;
  const maxDays = options.maxDaysPerRequest ?? 31;

  const violation = (message: string) => {
    state.violations.push(message);
    return graphError(100, `(#100) ${message}`);
  };

  const handler = async (request: Request): Promise<Response> => {
    state.requests.push(await recordRequest(request));
    const url = new URL(request.url);
    const given = url.searchParams.get("access_token") ??
      request.headers.get("authorization")?.replace(/^Bearer\s+/i, "");
    if (!given) return violation("An access token is required");
    if (given !== token) {
      return graphError(190, "Invalid OAuth access token - Cannot parse access token");
    }
    const insights = /^\/act_(\d+)\/insights$/.exec(url.pathname);
    const accountPath = /^\/act_(\d+)$/.exec(url.pathname);
    if (accountPath) {
      const account = findAccount(state.dataset, accountPath[1]);
      if (!account) return graphError(100, "Unsupported get request", 400);
      return json({
        id: `act_${account.id}`,
        account_id: account.id,
        currency: account.currency,
        timezone_name: account.timeZone,
        name: account.name,
      });
    }
    if (!insights) return graphError(2500, `Unknown path components: ${url.pathname}`);

    if (takeFault(state.faults, "throttle")) {
      const usage = {
        [insights[1]]: [{
          type: "ads_insights",
          call_count: 100,
          total_cputime: 95,
          total_time: 98,
          estimated_time_to_regain_access: regainMinutes,
        }],
      };
      return graphError(17, "User request limit reached", 400, {
        "x-business-use-case-usage": JSON.stringify(usage),
      });
    }
    if (takeFault(state.faults, "serverError")) {
      return json({ error: { message: "An unexpected error has occurred.", code: 2 } }, 500);
    }

    const params = url.searchParams;
    if (params.get("level") !== "campaign") return violation("level=campaign is required");
    if (params.get("time_increment") !== "1") return violation("time_increment=1 is required");
    let range: { since?: string; until?: string };
    try {
      range = JSON.parse(params.get("time_range") ?? "null") ?? {};
    } catch {
      return violation("time_range must be JSON");
    }
    if (!range.since || !range.until) return violation("time_range with since/until is required");
    const days = (Date.parse(range.until) - Date.parse(range.since)) / 86_400_000 + 1;
    if (!(days >= 1) || days > maxDays) {
      return graphError(1, "Please reduce the amount of data you're asking for, then retry");
    }
    const fields = (params.get("fields") ?? "").split(",");
    const missing = REQUIRED_FIELDS.filter((field) => !fields.includes(field));
    if (missing.length) return violation(`fields must include ${missing.join(", ")}`);

    const account = findAccount(state.dataset, insights[1]);
    if (!account) return graphError(100, "Unsupported get request");
    const rows = account.campaigns.flatMap((campaign) =>
      daysIn(campaign, range.since!, range.until!).map((day) => ({ campaign, day }))
    ).sort((a, b) =>
      a.day.date.localeCompare(b.day.date) || a.campaign.id.localeCompare(b.campaign.id)
    );

    const offset = Number(params.get("after") ? atob(params.get("after")!) : "0");
    const limit = Math.min(Number(params.get("limit") ?? "25") || 25, pageSize);
    const page = rows.slice(offset, offset + limit);
    const data: unknown[] = page.map(({ campaign, day }) => {
      state.ledger.record(account.id, campaign.id, account.currency, day);
      const purchases = day.conversions === "0"
        ? []
        : PURCHASE_TYPES.map((type) => ({ action_type: type, value: day.conversions }));
      const values = day.revenue === "0"
        ? []
        : PURCHASE_TYPES.map((type) => ({ action_type: type, value: day.revenue }));
      return {
        account_id: account.id,
        campaign_id: campaign.id,
        campaign_name: campaign.name,
        account_currency: account.currency,
        impressions: String(day.impressions),
        clicks: String(day.clicks),
        spend: day.cost,
        actions: [{ action_type: "link_click", value: String(day.clicks) }, ...purchases],
        action_values: values,
        date_start: day.date,
        date_stop: day.date,
      };
    });
    if (state.malformedRow) {
      state.malformedRow = false;
      data.push({
        account_id: account.id,
        campaign_id: "999",
        campaign_name: "broken",
        account_currency: account.currency,
        impressions: "10",
        clicks: "1",
        spend: "abc",
        date_start: range.since,
        date_stop: range.since,
      });
    }
    const nextOffset = offset + limit;
    const paging: Record<string, unknown> = {
      cursors: { before: btoa(String(offset)), after: btoa(String(nextOffset)) },
    };
    if (nextOffset < rows.length) {
      const next = new URL(url);
      next.searchParams.set("after", btoa(String(nextOffset)));
      paging.next = next.toString();
    }
    return json({ data, paging });
  };

  const server = startServer(handler);
  return platformServer(state, server, { url: server.origin, token });
}
