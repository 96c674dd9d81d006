/**
 * The read queries of the insights API, answered in one target currency: the store's
 * per-(group, currency, day) sums (lib/store/fx_store.ts), the tenant's rates for
 * those days, and exact conversion (convert.ts). The results have the shapes of the
 * unconverted store's answers with every row in the target currency, so the handlers
 * present them with the same code. One instance serves one request and collects what
 * its conversions used (`info()`).
 */
import { compareDecimals } from "../decimal.ts";
import { computeMetrics, type MeasureSumsText } from "../kpi.ts";
import { MEASURES, type MetricName } from "../schema.ts";
import type {
  CampaignSummary,
  RankOptions,
  RankRow,
  Selection,
  SeriesRow,
  TotalsResult,
} from "../store/metrics_store.ts";
import type { CurrencyDayFactor, DayRow, FxStore } from "../store/fx_store.ts";
import {
  Accumulator,
  Converter,
  type FxInfo,
  RateBook,
  rateWindowStart,
  rationalToText,
} from "./convert.ts";

const MEASURE_NAMES: ReadonlySet<string> = new Set(MEASURES);

/** The first day of the bucket (ISO week starts on Monday) a calendar day falls in. */
export function bucketOf(day: string, granularity: "day" | "week" | "month"): string {
  if (granularity === "day") return day;
  if (granularity === "month") return `${day.slice(0, 7)}-01`;
  const date = new Date(`${day}T00:00:00Z`);
  const back = (date.getUTCDay() + 6) % 7;
  return new Date(date.getTime() - back * 86_400_000).toISOString().slice(0, 10);
}

export class ConvertedQueries {
  readonly #converter: Converter;

  constructor(
    private readonly fx: FxStore,
    readonly target: string,
    private readonly timeZone: string,
  ) {
    this.#converter = new Converter(target);
  }

  /** What the conversions of this instance used. */
  info(): FxInfo {
    return this.#converter.info();
  }

  /** Rates for the days of the rows that need one (none when all are in the target). */
  async #book(tenantId: string, rows: readonly DayRow[]): Promise<RateBook> {
    let first: string | undefined;
    let last: string | undefined;
    for (const row of rows) {
      if (row.currency === this.target || row.day === null) continue;
      if (!first || row.day < first) first = row.day;
      if (!last || row.day > last) last = row.day;
    }
    if (!first || !last) return new RateBook([]);
    return new RateBook(await this.fx.ratesBetween(tenantId, rateWindowStart(first), last));
  }

  /**
   * The per-day sums of a selection and the rates they need, from one statement: only
   * the pairs and days the foreign rows can use, and no rate when all is in the target.
   */
  async #read(
    selection: Selection,
    everyDay: boolean,
  ): Promise<{ rows: DayRow[]; book: RateBook }> {
    const { rows, rates } = await this.fx.platformDays(
      selection,
      this.timeZone,
      this.target,
      everyDay,
    );
    return { rows, book: new RateBook(rates) };
  }

  /**
   * Sums of a selection in the target currency as far as the statement converted them
   * (direct rates, exactly), the per-day rows left and their rates, from one statement;
   * the directly converted currencies are recorded as used.
   */
  async #readConverted(
    selection: Selection,
    everyDay: boolean,
  ): Promise<{ rows: DayRow[]; book: RateBook }> {
    const { rows, rates, direct } = await this.fx.convertedPlatformSums(
      selection,
      this.timeZone,
      this.target,
      everyDay,
    );
    for (const { currency, firstDay, lastDay, source } of direct) {
      this.#converter.recordDirect(currency, { firstDay, lastDay, sources: [source] });
    }
    return { rows, book: new RateBook(rates) };
  }

  /** Folds rows into one accumulator per key, converting as it goes. */
  #fold(
    rows: readonly DayRow[],
    book: RateBook,
    keyOf: (row: DayRow) => string,
  ): Map<string, { row: DayRow; sums: Accumulator }> {
    const groups = new Map<string, { row: DayRow; sums: Accumulator }>();
    for (const row of rows) {
      const key = keyOf(row);
      let group = groups.get(key);
      if (!group) groups.set(key, group = { row, sums: new Accumulator() });
      this.#converter.add(group.sums, row, book);
    }
    return groups;
  }

  async totals(selection: Selection): Promise<TotalsResult> {
    const { rows, book } = await this.#readConverted(selection, false);
    const groups = this.#fold(rows, book, (row) => row.platform);
    const currency = this.target;
    const overall = new Accumulator();
    for (const group of groups.values()) overall.merge(group.sums);
    return {
      totals: groups.size ? [{ currency, ...overall.sums() }] : [],
      by_platform: [...groups.values()]
        .sort((a, b) => (a.row.platform < b.row.platform ? -1 : 1))
        .map(({ row, sums }) => ({ platform: row.platform, currency, ...sums.sums() })),
    };
  }

  async series(
    selection: Selection,
    granularity: "day" | "week" | "month",
  ): Promise<SeriesRow[]> {
    const { rows, book } = await this.#readConverted(selection, true);
    const groups = this.#fold(rows, book, (row) => bucketOf(row.day!, granularity));
    return [...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([bucket, { sums }]) => ({
      bucket,
      currency: this.target,
      ...sums.sums(),
    }));
  }

  async rank(selection: Selection, options: RankOptions): Promise<RankRow[]> {
    if (options.groupBy !== "campaign") {
      const { rows, book } = await this.#read(selection, false);
      return this.#ranked(rows, book, options, false, new Map());
    }
    // Every (currency, day) with money to convert and the rates: each day's rate checked
    // (422 when one is missing) and recorded, then given to the ranking's SQL.
    const { days, rates } = await this.fx.foreignDays(selection, this.timeZone, this.target);
    const book = new RateBook(rates);
    const factors: CurrencyDayFactor[] = days.map(({ currency, day }) => ({
      currency,
      day,
      factor: rationalToText(this.#converter.rate(currency, day, book)),
    }));
    const ranked = await this.fx.rankCampaigns(
      selection,
      this.timeZone,
      this.target,
      factors,
      options,
    );
    const { top } = ranked;
    const wanted = new Set(top.map((key) => `${key.platform}/${key.campaign_id}`));
    const ids = [...new Set(top.map((key) => key.campaign_id))];
    // The answer is these campaigns (in an order the exact sums decide): their rows and
    // names came with the ranking, or are read side by side.
    const [named, read] = ranked.rows && ranked.names
      ? [ranked.names, ranked.rows]
      : await Promise.all([
        this.fx.campaignNames(selection.tenantId, top),
        ids.length === 0 ? [] : this.fx.campaignDays(
          { ...selection, campaignIds: ids },
          this.timeZone,
          this.target,
          [...new Set(factors.map((factor) => factor.currency))],
        ),
      ]);
    const rows = read.filter((row) => wanted.has(`${row.platform}/${row.campaign_id}`));
    return this.#ranked(rows, book, options, true, named);
  }

  /** The first `limit` groups of the rows by the metric of their converted sums. */
  #ranked(
    rows: readonly DayRow[],
    book: RateBook,
    options: RankOptions,
    byCampaign: boolean,
    names: ReadonlyMap<string, string>,
  ): RankRow[] {
    const groups = this.#fold(
      rows,
      book,
      (row) => `${row.platform}/${byCampaign ? row.campaign_id : ""}`,
    );
    const scored = [...groups.values()].map(({ row, sums }) => {
      const totals = sums.sums();
      return { row, totals, score: scoreOf(options.metric, totals) };
    });
    const direction = options.order === "asc" ? 1 : -1;
    scored.sort((a, b) => {
      const byScore = compareScores(a.score, b.score, direction);
      if (byScore !== 0) return byScore;
      if (a.row.platform !== b.row.platform) return a.row.platform < b.row.platform ? -1 : 1;
      return (a.row.campaign_id ?? "") < (b.row.campaign_id ?? "") ? -1 : 1;
    });
    const top = scored.slice(0, options.limit);
    return top.map(({ row, totals }) => ({
      platform: row.platform,
      campaign_id: byCampaign ? row.campaign_id : null,
      campaign_name: byCampaign ? names.get(`${row.platform}/${row.campaign_id}`) ?? null : null,
      currency: this.target,
      ...totals,
    }));
  }

  /** Campaign summaries with their lifetime totals converted (one row each, in the target). */
  async lifetimes(tenantId: string, campaigns: CampaignSummary[]): Promise<CampaignSummary[]> {
    const foreign = campaigns.filter((campaign) =>
      campaign.lifetime.some((sums) => sums.currency.trim() !== this.target)
    );
    const days = await this.fx.campaignLifetimeDays(tenantId, foreign, this.timeZone, this.target);
    const same: DayRow[] = campaigns.flatMap((campaign) =>
      campaign.lifetime.filter((sums) => sums.currency.trim() === this.target).map((sums) => ({
        ...sums,
        currency: this.target,
        platform: campaign.platform,
        campaign_id: campaign.campaign_id,
        day: null,
      }))
    );
    const all = [...same, ...days];
    const groups = this.#fold(
      all,
      await this.#book(tenantId, all),
      (row) => `${row.platform}/${row.campaign_id}`,
    );
    return campaigns.map((campaign) => {
      const group = groups.get(`${campaign.platform}/${campaign.campaign_id}`);
      const sums = group ? group.sums.sums() : new Accumulator().sums();
      return { ...campaign, lifetime: [{ currency: this.target, ...sums }] };
    });
  }
}

type Score = { exact: string } | { ratio: number | null };

function scoreOf(metric: MetricName, sums: MeasureSumsText): Score {
  if (MEASURE_NAMES.has(metric)) return { exact: sums[metric as keyof MeasureSumsText] };
  return { ratio: computeMetrics(sums)[metric as keyof ReturnType<typeof computeMetrics>] };
}

/** Orders by score in `direction` (1 ascending, -1 descending), nulls last either way. */
function compareScores(a: Score, b: Score, direction: number): number {
  if ("exact" in a && "exact" in b) return direction * compareDecimals(a.exact, b.exact);
  const left = "ratio" in a ? a.ratio : null;
  const right = "ratio" in b ? b.ratio : null;
  if (left === null || right === null) return left === right ? 0 : left === null ? 1 : -1;
  return left === right ? 0 : direction * (left < right ? -1 : 1);
}
