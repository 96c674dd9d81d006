/**
 * A fake TikTok Business API v1.3, as the platform documents it:
 * - `Access-Token` header; a wrong one is HTTP 200 `{code: 40105}`, a missing one 40104;
 * - `GET /open_api/v1.3/report/integrated/get/` with JSON-encoded list parameters:
 *   advertiser_id, report_type=BASIC, data_level=AUCTION_CAMPAIGN,
 *   dimensions=["campaign_id","stat_time_day"], metrics=[...], start_date/end_date
 *   (≤ 30 days apart), page, page_size (≤ 1000; the fake also caps it at `pageSize` to
 *   force paging); `data.list` of `{dimensions, metrics}` with every metric a string,
 *   `stat_time_day` as "YYYY-MM-DD 00:00:00", and `page_info` with total_page;
 * - `conversion` (optimization-goal conversions) differs from `complete_payment`
 *   (purchases); `total_complete_payment_rate` is the purchase value;
 * - `GET /open_api/v1.3/advertiser/info/?advertiser_ids=["..."]` → currency and zone;
 * - errors in HTTP 200: 40100 throttling, 40002 bad parameters (recorded as a
 *   violation); the server error fault is a plain HTTP 503.
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

export interface FakeTikTokOptions {
  dataset: FakeDataset;
  token?: string;
  /** Rows per page at most, whatever page_size asks. */
  pageSize?: number;
}

export interface FakeTikTokServer extends FakePlatformServer {
  /** Answer the next data requests with HTTP 200 code 50000 (a "system error"). */
  codeErrors: number;
}

const REQUIRED_METRICS = [
  "campaign_name",
  "spend",
  "impressions",
  "clicks",
  "complete_payment",
  "total_complete_payment_rate",
];

function envelope(code: number, message: string, data: unknown = {}): Response {
  return json({ code, message, request_id: `2024${crypto.randomUUID().slice(0, 8)}`, data });
}

function jsonParam(params: URLSearchParams, name: string): unknown {
  try {
    return JSON.parse(params.get(name) ?? "null");
  } catch {
    return undefined;
  }
}

export function startFakeTikTok(options: FakeTikTokOptions): FakeTikTokServer {
  const state = newState(options.dataset);
  const token = options.token ?? "tiktok-secret-access-token-abc";
  const maxPageSize = options.pageSize ?? 1000;
  let codeErrors = 0;

  const violation = (message: string) => {
    state.violations.push(message);
    return envelope(40002, message);
  };

  const report = (params: URLSearchParams): Response => {
    if (takeFault(state.faults, "throttle")) {
      return envelope(40100, "Too many requests. Please retry in some time.");
    }
    if (takeFault(state.faults, "serverError")) {
      return new Response("Service Unavailable", { status: 503 });
    }
    if (codeErrors > 0) {
      codeErrors--;
      return envelope(50000, "System error, please try again later.");
    }
    const advertiserId = params.get("advertiser_id");
    if (!advertiserId) return violation("advertiser_id is required");
    if (params.get("report_type") !== "BASIC") return violation("report_type must be BASIC");
    if (params.get("data_level") !== "AUCTION_CAMPAIGN") {
      return violation("data_level must be AUCTION_CAMPAIGN");
    }
    const dimensions = jsonParam(params, "dimensions");
    if (JSON.stringify(dimensions) !== JSON.stringify(["campaign_id", "stat_time_day"])) {
      return violation('dimensions must be the JSON array ["campaign_id","stat_time_day"]');
    }
    const metrics = jsonParam(params, "metrics");
    if (!Array.isArray(metrics) || REQUIRED_METRICS.some((metric) => !metrics.includes(metric))) {
      return violation(`metrics must be a JSON array including ${REQUIRED_METRICS.join(", ")}`);
    }
    const start = params.get("start_date") ?? "";
    const end = params.get("end_date") ?? "";
    if (!/^\d{4}-\d{2}-\d{2}$/.test(start) || !/^\d{4}-\d{2}-\d{2}$/.test(end)) {
      return violation("start_date and end_date are required (YYYY-MM-DD)");
    }
    const days = (Date.parse(end) - Date.parse(start)) / 86_400_000 + 1;
    if (days < 1 || days > 30) {
      return violation(`a daily report spans at most 30 days, not ${days}`);
    }
    const page = Number(params.get("page") ?? "1");
    const requestedSize = Number(params.get("page_size") ?? "10");
    if (!(requestedSize >= 1 && requestedSize <= 1000)) {
      return violation("page_size must be 1..1000");
    }
    const pageSize = Math.min(requestedSize, maxPageSize);

    const account = findAccount(state.dataset, advertiserId);
    if (!account) return envelope(40001, "No permission to operate advertiser");
    const rows = account.campaigns.flatMap((campaign) =>
      daysIn(campaign, start, end).map((day) => ({ campaign, day }))
    );
    const totalPage = Math.ceil(rows.length / pageSize);
    const list: unknown[] = rows.slice((page - 1) * pageSize, page * pageSize).map(
      ({ campaign, day }) => {
        state.ledger.record(account.id, campaign.id, account.currency, day);
        return {
          dimensions: { campaign_id: campaign.id, stat_time_day: `${day.date} 00:00:00` },
          metrics: {
            campaign_name: campaign.name,
            spend: day.cost,
            impressions: String(day.impressions),
            clicks: String(day.clicks),
            // The optimization goal's conversions: not the purchases, and never added to them.
            conversion: String(Number(day.conversions) + 7),
            complete_payment: day.conversions,
            total_complete_payment_rate: day.revenue,
            currency: account.currency,
          },
        };
      },
    );
    if (state.malformedRow) {
      state.malformedRow = false;
      list.push({
        dimensions: { stat_time_day: `${start} 00:00:00` },
        metrics: { campaign_name: "no id", spend: "1.00", impressions: "1", clicks: "0" },
      });
    }
    return envelope(0, "OK", {
      list,
      page_info: { page, page_size: pageSize, total_number: rows.length, total_page: totalPage },
    });
  };

  const advertiserInfo = (params: URLSearchParams): Response => {
    const ids = jsonParam(params, "advertiser_ids");
    if (!Array.isArray(ids) || ids.length === 0) {
      return violation("advertiser_ids must be a JSON array of ids");
    }
    return envelope(0, "OK", {
      list: ids.flatMap((id) => {
        const account = findAccount(state.dataset, String(id));
        return account
          ? [{
            advertiser_id: account.id,
            name: account.name,
            currency: account.currency,
            timezone: account.timeZone,
            display_timezone: account.timeZone,
            status: "STATUS_ENABLE",
          }]
          : [];
      }),
    });
  };

  const handler = async (request: Request): Promise<Response> => {
    state.requests.push(await recordRequest(request));
    const given = request.headers.get("access-token");
    if (!given) return envelope(40104, "Access token is null, please check it.");
    if (given !== token) return envelope(40105, "The access token is invalid or has been revoked.");
    const url = new URL(request.url);
    if (url.pathname === "/open_api/v1.3/report/integrated/get/") return report(url.searchParams);
    if (url.pathname === "/open_api/v1.3/advertiser/info/") return advertiserInfo(url.searchParams);
    return json({ code: 40400, message: `no route ${url.pathname}` }, 404);
  };

  const server = startServer(handler);
  return platformServer(state, server, { url: `${server.origin}/open_api/v1.3`, token }, {
    get codeErrors() {
      return codeErrors;
    },
    set codeErrors(value: number) {
      codeErrors = value;
    },
  });
}
