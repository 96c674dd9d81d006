/**
 * Exact decimal arithmetic on strings, backed by BigInt. Money and fractional
 * conversions travel as decimal strings from the wire to SQL NUMERIC and back; this
 * module covers the few operations JavaScript code needs on them (parse, add,
 * scale, round) without ever going through a binary float.
 */

/** A decimal as an integer `units` scaled by 10^-scale: 12.30 = { units: 1230n, scale: 2 }. */
export interface Decimal {
  /** The digits as an integer. */
  readonly units: bigint;
  /** How many of them are fraction digits. */
  readonly scale: number;
}

const DECIMAL_TEXT = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * Parses decimal text ("-12.30") exactly; throws a RangeError on anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDecimal } from "@campaign-analytics/core";
 *
 * assert.deepEqual(parseDecimal("12.30"), { units: 1230n, scale: 2 });
 * ```
 */
export function parseDecimal(text: string): Decimal {
  const match = DECIMAL_TEXT.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal: "${text}"`);
  const [, sign, whole, fraction = ""] = match;
  const units = BigInt(whole + fraction);
  return { units: sign === "-" ? -units : units, scale: fraction.length };
}

export function decimalToString({ units, scale }: Decimal): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? "." + digits.slice(digits.length - scale) : "";
  return (negative ? "-" : "") + whole + fraction;
}

function rescale(value: Decimal, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

/**
 * The exact sum of decimal strings, at the largest scale among them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sumDecimals } from "@campaign-analytics/core";
 *
 * assert.equal(sumDecimals(["0.1", "0.2"]), "0.3");
 * ```
 */
export function sumDecimals(values: Iterable<string>): string {
  let units = 0n;
  let scale = 0;
  for (const text of values) {
    const value = parseDecimal(text);
    if (value.scale > scale) {
      units *= 10n ** BigInt(value.scale - scale);
      scale = value.scale;
    }
    units += rescale(value, scale);
  }
  return decimalToString({ units, scale });
}

/**
 * Rounds half away from zero to `scale` fraction digits ("2.345" → "2.35" at 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roundDecimal } from "@campaign-analytics/core";
 *
 * assert.equal(roundDecimal("2.345", 2), "2.35");
 * assert.equal(roundDecimal("2", 2), "2.00");
 * ```
 */
export function roundDecimal(text: string, scale: number): string {
  const value = parseDecimal(text);
  if (value.scale <= scale) return decimalToString({ units: rescale(value, scale), scale });
  const divisor = 10n ** BigInt(value.scale - scale);
  const magnitude = value.units < 0n ? -value.units : value.units;
  let rounded = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) rounded += 1n;
  return decimalToString({ units: value.units < 0n ? -rounded : rounded, scale });
}

/**
 * Integer `units` of 10^-scale as a decimal string: (1234567n, 6) → "1.234567".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unitsToDecimal } from "@campaign-analytics/core";
 *
 * assert.equal(unitsToDecimal(1230n, 2), "12.30");
 * ```
 */
export function unitsToDecimal(units: bigint | string, scale: number): string {
  return decimalToString({ units: BigInt(units), scale });
}

/** A decimal string as integer units of 10^-scale, rounding half away from zero. */
export function decimalToUnits(text: string, scale: number): bigint {
  return parseDecimal(roundDecimal(text, scale)).units;
}

/**
 * Removes trailing fraction zeros: "12.500" → "12.5", "3.000" → "3".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeDecimal } from "@campaign-analytics/core";
 *
 * assert.equal(normalizeDecimal("012.300"), "12.3");
 * ```
 */
export function normalizeDecimal(text: string): string {
  const canonical = decimalToString(parseDecimal(text));
  return canonical.includes(".") ? canonical.replace(/\.?0+$/, "") : canonical;
}

/**
 * Compares two decimal texts exactly: negative, zero or positive, like a sort comparator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareDecimals } from "@campaign-analytics/core";
 *
 * assert.ok(compareDecimals("10.5", "9.99") > 0);
 * assert.equal(compareDecimals("1.0", "1"), 0);
 * ```
 */
export function compareDecimals(a: string, b: string): number {
  const left = parseDecimal(a);
  const right = parseDecimal(b);
  const scale = Math.max(left.scale, right.scale);
  const difference = rescale(left, scale) - rescale(right, scale);
  return difference === 0n ? 0 : difference < 0n ? -1 : 1;
}

/**
 * The exact decimal text of a JSON number, from its shortest round-trip representation
 * (which is what the sender wrote): 12.34 → "12.34", 1.5e-7 → "0.00000015". No float
 * arithmetic is involved; exponent forms are expanded by moving the decimal point.
 */
export function numberToDecimalText(value: number): string {
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/i.exec(text);
  if (!match) return text; // plain form, or NaN/Infinity (left for validation to reject)
  const [, sign, whole, fraction = "", exponentText] = match;
  const digits = (whole + fraction).replace(/^0+(?=\d)/, "");
  const point = whole.length + Number(exponentText);
  let result: string;
  if (point <= 0) result = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) result = digits + "0".repeat(point - digits.length);
  else result = `${digits.slice(0, point)}.${digits.slice(point)}`;
  if (result.includes(".")) result = result.replace(/0+$/, "").replace(/\.$/, "");
  return sign + result;
}
