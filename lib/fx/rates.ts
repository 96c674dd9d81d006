/**
 * Exchange rates as the system stores them: one unit of `base` is `rate` units of
 * `quote` on a calendar day, per tenant. Rates arrive as JSON objects or as CSV in the
 * layout of the ECB euro reference-rate history (`Date` then one column per currency,
 * base EUR, `N/A` where there is no value); both are validated here, row by row, and a
 * bad row is reported with its index (its line number for CSV), never dropped silently.
 */
import { z } from "zod";
import { isCalendarDate } from "../dates.ts";
import { numberToDecimalText } from "../decimal.ts";
import { CurrencySchema, type RowRejection } from "../schema.ts";

const RATE_TEXT = /^\d{1,15}(\.\d{1,18})?$/;

/** A positive, finite exact decimal ("1.0731"); numbers are taken as written. */
export const RateSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = typeof value === "number" ? numberToDecimalText(value) : value.trim();
  if (!RATE_TEXT.test(text)) {
    ctx.addIssue({
      code: "custom",
      message: "expected a positive finite decimal (at most 15 integer and 18 fraction digits)",
    });
    return z.NEVER;
  }
  if (/^[0.]+$/.test(text)) {
    ctx.addIssue({ code: "custom", message: "a rate must be greater than zero" });
    return z.NEVER;
  }
  return text;
});

export const FxDaySchema = z.string().refine(isCalendarDate, "expected a calendar date YYYY-MM-DD");

/** One rate as sent to `POST /fx-rates`. */
export const FxRateInputSchema = z.object({
  date: FxDaySchema,
  base: CurrencySchema,
  quote: CurrencySchema,
  rate: RateSchema,
}).refine((rate) => rate.base !== rate.quote, {
  message: "base and quote must differ",
  path: ["quote"],
});
export type FxRateInput = z.input<typeof FxRateInputSchema>;

/** A validated rate. */
export interface FxRate {
  /** The calendar day the rate is for (YYYY-MM-DD). */
  day: string;
  /** The currency of which one unit is priced. */
  base: string;
  /** The currency the price is in. */
  quote: string;
  /** Exact decimal text. */
  rate: string;
}

/** A stored rate, with where it came from. */
export const StoredFxRateSchema = z.object({
  date: z.string(),
  base: z.string(),
  quote: z.string(),
  rate: z.string(),
  source: z.string(),
});
export type StoredFxRate = z.infer<typeof StoredFxRateSchema>;

/** Validated rates and the refused ones, each with its index (or CSV line number). */
export interface ParsedRates {
  /** The valid rates. */
  rates: FxRate[];
  /** The refused rows, with why. */
  rejected: RowRejection[];
}

function rejection(index: number, issue: z.core.$ZodIssue): RowRejection {
  return {
    index,
    field: issue.path.length ? issue.path.join(".") : "row",
    error: issue.message,
  };
}

/**
 * Validates JSON rate objects one by one (index = position in the array).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateRates } from "@campaign-analytics/core";
 *
 * const { rates, rejected } = validateRates([
 *   { date: "2024-05-02", base: "EUR", quote: "USD", rate: "1.0715" },
 *   { date: "2024-05-02", base: "EUR", quote: "EUR", rate: 1 },
 * ]);
 * assert.deepEqual(rates, [{ day: "2024-05-02", base: "EUR", quote: "USD", rate: "1.0715" }]);
 * assert.equal(rejected[0].index, 1); // base and quote must differ
 * ```
 */
export function validateRates(items: readonly unknown[]): ParsedRates {
  const rates: FxRate[] = [];
  const rejected: RowRejection[] = [];
  items.forEach((item, index) => {
    const parsed = FxRateInputSchema.safeParse(item);
    if (!parsed.success) {
      rejected.push(rejection(index, parsed.error.issues[0]));
      return;
    }
    const { date, base, quote, rate } = parsed.data;
    rates.push({ day: date, base, quote, rate });
  });
  return { rates, rejected };
}

/** Splits one CSV line (quotes allowed, as spreadsheets write them). */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      cells.push(current.trim());
      current = "";
    } else current += ch;
  }
  cells.push(current.trim());
  return cells;
}

const MISSING = new Set(["N/A", "NA", "#N/A", ""]);

/**
 * Rates from CSV in the ECB history layout: a header `Date,USD,JPY,...` (the ECB file
 * ends every line with a comma: empty columns are ignored), then one line per day with
 * the units of each currency one euro buys. `N/A` and empty cells mean "no rate". A
 * malformed line is rejected as a whole with its line number (the header is line 1);
 * a header column that is not a real ISO 4217 code is reported once and skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEcbCsv } from "@campaign-analytics/core";
 *
 * const csv = "Date,USD,JPY\n2024-05-02,1.0715,164.31\n2024-05-01,N/A,166.0\n";
 * const { rates, rejected } = parseEcbCsv(csv);
 * assert.deepEqual(rates.map((r) => `${r.day} ${r.quote} ${r.rate}`), [
 *   "2024-05-02 USD 1.0715",
 *   "2024-05-02 JPY 164.31",
 *   "2024-05-01 JPY 166.0",
 * ]);
 * assert.deepEqual(rejected, []);
 * ```
 */
export function parseEcbCsv(text: string, base = "EUR"): ParsedRates {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const rates: FxRate[] = [];
  const rejected: RowRejection[] = [];
  const headerIndex = lines.findIndex((line) => line.trim() !== "");
  if (headerIndex < 0) {
    return { rates, rejected: [{ index: 1, field: "Date", error: "empty CSV" }] };
  }
  const header = csvCells(lines[headerIndex]);
  if (header[0]?.toLowerCase() !== "date") {
    rejected.push({
      index: headerIndex + 1,
      field: "Date",
      error: 'the first column must be "Date"',
    });
    return { rates, rejected };
  }
  const columns: (string | null)[] = header.map((name, column) => {
    if (column === 0 || name === "") return null;
    const code = CurrencySchema.safeParse(name);
    if (!code.success) {
      rejected.push({ index: headerIndex + 1, field: name, error: code.error.issues[0].message });
      return null;
    }
    if (code.data === base) return null;
    return code.data;
  });
  for (let i = headerIndex + 1; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const lineNumber = i + 1;
    const cells = csvCells(lines[i]);
    const day = cells[0];
    if (!FxDaySchema.safeParse(day).success) {
      rejected.push({ index: lineNumber, field: "Date", error: `not a calendar date: "${day}"` });
      continue;
    }
    if (cells.length > header.length && cells.slice(header.length).some((cell) => cell !== "")) {
      rejected.push({
        index: lineNumber,
        field: "row",
        error: `${cells.length} cells, but the header has ${header.length} columns`,
      });
      continue;
    }
    const lineRates: FxRate[] = [];
    let bad: RowRejection | undefined;
    for (let column = 1; column < cells.length && !bad; column++) {
      const quote = columns[column];
      const cell = cells[column];
      if (!quote || MISSING.has(cell.toUpperCase())) continue;
      const rate = RateSchema.safeParse(cell);
      if (!rate.success) {
        bad = {
          index: lineNumber,
          field: quote,
          error: `"${cell}": ${rate.error.issues[0].message}`,
        };
      } else lineRates.push({ day, base, quote, rate: rate.data });
    }
    if (bad) rejected.push(bad);
    else rates.push(...lineRates);
  }
  return { rates, rejected };
}
