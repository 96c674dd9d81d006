/**
 * Currency conversion, exactly. Money is converted per (currency, calendar day) at
 * that day's rate, with exact rational arithmetic (BigInt numerator and denominator):
 * a cross rate such as GBP→USD = (EUR→USD) / (EUR→GBP) or an inverse 1 / (EUR→USD) has
 * no finite decimal, so nothing is rounded until the amount is reported, once, to the
 * target currency's minor unit (half away from zero).
 *
 * Which rate applies on a day: the pair's rate of that day, else its latest earlier rate
 * at most MAX_RATE_AGE_DAYS old. A pair is answered directly (base→quote), inversely
 * (quote→base) or through any third currency the tenant stored rates against (two legs,
 * each direct or inverse); the freshest way wins, ties going to the shortest. A needed
 * rate that cannot be found is a MissingRateError: never a partial or silent sum.
 */
import { z } from "zod";
import { shiftDate } from "../dates.ts";
import { parseDecimal } from "../decimal.ts";
import type { MeasureSumsText } from "../kpi.ts";

/**
 * How old (in days) the latest earlier rate may be when a day has none of its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_RATE_AGE_DAYS } from "@campaign-analytics/core";
 *
 * assert.equal(MAX_RATE_AGE_DAYS, 7);
 * ```
 */
export const MAX_RATE_AGE_DAYS = 7;

/** Fraction digits carried by converted sums before the single rounding at output. */
const CARRIED_DIGITS = 30;

/** Days since 1970-01-01 of a calendar date (YYYY-MM-DD). */
function dayNumber(day: string): number {
  return Math.round(Date.parse(`${day}T00:00:00Z`) / 86_400_000);
}

/** An exact fraction n/d, d > 0. */
export interface Rational {
  n: bigint;
  d: bigint;
}

/** 10^k for the scales money and rates have (computed once: a power per call costs). */
const POWERS_OF_TEN = Array.from({ length: 64 }, (_, k) => 10n ** BigInt(k));

export function decimalToRational(text: string): Rational {
  const { units, scale } = parseDecimal(text);
  return { n: units, d: POWERS_OF_TEN[scale] ?? 10n ** BigInt(scale) };
}

const mul = (a: Rational, b: Rational): Rational => ({ n: a.n * b.n, d: a.d * b.d });
const inverse = (a: Rational): Rational => (a.n < 0n ? { n: -a.d, d: -a.n } : { n: a.d, d: a.n });

/**
 * A rational as decimal text with CARRIED_DIGITS fraction digits, rounded to odd (an
 * inexact result gets an odd last digit): rounding that text once more, to any scale at
 * least two digits shorter, gives exactly what rounding the rational itself would.
 */
export function rationalToText({ n, d }: Rational): string {
  const negative = (n < 0n) !== (d < 0n);
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const scaled = an * 10n ** BigInt(CARRIED_DIGITS);
  let q = scaled / ad;
  if (scaled % ad !== 0n && q % 2n === 0n) q += 1n;
  const digits = q.toString().padStart(CARRIED_DIGITS + 1, "0");
  const whole = digits.slice(0, digits.length - CARRIED_DIGITS);
  const fraction = digits.slice(digits.length - CARRIED_DIGITS).replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && q !== 0n ? `-${text}` : text;
}

export interface StoredRate {
  base: string;
  quote: string;
  day: string;
  rate: string;
  source: string;
}

/**
 * No exchange rate converts `from` into `to` on `day` (nor within the days before).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MissingRateError } from "@campaign-analytics/core";
 *
 * const error = new MissingRateError("GBP", "USD", "2024-05-01");
 * assert.ok(error instanceof Error);
 * assert.equal(error.name, "MissingRateError");
 * assert.equal(error.day, "2024-05-01");
 * ```
 */
export class MissingRateError extends Error {
  /** The request field at fault, for error answers. */
  readonly field = "currency";
  /** The error for converting `from` into `to` on `day`. */
  constructor(readonly from: string, readonly to: string, readonly day: string) {
    super(
      `no ${from}→${to} exchange rate for ${day} (nor in the ${MAX_RATE_AGE_DAYS} days before; ` +
        `store one with POST /fx-rates)`,
    );
    this.name = "MissingRateError";
  }
}

interface Leg {
  day: string;
  rate: Rational;
  source: string;
}

/** One way of converting `from` into `to` on a day. */
export interface Factor {
  rate: Rational;
  /** "direct", "inverse" or "via XXX". */
  path: string;
  /** Oldest and newest day of the rates used. */
  firstDay: string;
  lastDay: string;
  sources: string[];
}

/** The tenant's rates over a window of days, indexed by pair. */
export class RateBook {
  readonly #byPair = new Map<string, { day: string; leg: Leg }[]>();
  readonly #neighbours = new Map<string, Set<string>>();
  readonly #factors = new Map<string, Factor | null>();

  constructor(rates: readonly StoredRate[]) {
    for (const rate of rates) {
      const key = `${rate.base}/${rate.quote}`;
      const leg = {
        day: rate.day,
        leg: { day: rate.day, rate: decimalToRational(rate.rate), source: rate.source },
      };
      const list = this.#byPair.get(key);
      if (list) list.push(leg);
      else this.#byPair.set(key, [leg]);
      for (const [a, b] of [[rate.base, rate.quote], [rate.quote, rate.base]]) {
        const set = this.#neighbours.get(a) ?? new Set<string>();
        set.add(b);
        this.#neighbours.set(a, set);
      }
    }
    for (const list of this.#byPair.values()) list.sort((a, b) => (a.day < b.day ? -1 : 1));
  }

  /** The (direct or inverse) rate of a pair in force on `day`, or undefined. */
  #leg(from: string, to: string, day: string): (Leg & { inverse: boolean }) | undefined {
    const direct = this.#latest(`${from}/${to}`, day);
    const inverted = this.#latest(`${to}/${from}`, day);
    if (direct && (!inverted || direct.day >= inverted.day)) return { ...direct, inverse: false };
    if (inverted) return { ...inverted, rate: inverse(inverted.rate), inverse: true };
    return undefined;
  }

  #latest(key: string, day: string): Leg | undefined {
    const list = this.#byPair.get(key);
    if (!list) return undefined;
    let low = 0;
    let high = list.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (list[mid].day <= day) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    if (found < 0) return undefined;
    const leg = list[found].leg;
    return dayNumber(day) - dayNumber(leg.day) <= MAX_RATE_AGE_DAYS ? leg : undefined;
  }

  /** How one unit of `from` becomes `to` on `day`; null when no rate is close enough. */
  factor(from: string, to: string, day: string): Factor | null {
    const key = `${from}>${to}@${day}`;
    if (this.#factors.has(key)) return this.#factors.get(key)!;
    let best: (Factor & { legs: number }) | null = null;
    const consider = (candidate: Factor & { legs: number }) => {
      if (
        !best || candidate.firstDay > best.firstDay ||
        (candidate.firstDay === best.firstDay && candidate.legs < best.legs)
      ) best = candidate;
    };
    const one = this.#leg(from, to, day);
    if (one) {
      consider({
        rate: one.rate,
        path: one.inverse ? "inverse" : "direct",
        firstDay: one.day,
        lastDay: one.day,
        sources: [one.source],
        legs: 1,
      });
    }
    const vias = [...(this.#neighbours.get(from) ?? [])]
      .filter((via) => via !== to && this.#neighbours.get(to)?.has(via)).sort();
    for (const via of vias) {
      const first = this.#leg(from, via, day);
      const second = first && this.#leg(via, to, day);
      if (!first || !second) continue;
      consider({
        rate: mul(first.rate, second.rate),
        path: `via ${via}`,
        firstDay: first.day < second.day ? first.day : second.day,
        lastDay: first.day < second.day ? second.day : first.day,
        sources: [...new Set([first.source, second.source])],
        legs: 2,
      });
    }
    const chosen: Factor | null = best
      ? (({ legs: _legs, ...factor }: Factor & { legs: number }) => factor)(best)
      : null;
    this.#factors.set(key, chosen);
    return chosen;
  }
}

/** What a converted answer says about its conversion. */
export const FxInfoSchema = z.object({
  currency: z.string().describe("the target (reporting) currency"),
  converted: z.array(z.object({
    from: z.string(),
    paths: z.array(z.string()).describe('"direct", "inverse" or "via EUR" (a cross rate)'),
  })).describe("source currencies whose money was converted"),
  rate_days: z.object({ first: z.string(), last: z.string() }).nullable()
    .describe("the oldest and newest day of the rates used; null when nothing was converted"),
  rate_sources: z.array(z.string()).describe("where the rates came from (api, csv, fake, ...)"),
});
export type FxInfo = z.infer<typeof FxInfoSchema>;

/** Sums of one output group in the target currency, built term by term. */
export class Accumulator {
  impressions = 0n;
  clicks = 0n;
  conversions: Rational = { n: 0n, d: 1n };
  /** Money per factor key: decimal sums first, one multiplication per distinct rate. */
  readonly #money = new Map<string, { factor: Rational; cost: Rational; revenue: Rational }>();

  add(sums: MeasureSumsText, factorKey: string, factor: Rational): void {
    this.impressions += BigInt(sums.impressions);
    this.clicks += BigInt(sums.clicks);
    this.conversions = addDecimal(this.conversions, sums.conversions);
    const entry = this.#money.get(factorKey);
    if (entry) {
      entry.cost = addDecimal(entry.cost, sums.cost);
      entry.revenue = addDecimal(entry.revenue, sums.revenue);
    } else {
      this.#money.set(factorKey, {
        factor,
        cost: decimalToRational(sums.cost),
        revenue: decimalToRational(sums.revenue),
      });
    }
  }

  /** Adds everything another accumulator holds (same target currency). */
  merge(other: Accumulator): void {
    this.impressions += other.impressions;
    this.clicks += other.clicks;
    this.conversions = addRational(this.conversions, other.conversions);
    for (const [key, entry] of other.#money) {
      const mine = this.#money.get(key);
      if (mine) {
        mine.cost = addRational(mine.cost, entry.cost);
        mine.revenue = addRational(mine.revenue, entry.revenue);
      } else this.#money.set(key, { ...entry });
    }
  }

  /** Exact sums in the target currency (money carried to CARRIED_DIGITS, rounded to odd). */
  sums(): MeasureSumsText {
    const entries = [...this.#money.values()];
    return {
      impressions: this.impressions.toString(),
      clicks: this.clicks.toString(),
      conversions: rationalToText(this.conversions),
      cost: sumOfProducts(entries.map((entry) => [entry.cost, entry.factor])),
      revenue: sumOfProducts(entries.map((entry) => [entry.revenue, entry.factor])),
    };
  }
}

/** Guard digits of the fast path: each term is truncated at 10^-GUARD_DIGITS. */
const GUARD_DIGITS = 45;
const GUARD_SCALE = 10n ** BigInt(GUARD_DIGITS);
const CARRY_STEP = 10n ** BigInt(GUARD_DIGITS - CARRIED_DIGITS);

/**
 * Σ amount × factor as rationalToText would write the exact sum. Fast path: each term
 * truncated toward −∞ at 10^-45 (small BigInts, no common denominator), so the exact sum
 * lies in [S, S + k) × 10^-45 for k inexact terms; when that interval decides the carried
 * text (it does unless the sum sits within k × 10^-45 of a 10^-30 boundary), that text is
 * exact. Otherwise the exact rational sum is computed.
 */
function sumOfProducts(terms: readonly (readonly [Rational, Rational])[]): string {
  let sum = 0n;
  let inexact = 0n;
  for (const [amount, factor] of terms) {
    const n = amount.n * factor.n * GUARD_SCALE;
    const d = amount.d * factor.d;
    let q = n / d;
    const r = n % d;
    if (r !== 0n) {
      inexact += 1n;
      if (r < 0n) q -= 1n; // toward −∞, so that the exact term is in [q, q + 1)
    }
    sum += q;
  }
  if (inexact === 0n) return rationalToText({ n: sum, d: GUARD_SCALE });
  const floorDiv = (a: bigint, b: bigint) => (a < 0n && a % b !== 0n ? a / b - 1n : a / b);
  const low = floorDiv(sum, CARRY_STEP);
  if (sum >= 0n && sum % CARRY_STEP !== 0n && floorDiv(sum + inexact, CARRY_STEP) === low) {
    // The exact sum is strictly between two carried values: the lower one, made odd.
    const carried = low % 2n === 0n ? low + 1n : low;
    return rationalToText({ n: carried, d: 10n ** BigInt(CARRIED_DIGITS) });
  }
  let exact: Rational = { n: 0n, d: 1n };
  for (const [amount, factor] of terms) exact = addRational(exact, mul(amount, factor));
  return rationalToText(exact);
}

function addRational(a: Rational, b: Rational): Rational {
  if (a.d === b.d) return { n: a.n + b.n, d: a.d };
  if (a.d > b.d && a.d % b.d === 0n) return { n: a.n + b.n * (a.d / b.d), d: a.d };
  if (b.d > a.d && b.d % a.d === 0n) return { n: a.n * (b.d / a.d) + b.n, d: b.d };
  return { n: a.n * b.d + b.n * a.d, d: a.d * b.d };
}

function addDecimal(a: Rational, text: string): Rational {
  return addRational(a, decimalToRational(text));
}

/** A row of sums in one currency on one day (day null: no conversion needed). */
export interface DaySums extends MeasureSumsText {
  currency: string;
  day: string | null;
}

/**
 * Converts rows into the target currency and records what was used. Same-currency money
 * is never touched (factor 1); every other row needs a rate for its day.
 */
export class Converter {
  readonly #used = new Map<string, Set<string>>();
  readonly #sources = new Set<string>();
  #firstDay: string | undefined;
  #lastDay: string | undefined;
  static readonly ONE: Rational = { n: 1n, d: 1n };

  constructor(readonly target: string) {}

  /** Adds a row to an accumulator, converting its money at its day's rate from `book`. */
  add(into: Accumulator, row: DaySums, book: RateBook): void {
    if (row.currency === this.target) {
      into.add(row, "=", Converter.ONE);
      return;
    }
    if (row.day === null) {
      throw new Error(`a ${row.currency} row without its day cannot be converted`);
    }
    into.add(row, `${row.currency}@${row.day}`, this.rate(row.currency, row.day, book));
  }

  /**
   * What one unit of `currency` on `day` is worth in the target, from `book`, recorded
   * as used; a MissingRateError when no rate is close enough.
   */
  rate(currency: string, day: string, book: RateBook): Rational {
    const key = `${currency}@${day}`;
    // Many rows share a (currency, day): its rate is looked up and recorded once.
    let rate = this.#rates.get(key);
    if (!rate || rate.book !== book) {
      const factor = book.factor(currency, this.target, day);
      if (!factor) throw new MissingRateError(currency, this.target, day);
      this.#record(currency, factor);
      rate = { book, rate: factor.rate };
      this.#rates.set(key, rate);
    }
    return rate.rate;
  }

  readonly #rates = new Map<string, { book: RateBook; rate: Rational }>();

  /**
   * Records money of `currency` converted elsewhere (exactly, by the database) at that
   * pair's direct rates, stored on days in [firstDay, lastDay] and coming from `sources`.
   */
  recordDirect(
    currency: string,
    used: { firstDay: string; lastDay: string; sources: readonly string[] },
  ): void {
    this.#record(currency, { path: "direct", ...used });
  }

  #record(
    currency: string,
    factor: Omit<Factor, "rate" | "sources"> & {
      sources: readonly string[];
    },
  ): void {
    const paths = this.#used.get(currency) ?? new Set<string>();
    paths.add(factor.path);
    this.#used.set(currency, paths);
    for (const source of factor.sources) this.#sources.add(source);
    if (!this.#firstDay || factor.firstDay < this.#firstDay) this.#firstDay = factor.firstDay;
    if (!this.#lastDay || factor.lastDay > this.#lastDay) this.#lastDay = factor.lastDay;
  }

  info(): FxInfo {
    return {
      currency: this.target,
      converted: [...this.#used].sort(([a], [b]) => (a < b ? -1 : 1)).map(([from, paths]) => ({
        from,
        paths: [...paths].sort(),
      })),
      rate_days: this.#firstDay && this.#lastDay
        ? { first: this.#firstDay, last: this.#lastDay }
        : null,
      rate_sources: [...this.#sources].sort(),
    };
  }
}

/** The first day whose rates a conversion over [firstDay, lastDay] may need. */
export function rateWindowStart(firstDay: string): string {
  return shiftDate(firstDay, -MAX_RATE_AGE_DAYS);
}
