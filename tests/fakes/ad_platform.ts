/**
 * What the four fake ad-platform servers share: a dataset of accounts × campaigns × days,
 * a ledger of what was served (so a test can compare stored totals with exactly what
 * the platform said), fault switches, request recording and a tiny server starter.
 *
 * Money in datasets is decimal text; each fake encodes it the way its platform does
 * (strings, micros, JSON doubles) and the ledger sums the decimal text exactly.
 */
import { normalizeDecimal, sumDecimals, unitsToDecimal } from "../../lib/decimal.ts";
import { shiftDate } from "../../lib/dates.ts";
import type { TotalsResult } from "../../lib/store/metrics_store.ts";
import { createLogger } from "../../lib/log.ts";
import type { HttpDeps } from "../../ingest/http.ts";

export interface FakeDay {
  date: string;
  impressions: number;
  clicks: number;
  /** Decimal text: whole for platforms that count purchases, fractional for Google. */
  conversions: string;
  cost: string;
  revenue: string;
}

export interface FakeCampaign {
  id: string;
  name: string;
  status: string;
  days: FakeDay[];
}

export interface FakeAccount {
  id: string;
  name: string;
  currency: string;
  timeZone: string;
  campaigns: FakeCampaign[];
}

export interface FakeDataset {
  accounts: FakeAccount[];
}

export interface DatasetOptions {
  accounts: { id: string; currency: string; timeZone: string; name?: string }[];
  campaignsPerAccount: number;
  from: string;
  days: number;
  seed?: number;
  /** Fraction digits of cost and revenue (Google: up to 6, LinkedIn often 3). */
  moneyScale?: number;
  /** Fractional conversions (Google's data-driven attribution). */
  fractionalConversions?: boolean;
  /** Campaign ids: a prefix followed by a counter (Meta/TikTok use long digit ids). */
  campaignIdBase?: number;
}

/** A small deterministic generator, so every run serves the same numbers. */
export function seededRandom(seed: number): (limit: number) => number {
  let state = seed >>> 0 || 1;
  return (limit) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % limit;
  };
}

function randomDay(
  date: string,
  next: (limit: number) => number,
  options: Pick<DatasetOptions, "moneyScale" | "fractionalConversions">,
): FakeDay {
  const scale = options.moneyScale ?? 2;
  const impressions = 100 + next(20_000);
  const clicks = next(Math.floor(impressions / 20) + 1);
  const conversions = options.fractionalConversions
    ? normalizeDecimal(unitsToDecimal(BigInt(next(2_000)), 2))
    : String(next(6));
  return {
    date,
    impressions,
    clicks,
    conversions,
    cost: normalizeDecimal(unitsToDecimal(BigInt(next(50_000 * 10 ** scale)), scale)),
    revenue: normalizeDecimal(unitsToDecimal(BigInt(next(90_000 * 10 ** scale)), scale)),
  };
}

export function makeDataset(options: DatasetOptions): FakeDataset {
  const next = seededRandom(options.seed ?? 7);
  const idBase = options.campaignIdBase ?? 120_000_000_000;
  let counter = 0;
  return {
    accounts: options.accounts.map((account) => ({
      id: account.id,
      name: account.name ?? `Account ${account.id}`,
      currency: account.currency,
      timeZone: account.timeZone,
      campaigns: Array.from({ length: options.campaignsPerAccount }, () => {
        counter++;
        return {
          id: String(idBase + counter),
          name: `Campaign ${counter} "spring" · ${account.id}`,
          status: counter % 3 === 0 ? "PAUSED" : "ACTIVE",
          days: Array.from(
            { length: options.days },
            (_, day) => randomDay(shiftDate(options.from, day), next, options),
          ),
        };
      }),
    })),
  };
}

/** The platform restating its last `days` days with new numbers (a new copy). */
export function restated(
  dataset: FakeDataset,
  options:
    & { days?: number; seed?: number }
    & Pick<
      DatasetOptions,
      "moneyScale" | "fractionalConversions"
    > = {},
): FakeDataset {
  const next = seededRandom(options.seed ?? 99);
  const recent = options.days ?? 7;
  return {
    accounts: dataset.accounts.map((account) => ({
      ...account,
      campaigns: account.campaigns.map((campaign) => ({
        ...campaign,
        days: campaign.days.map((day, index) =>
          index >= campaign.days.length - recent ? randomDay(day.date, next, options) : day
        ),
      })),
    })),
  };
}

/** Days of a campaign inside an inclusive window. */
export function daysIn(campaign: FakeCampaign, from: string, to: string): FakeDay[] {
  return campaign.days.filter((day) => day.date >= from && day.date <= to);
}

export interface Sums {
  impressions: string;
  clicks: string;
  conversions: string;
  cost: string;
  revenue: string;
}

const ZERO: Sums = { impressions: "0", clicks: "0", conversions: "0", cost: "0", revenue: "0" };

/**
 * What a fake has served, one entry per (account, campaign, day): a restated day replaces
 * the earlier numbers, exactly as the store's upsert does.
 */
export class ServedLedger {
  private readonly served = new Map<string, { currency: string; day: FakeDay }>();

  record(accountId: string, campaignId: string, currency: string, day: FakeDay): void {
    this.served.set(`${accountId}/${campaignId}/${day.date}`, { currency, day });
  }

  get size(): number {
    return this.served.size;
  }

  /** Exact sums per currency, normalized ("12.5", not "12.50"). */
  totals(): Record<string, Sums> {
    const totals: Record<string, Sums> = {};
    for (const { currency, day } of this.served.values()) {
      const sums = totals[currency] ?? { ...ZERO };
      totals[currency] = {
        impressions: sumDecimals([sums.impressions, String(day.impressions)]),
        clicks: sumDecimals([sums.clicks, String(day.clicks)]),
        conversions: sumDecimals([sums.conversions, day.conversions]),
        cost: sumDecimals([sums.cost, day.cost]),
        revenue: sumDecimals([sums.revenue, day.revenue]),
      };
    }
    return normalizeTotals(totals);
  }
}

export function normalizeTotals(totals: Record<string, Sums>): Record<string, Sums> {
  return Object.fromEntries(
    Object.entries(totals).map(([currency, sums]) => [
      currency,
      {
        impressions: normalizeDecimal(sums.impressions),
        clicks: normalizeDecimal(sums.clicks),
        conversions: normalizeDecimal(sums.conversions),
        cost: normalizeDecimal(sums.cost),
        revenue: normalizeDecimal(sums.revenue),
      },
    ]),
  );
}

/** A store's `totals()` answer in the ledger's shape, for an exact comparison. */
export function storeTotalsByCurrency(result: TotalsResult): Record<string, Sums> {
  return normalizeTotals(
    Object.fromEntries(
      result.totals.map(({ currency, ...sums }) => [currency.trim(), sums]),
    ),
  );
}

/** Faults the next data requests answer with, each consumed once. */
export interface Faults {
  /** Answer throttling, in the platform's own way. */
  throttle: number;
  /** Answer an HTTP 5xx. */
  serverError: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The raw query string as received (still percent-encoded), without "?". */
  rawQuery: string;
  headers: Record<string, string>;
  body: string;
}

/** The parts every fake platform server exposes to tests. */
export interface FakePlatformServer {
  /** Base URL to configure the connector with (replaces host and version prefix). */
  url: string;
  /** The token the server accepts. */
  token: string;
  readonly faults: Faults;
  /** Inject one malformed row into the next report (not counted in totals). */
  malformedRow: boolean;
  readonly requests: RecordedRequest[];
  /** Protocol mistakes the server saw (missing params/headers, wrong syntax). */
  readonly violations: string[];
  setDataset(dataset: FakeDataset): void;
  /** Exact sums of what was served so far (latest numbers per campaign-day). */
  totals(): Record<string, Sums>;
  close(): Promise<void>;
}

export interface FakeServerState {
  dataset: FakeDataset;
  ledger: ServedLedger;
  faults: Faults;
  malformedRow: boolean;
  requests: RecordedRequest[];
  violations: string[];
}

export function newState(dataset: FakeDataset): FakeServerState {
  return {
    dataset,
    ledger: new ServedLedger(),
    faults: { throttle: 0, serverError: 0 },
    malformedRow: false,
    requests: [],
    violations: [],
  };
}

export async function recordRequest(request: Request): Promise<RecordedRequest> {
  const url = new URL(request.url);
  return {
    method: request.method,
    path: url.pathname,
    rawQuery: url.search.replace(/^\?/, ""),
    headers: Object.fromEntries(request.headers),
    body: request.method === "GET" ? "" : await request.text(),
  };
}

/** Takes one pending fault of a kind, if any. */
export function takeFault(faults: Faults, kind: keyof Faults): boolean {
  if (faults[kind] <= 0) return false;
  faults[kind]--;
  return true;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export interface StartedServer {
  origin: string;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 at a free port. */
export function startServer(handler: (request: Request) => Promise<Response>): StartedServer {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      try {
        return await handler(request);
      } catch (error) {
        return json({ fake_error: String(error) }, 500);
      }
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  return { origin: `http://127.0.0.1:${port}`, close: () => server.shutdown() };
}

/**
 * The handle every fake platform server returns: its base URL and token, plus the parts
 * of its state tests steer and read. `extra` adds platform-specific members (getters kept).
 */
export function platformServer<Extra extends object = Record<never, never>>(
  state: FakeServerState,
  server: StartedServer,
  access: { url: string; token: string },
  extra?: Extra,
): FakePlatformServer & Extra {
  const handle: FakePlatformServer = {
    ...access,
    faults: state.faults,
    get malformedRow() {
      return state.malformedRow;
    },
    set malformedRow(value: boolean) {
      state.malformedRow = value;
    },
    requests: state.requests,
    violations: state.violations,
    setDataset: (dataset) => (state.dataset = dataset),
    totals: () => state.ledger.totals(),
    close: server.close,
  };
  return Object.defineProperties(handle, Object.getOwnPropertyDescriptors(extra ?? {})) as
    & FakePlatformServer
    & Extra;
}

export function findAccount(dataset: FakeDataset, id: string): FakeAccount | undefined {
  return dataset.accounts.find((account) => account.id === id);
}

/** Connector dependencies for tests: instant sleeps recorded, fixed jitter, captured logs. */
export interface TestHarness {
  /** Every wait the connector asked for, in milliseconds. */
  waits: number[];
  /** Every log line written (JSON text). */
  logs: string[];
  deps: HttpDeps;
}

export function testHarness(retry: HttpDeps["retry"] = {}): TestHarness {
  const waits: number[] = [];
  const logs: string[] = [];
  return {
    waits,
    logs,
    deps: {
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      random: () => 0.5,
      logger: createLogger({ level: "debug", write: (line) => logs.push(line) }),
      retry: { timeoutMs: 10_000, ...retry },
    },
  };
}
