/**
 * Query latency at scale: the store's own read methods, called directly (no cache of
 * any kind in front: every call runs its SQL), over the scale data set. Each query
 * runs `runs` times with varied parameters (other campaigns, months, quarters,
 * platforms), interleaved with the other queries so that no single plan or page set
 * stays hot, and reports p50/p95 against the 50 ms target. The slowest run of each is
 * explained with EXPLAIN (ANALYZE, BUFFERS), and the plan is kept in the results.
 *
 * "Cold" means no application cache. The database's own buffer cache is whatever the
 * varied parameters leave in it (the data set, 1.5 GB at full size, does not fit in
 * the default 128 MB shared_buffers, but does fit in the OS page cache).
 */
import type { SqlDriver, SqlParam } from "../lib/store/driver.ts";
import { SqlMetricsStore } from "../lib/store/sql_store.ts";
import { type FxStore, SqlFxStore } from "../lib/store/fx_store.ts";
import { ConvertedQueries } from "../lib/fx/queries.ts";
import { seedFakeRates } from "../ingest/fake_fx.ts";
import type { Platform } from "../lib/schema.ts";
import { campaignId, PLATFORMS, type ScaleSpec } from "./scale.ts";
import { round, seededRandom, summarize } from "./stats.ts";

const DAY_MS = 86_400_000;

export const TARGET_P95_MS = 50;

interface Captured {
  text: string;
  params: readonly SqlParam[];
}

/** Passes queries through and remembers the last one, so it can be explained later. */
function recordingDriver(driver: SqlDriver): { driver: SqlDriver; last(): Captured | undefined } {
  let last: Captured | undefined;
  return {
    driver: {
      ...driver,
      query<T>(text: string, params: readonly SqlParam[] = []) {
        last = { text, params };
        return driver.query<T>(text, params);
      },
    },
    last: () => last,
  };
}

interface QueryCase {
  name: string;
  label: string;
  /** Not one of the five: reported for context, without a target verdict. */
  extra?: boolean;
  /**
   * An extra that runs as many times as the five (a p95 of its own: the ragged-range
   * rankings of issue #21, whose goal is the same 50 ms, reported beside the verdicts).
   */
  fullRuns?: boolean;
  /** For a converted query: the unconverted case it is compared with (p95 ratio). */
  baseline?: string;
  run(
    store: SqlMetricsStore,
    random: () => number,
    fx: FxStore,
  ): Promise<{ params: string; rows: number }>;
}

/** Money reported in USD: the data's EUR and GBP rows converted at each day's rate. */
const usd = (fx: FxStore) => new ConvertedQueries(fx, "USD", "UTC");

function pickInt(random: () => number, lowInclusive: number, highInclusive: number): number {
  return lowInclusive + Math.floor(random() * (highInclusive - lowInclusive + 1));
}

/** The UTC instant of midnight in New York on the calendar day of `utcDay` (a UTC midnight). */
function newYorkMidnight(utcDay: Date): Date {
  // 05:00 UTC in winter (EST), 04:00 UTC in summer (EDT): whichever reads 00:00 there.
  for (const hours of [4, 5]) {
    const at = new Date(utcDay.getTime() + hours * 3_600_000);
    const local = new Intl.DateTimeFormat("en-US", {
      timeZone: "America/New_York",
      hour: "2-digit",
      hourCycle: "h23",
    }).format(at);
    if (local === "00") return at;
  }
  throw new Error(`no New York midnight on ${utcDay.toISOString()}`);
}

async function rankTop10(
  store: SqlMetricsStore,
  tenantId: string,
  from: Date,
  to: Date,
): Promise<{ params: string; rows: number }> {
  const rows = await store.rank({ tenantId, from, to }, {
    groupBy: "campaign",
    metric: "roas",
    order: "desc",
    limit: 10,
  });
  return { params: `${from.toISOString()}..${to.toISOString()}`, rows: rows.length };
}

export function queryCases(spec: ScaleSpec): QueryCase[] {
  const start = Date.parse(`${spec.start}T00:00:00Z`);
  const day = (n: number) => new Date(start + n * DAY_MS);
  const first = new Date(start);
  const monthStart = (m: number) =>
    new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + m, 1));
  // Whole calendar months inside the data (the data starts on a 1st in every spec we use).
  let months = 0;
  while (monthStart(months + 1).getTime() <= day(spec.days).getTime()) months++;
  const quarters = Math.max(1, Math.floor(months / 3));
  const tenantId = spec.tenant;
  const campaign = (random: () => number) => campaignId(pickInt(random, 1, spec.campaigns));
  const iso = (date: Date) => date.toISOString().slice(0, 10);
  return [
    {
      name: "campaign_30d",
      label: "one campaign, 30 days",
      async run(store, random) {
        const id = campaign(random);
        const s = pickInt(random, 0, Math.max(0, spec.days - 30));
        const result = await store.totals({
          tenantId,
          campaignIds: [id],
          from: day(s),
          to: day(s + 30),
        });
        return {
          params: `${id} ${iso(day(s))}..${iso(day(s + 30))}`,
          rows: result.by_platform.length,
        };
      },
    },
    {
      name: "campaign_lifetime",
      label: "one campaign, lifetime",
      async run(store, random) {
        const id = campaign(random);
        const result = await store.totals({ tenantId, campaignIds: [id] });
        return { params: id, rows: result.by_platform.length };
      },
    },
    {
      name: "platform_quarter",
      label: "platform totals, a quarter",
      async run(store, random) {
        const q = pickInt(random, 0, quarters - 1);
        const from = monthStart(3 * q);
        const to = monthStart(Math.min(3 * q + 3, Math.max(months, 1)));
        const result = await store.totals({ tenantId, from, to });
        return { params: `${iso(from)}..${iso(to)}`, rows: result.by_platform.length };
      },
    },
    {
      name: "top10_roas_month",
      label: "top 10 campaigns by ROAS, a month",
      async run(store, random) {
        const m = pickInt(random, 0, Math.max(0, months - 1));
        const from = monthStart(m);
        const to = monthStart(m + 1);
        const rows = await store.rank({ tenantId, from, to }, {
          groupBy: "campaign",
          metric: "roas",
          order: "desc",
          limit: 10,
        });
        return { params: `${iso(from)}..${iso(to)}`, rows: rows.length };
      },
    },
    {
      name: "platform_series_90d",
      label: "daily series, a platform, 90 days",
      async run(store, random) {
        const platform = PLATFORMS[pickInt(random, 0, PLATFORMS.length - 1)] as Platform;
        const s = pickInt(random, 0, Math.max(0, spec.days - 90));
        const rows = await store.series({
          tenantId,
          platforms: [platform],
          from: day(s),
          to: day(s + 90),
        }, "day");
        return { params: `${platform} ${iso(day(s))}..${iso(day(s + 90))}`, rows: rows.length };
      },
    },
    {
      name: "top10_roas_quarter",
      label: "extra: top 10 campaigns by ROAS, a quarter",
      extra: true,
      fullRuns: true,
      async run(store, random) {
        const q = pickInt(random, 0, quarters - 1);
        const from = monthStart(3 * q);
        const to = monthStart(Math.min(3 * q + 3, Math.max(months, 1)));
        const rows = await store.rank({ tenantId, from, to }, {
          groupBy: "campaign",
          metric: "roas",
          order: "desc",
          limit: 10,
        });
        return { params: `${iso(from)}..${iso(to)}`, rows: rows.length };
      },
    },
    {
      name: "top10_roas_30d",
      label: "extra: top 10 campaigns by ROAS, 30 days not month-aligned",
      extra: true,
      fullRuns: true,
      async run(store, random) {
        // Starts on the 10th..20th: no whole month inside, so no rollup can answer.
        const m = pickInt(random, 0, Math.max(0, months - 2));
        const from = new Date(monthStart(m).getTime() + pickInt(random, 9, 19) * DAY_MS);
        const to = new Date(from.getTime() + 30 * DAY_MS);
        const rows = await store.rank({ tenantId, from, to }, {
          groupBy: "campaign",
          metric: "roas",
          order: "desc",
          limit: 10,
        });
        return { params: `${iso(from)}..${iso(to)}`, rows: rows.length };
      },
    },
    {
      name: "top10_roas_last_30d",
      label: "extra: top 10 campaigns by ROAS, the last 30 days (whole UTC days)",
      extra: true,
      fullRuns: true,
      async run(store, random) {
        // "Last 30 days" of a dashboard: ends at a day boundary, any day of the month.
        const end = pickInt(random, 30, spec.days);
        return await rankTop10(store, tenantId, day(end - 30), day(end));
      },
    },
    {
      name: "top10_roas_last_7d",
      label: "extra: top 10 campaigns by ROAS, the last 7 days (whole UTC days)",
      extra: true,
      fullRuns: true,
      async run(store, random) {
        const end = pickInt(random, 7, spec.days);
        return await rankTop10(store, tenantId, day(end - 7), day(end));
      },
    },
    {
      name: "top10_roas_45d_new_york",
      label: "extra: top 10 campaigns by ROAS, 45 days in America/New_York (arbitrary start)",
      extra: true,
      fullRuns: true,
      async run(store, random) {
        // New York midnights are 04:00 or 05:00 UTC: every range has hours at both edges.
        const s = pickInt(random, 1, Math.max(1, spec.days - 46));
        const from = newYorkMidnight(day(s));
        const to = newYorkMidnight(day(s + 45));
        return await rankTop10(store, tenantId, from, to);
      },
    },
    {
      name: "campaign_30d_usd",
      label: "extra: one campaign, 30 days, in USD (converted)",
      extra: true,
      baseline: "campaign_30d",
      async run(_store, random, fx) {
        // Campaigns 20k and 20k+1 are the EUR and GBP ones (see scale.ts).
        const index = 20 * pickInt(random, 0, Math.floor((spec.campaigns - 2) / 20)) +
          pickInt(random, 0, 1) + 20;
        const id = campaignId(Math.min(index, spec.campaigns));
        const s = pickInt(random, 0, Math.max(0, spec.days - 30));
        const result = await usd(fx).totals({
          tenantId,
          campaignIds: [id],
          from: day(s),
          to: day(s + 30),
        });
        return {
          params: `${id} ${iso(day(s))}..${iso(day(s + 30))}`,
          rows: result.by_platform.length,
        };
      },
    },
    {
      name: "platform_quarter_usd",
      label: "extra: platform totals, a quarter, in USD (converted)",
      extra: true,
      baseline: "platform_quarter",
      async run(_store, random, fx) {
        const q = pickInt(random, 0, quarters - 1);
        const from = monthStart(3 * q);
        const to = monthStart(Math.min(3 * q + 3, Math.max(months, 1)));
        const result = await usd(fx).totals({ tenantId, from, to });
        return { params: `${iso(from)}..${iso(to)}`, rows: result.by_platform.length };
      },
    },
    {
      name: "platform_series_90d_usd",
      label: "extra: daily series, a platform, 90 days, in USD (converted)",
      extra: true,
      baseline: "platform_series_90d",
      async run(_store, random, fx) {
        const platform = PLATFORMS[pickInt(random, 0, PLATFORMS.length - 1)] as Platform;
        const s = pickInt(random, 0, Math.max(0, spec.days - 90));
        const rows = await usd(fx).series({
          tenantId,
          platforms: [platform],
          from: day(s),
          to: day(s + 90),
        }, "day");
        return { params: `${platform} ${iso(day(s))}..${iso(day(s + 90))}`, rows: rows.length };
      },
    },
    {
      name: "top10_roas_month_usd",
      label: "extra: top 10 campaigns by ROAS, a month, in USD (converted)",
      extra: true,
      baseline: "top10_roas_month",
      async run(_store, random, fx) {
        const m = pickInt(random, 0, Math.max(0, months - 1));
        const from = monthStart(m);
        const to = monthStart(m + 1);
        const rows = await usd(fx).rank({ tenantId, from, to }, {
          groupBy: "campaign",
          metric: "roas",
          order: "desc",
          limit: 10,
        });
        return { params: `${iso(from)}..${iso(to)}`, rows: rows.length };
      },
    },
  ];
}

/**
 * The candidate fix for "top 10 campaigns by ROAS, a month": when the range is exactly
 * one whole UTC month (and no campaign filter), campaign_monthly holds exactly one row
 * per (platform, campaign, currency) for it (its primary key), so the ranking needs no
 * GROUP BY: each row's own ratio is the ratio of sums. Same answer, no aggregation.
 * The score is computed as the store's METRIC_SQL.roas computes it (float8 since
 * migration 3's commit), so that the order, ties included, is the store's.
 */
export const SINGLE_MONTH_RANK_SQL = `
SELECT r.*, c.name AS campaign_name FROM (
  SELECT platform, campaign_id, currency, impressions::text AS impressions,
         clicks::text AS clicks, conversions::text AS conversions, cost::text AS cost,
         revenue::text AS revenue, revenue::float8 / nullif(cost, 0)::float8 AS score
  FROM campaign_monthly
  WHERE tenant_id = $1 AND month = $2::date
  ORDER BY score DESC NULLS LAST, platform, campaign_id, currency
  LIMIT $3::int) r
LEFT JOIN campaigns c ON c.tenant_id = $1 AND c.platform = r.platform
  AND c.campaign_id = r.campaign_id
ORDER BY r.score DESC NULLS LAST, r.platform, r.campaign_id, r.currency`;

export interface CandidateResult {
  query: string;
  change: string;
  runs: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  /** The candidate's answers equal the store's for every month tried. */
  same_answer: boolean;
  explain: string;
}

/** Times SINGLE_MONTH_RANK_SQL over the months of the data and checks it against the store. */
export async function runSingleMonthCandidate(
  driver: SqlDriver,
  spec: ScaleSpec,
  runs: number,
): Promise<CandidateResult> {
  const store = new SqlMetricsStore(driver);
  const first = new Date(`${spec.start}T00:00:00Z`);
  const monthStart = (m: number) =>
    new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + m, 1));
  const end = first.getTime() + spec.days * DAY_MS;
  let months = 0;
  while (monthStart(months + 1).getTime() <= end) months++;
  const timings: number[] = [];
  let same = true;
  const key = (r: Record<string, unknown>) =>
    [
      r.platform,
      r.campaign_id,
      r.currency,
      r.impressions,
      r.clicks,
      r.conversions,
      r.cost,
      r.revenue,
      r.campaign_name,
    ].join("|");
  for (let run = 0; run < runs; run++) {
    const m = (run * 5) % Math.max(1, months); // varied months, as the store's runs
    const month = monthStart(m).toISOString().slice(0, 10);
    const t0 = performance.now();
    const rows = await driver.query<Record<string, unknown>>(SINGLE_MONTH_RANK_SQL, [
      spec.tenant,
      month,
      10,
    ]);
    timings.push(performance.now() - t0);
    if (run < months) {
      const expected = await store.rank({
        tenantId: spec.tenant,
        from: monthStart(m),
        to: monthStart(m + 1),
      }, { groupBy: "campaign", metric: "roas", order: "desc", limit: 10 });
      if (rows.map(key).join("\n") !== expected.map((r) => key(r)).join("\n")) same = false;
    }
  }
  const summary = summarize(timings);
  const explain = await explainAnalyze(driver, {
    text: SINGLE_MONTH_RANK_SQL,
    params: [spec.tenant, monthStart(0).toISOString().slice(0, 10), 10],
  });
  return {
    query: "top10_roas_month",
    change: "rank a single whole month from campaign_monthly rows directly (no GROUP BY)",
    runs: summary.count,
    p50_ms: summary.p50_ms,
    p95_ms: summary.p95_ms,
    max_ms: summary.max_ms,
    same_answer: same,
    explain,
  };
}

export interface QueryResult {
  name: string;
  label: string;
  runs: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  /** null for the extra queries, which have no target. */
  target_p95_ms: number | null;
  met: boolean | null;
  extra: boolean;
  /** A converted query: the unconverted case and p95(this) / p95(that). */
  baseline?: string;
  p95_vs_baseline?: number;
  /** Rows the store returned in the slowest run (sanity: never 0). */
  result_rows: number;
  slowest: { params: string; ms: number; sql: string; sql_params: readonly SqlParam[] };
  explain: string;
}

export async function runQueries(
  driver: SqlDriver,
  spec: ScaleSpec,
  options: { runs: number; extraRuns: number; seed?: number; log?: (line: string) => void },
): Promise<QueryResult[]> {
  const log = options.log ?? (() => {});
  const recorder = recordingDriver(driver);
  const store = new SqlMetricsStore(recorder.driver);
  const fx = new SqlFxStore(recorder.driver);
  // Daily rates (weekdays, base EUR) over the data, for the converted cases.
  const lastDay = new Date(Date.parse(`${spec.start}T00:00:00Z`) + spec.days * DAY_MS);
  await seedFakeRates(fx, spec.tenant, ["EUR", "GBP", "USD"], {
    from: spec.start,
    to: lastDay.toISOString().slice(0, 10),
  });
  const cases = queryCases(spec);
  const random = seededRandom(options.seed ?? 20250101);
  const timings = cases.map(() => [] as number[]);
  const slowest = cases.map(() => ({
    ms: -1,
    params: "",
    rows: 0,
    sql: undefined as Captured | undefined,
  }));
  await driver.query("SELECT 1"); // the connection itself is not what we measure
  for (let run = 0; run < Math.max(options.runs, options.extraRuns); run++) {
    for (const [index, query] of cases.entries()) {
      if (run >= (query.extra && !query.fullRuns ? options.extraRuns : options.runs)) continue;
      const t0 = performance.now();
      const { params, rows } = await query.run(store, random, fx);
      const ms = performance.now() - t0;
      timings[index].push(ms);
      if (ms > slowest[index].ms) slowest[index] = { ms, params, rows, sql: recorder.last() };
    }
  }
  const results: QueryResult[] = [];
  for (const [index, query] of cases.entries()) {
    const summary = summarize(timings[index]);
    const worst = slowest[index];
    const explain = worst.sql ? await explainAnalyze(driver, worst.sql) : "";
    if (summary.count === 0) continue;
    const met = query.extra ? null : summary.p95_ms <= TARGET_P95_MS;
    log(
      `  ${query.name}: p50 ${summary.p50_ms} ms, p95 ${summary.p95_ms} ms ${
        met === null ? "(no target)" : met ? "(met)" : "(MISSED)"
      }`,
    );
    const base = query.baseline
      ? results.find((result) => result.name === query.baseline)
      : undefined;
    if (base) {
      log(`    ${query.name} p95 / ${base.name} p95 = ${round(summary.p95_ms / base.p95_ms)}`);
    }
    results.push({
      ...(base
        ? { baseline: base.name, p95_vs_baseline: round(summary.p95_ms / base.p95_ms) }
        : {}),
      name: query.name,
      label: query.label,
      runs: summary.count,
      mean_ms: summary.mean_ms,
      p50_ms: summary.p50_ms,
      p95_ms: summary.p95_ms,
      max_ms: summary.max_ms,
      target_p95_ms: query.extra ? null : TARGET_P95_MS,
      met,
      extra: query.extra === true,
      result_rows: worst.rows,
      slowest: {
        params: worst.params,
        ms: round(worst.ms),
        sql: worst.sql?.text ?? "",
        sql_params: worst.sql?.params ?? [],
      },
      explain,
    });
  }
  return results;
}

/** EXPLAIN (ANALYZE, BUFFERS) of a captured statement, with its parameters bound. */
export async function explainAnalyze(driver: SqlDriver, captured: Captured): Promise<string> {
  const rows = await driver.query<Record<string, string>>(
    `EXPLAIN (ANALYZE, BUFFERS) ${captured.text}`,
    captured.params,
  );
  return rows.map((row) => Object.values(row)[0]).join("\n");
}
