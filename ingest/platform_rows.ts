/**
 * Small pieces every platform connector uses to turn a wire row into a unified row
 * (lib/schema.ts MetricRowSchema) without ever throwing: a value the connector cannot
 * read is passed on as it came, so the processor's validation rejects that one row and
 * dead-letters it with its payload, while the rest of the batch is stored.
 */
import type { Logger } from "../lib/log.ts";
import { isCalendarDate, isValidTimeZone, startOfDayIn } from "../lib/dates.ts";
import { numberToDecimalText } from "../lib/decimal.ts";

/** An id as text: a non-blank string or a safe integer; anything else is "absent". */
export function wireId(value: unknown): string | undefined {
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** Optional free text (names, statuses). */
export function wireText(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * A count or an amount as the validator expects it. Absent means zero (platforms leave
 * zero-valued fields out, Google's proto3 JSON above all); a string stays a string; a
 * JSON number becomes its exact decimal text; anything else is passed on to be rejected.
 */
export function wireMeasure(value: unknown): unknown {
  if (value === undefined || value === null) return "0";
  if (typeof value === "string") return value.trim();
  if (typeof value === "number") return numberToDecimalText(value);
  return value;
}

/**
 * The instant a report day starts in the account's zone, as an ISO string; a value that
 * is not a calendar date is passed on unchanged for the validator to reject.
 */
export function dayStart(date: unknown, zone: string): unknown {
  if (typeof date !== "string" || !isCalendarDate(date)) return date;
  return startOfDayIn(date, zone).toISOString();
}

/** "UTC+8", "GMT-05:30" → "+08:00", "-05:30" (Intl accepts offset zones). */
function offsetZone(text: string): string | undefined {
  const match = /^(?:UTC|GMT)\s*([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(text.trim());
  if (!match) return undefined;
  const [, sign, hours, minutes = "00"] = match;
  return `${sign}${hours.padStart(2, "0")}:${minutes}`;
}

/**
 * The account's IANA time zone: the first candidate that is a valid zone (offset forms
 * such as "UTC+8" are accepted). Without one, days are read as UTC and that is logged,
 * because every row's instant then rests on a guess.
 */
export function resolveTimeZone(
  candidates: readonly unknown[],
  logger: Logger,
  context: Record<string, unknown>,
): { zone: string; known: boolean } {
  for (const candidate of candidates) {
    if (typeof candidate !== "string" || candidate.trim() === "") continue;
    const zone = candidate.trim();
    if (isValidTimeZone(zone)) return { zone, known: true };
    const offset = offsetZone(zone);
    if (offset && isValidTimeZone(offset)) return { zone: offset, known: true };
  }
  logger.warn("account time zone unknown; reading report days as UTC", {
    ...context,
    candidates: candidates.filter((candidate) => typeof candidate === "string"),
  });
  return { zone: "UTC", known: false };
}
