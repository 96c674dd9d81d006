/**
 * Exchange rates for the fake data: a deterministic daily history, base EUR, for the
 * currencies of the fake accounts, so the demo converts out of the box
 * (`/insights?currency=USD`). Like the ECB reference rates, there are none on Saturdays
 * and Sundays (conversion then uses Friday's). Each day's rate is a function of the day
 * alone (integer arithmetic, no clock, no Math.random), so seeding twice or over
 * overlapping windows stores the same values.
 */
import { daysBetween, shiftDate } from "../lib/dates.ts";
import { unitsToDecimal } from "../lib/decimal.ts";
import type { FxRate } from "../lib/fx/rates.ts";
import { MAX_RATE_AGE_DAYS } from "../lib/fx/convert.ts";
import { mix32 } from "../lib/random.ts";
import type { FxStore } from "../lib/store/fx_store.ts";

/** Euro reference levels in 1/10,000 units (roughly spring 2024). */
const LEVELS: Readonly<Record<string, number>> = {
  USD: 10_850,
  GBP: 8_550,
  JPY: 1_640_000,
  CHF: 9_750,
  CAD: 14_700,
  AUD: 16_500,
};

const PERIOD_DAYS = 64;
const SOURCE = "fake";

/** The fake rate of EUR→quote on a day, as exact decimal text (4 decimals). */
export function fakeRate(quote: string, day: string): string | undefined {
  const level = LEVELS[quote];
  if (level === undefined) return undefined;
  const n = daysBetween("2000-01-01", day);
  // A slow triangle wave of ±1.5 % plus a daily wobble of up to ±0.2 %.
  const phase = ((n % PERIOD_DAYS) + PERIOD_DAYS) % PERIOD_DAYS;
  const wave = (Math.abs(phase - PERIOD_DAYS / 2) - PERIOD_DAYS / 4) * 6 / PERIOD_DAYS; // -1.5..1.5
  const wobble = (mix32(n * 31 + quote.charCodeAt(0) * 7 + quote.charCodeAt(2)) % 41) - 20; // -20..20
  const units = Math.round(level * (1000 + wave * 10 + wobble / 10) / 1000);
  return unitsToDecimal(BigInt(units), 4);
}

function isWeekend(day: string): boolean {
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return weekday === 0 || weekday === 6;
}

/**
 * The fake rates of a window of days (plus the week before it, so its first days have
 * an earlier rate to fall back on), weekdays only.
 */
export function fakeRates(
  currencies: readonly string[],
  window: { from: string; to: string },
): FxRate[] {
  const quotes = [...new Set(currencies)].filter((code) => code !== "EUR" && LEVELS[code]);
  const rates: FxRate[] = [];
  const first = shiftDate(window.from, -MAX_RATE_AGE_DAYS);
  for (let day = first; daysBetween(day, window.to) >= 0; day = shiftDate(day, 1)) {
    if (isWeekend(day)) continue;
    for (const quote of quotes) {
      rates.push({ day, base: "EUR", quote, rate: fakeRate(quote, day)! });
    }
  }
  return rates;
}

/** Stores the fake rates of a window for a tenant; returns how many were written. */
export async function seedFakeRates(
  fx: FxStore,
  tenantId: string,
  currencies: readonly string[],
  window: { from: string; to: string },
): Promise<number> {
  return await fx.upsertRates(tenantId, fakeRates(currencies, window), SOURCE);
}
