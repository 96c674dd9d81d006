/**
 * Converted platform totals and series that convert part of the money in SQL, exactly.
 *
 * A rate stored as base = the money's currency, quote = the target is a "direct" rate:
 * amount × rate is an exact NUMERIC product, and a sum of such products is exact too, so
 * the statement can convert that money itself and add it up per group (one row per
 * group and currency instead of one per group, currency and day). It does so only where
 * the conversion of lib/fx/convert.ts (RateBook.factor) is certain to choose that
 * direct rate: the pair has a rate at most MAX_RATE_AGE_DAYS old on the day, and no
 * pair touching the currency has a later one up to the day. Any other way of converting
 * it (the inverse pair, or a cross rate through a third currency) has a leg touching the
 * currency, so it cannot be fresher, and ties go to the direct rate. Every other
 * (currency, day), cross and inverse rates and days without any rate included, is
 * returned per day with the rates it may use, for the exact conversion in JavaScript
 * (which also reports a missing rate). The answer is packed, one row per (platform,
 * currency) with its days as text: decoding hundreds of rows cost more than converting
 * them.
 */
import { MAX_RATE_AGE_DAYS } from "../fx/convert.ts";
import type { Params } from "./sql_queries.ts";

/**
 * The statement over `union` (platform, currency, at = local time, the five measures) of
 * [from, to) in `timeZone`. Answer rows have `kind`:
 * - "sums": platform, currency (the target, or a currency converted by its direct rate
 *   from `source`, on days from `first_day` to `last_day`), and `packed` = tuples "day
 *   impressions clicks conversions cost revenue" joined by ",", the money in the target
 *   currency, day "-" unless `everyDay`;
 * - "days": platform, currency, and `packed` as above, in the currency, per day;
 * - "rates": base, quote, source and `packed` = "day rate" tuples joined by ",": every
 *   rate of a pair touching the target or a currency of the "days" rows, over [first day
 *   - MAX_RATE_AGE_DAYS, last day] (none when there are no "days" rows).
 */
export function directlyConvertedSql(
  union: string,
  params: Params,
  options: {
    tenantId: string;
    target: string;
    timeZone: string;
    from: Date;
    to: Date;
    everyDay: boolean;
  },
): string {
  const t = params.add(options.target);
  const tenant = params.add(options.tenantId);
  const zone = params.add(options.timeZone);
  const from = params.add(options.from.toISOString(), "::timestamptz");
  const to = params.add(options.to.toISOString(), "::timestamptz");
  const converted = `(p.currency = ${t} OR d.rate IS NOT NULL)`;
  const day = options.everyDay
    ? "p.at::date"
    : `CASE WHEN ${converted} THEN NULL ELSE p.at::date END`;
  const money = (column: string) => `sum(p.${column} * coalesce(d.rate, 1)) AS ${column}`;
  return `WITH bounds AS (
    SELECT (${from} AT TIME ZONE ${zone})::date AS first,
           ((${to} - interval '1 microsecond') AT TIME ZONE ${zone})::date AS last),
  rates AS MATERIALIZED (
    SELECT r.base, r.quote, r.day, r.rate, r.source FROM bounds b JOIN fx_rates r
      ON r.tenant_id = ${tenant} AND r.day BETWEEN b.first - ${MAX_RATE_AGE_DAYS} AND b.last),
  candidates AS (SELECT DISTINCT base AS currency FROM rates WHERE quote = ${t}),
  marks AS (
    SELECT c.currency, r.day, false AS is_day,
           max(r.rate) FILTER (WHERE r.base = c.currency AND r.quote = ${t}) AS rate,
           max(r.source) FILTER (WHERE r.base = c.currency AND r.quote = ${t}) AS source
    FROM candidates c JOIN rates r ON r.base = c.currency OR r.quote = c.currency
    GROUP BY 1, 2),
  timeline AS (
    SELECT currency, day, is_day, rate, source,
           count(*) FILTER (WHERE NOT is_day) OVER w AS mark,
           max(day) FILTER (WHERE NOT is_day) OVER w AS latest
    FROM (SELECT * FROM marks
          UNION ALL
          SELECT c.currency, d::date, true, NULL::numeric, NULL::text
          FROM candidates c, bounds b, generate_series(b.first, b.last, interval '1 day') d) t
    WINDOW w AS (PARTITION BY currency ORDER BY day, is_day)),
  direct AS MATERIALIZED (
    SELECT currency, day, rate, latest AS rate_day, source FROM (
      SELECT currency, day, is_day, latest,
             max(rate) OVER m AS rate, max(source) OVER m AS source
      FROM timeline WINDOW m AS (PARTITION BY currency, mark)) x
    WHERE is_day AND rate IS NOT NULL AND latest >= day - ${MAX_RATE_AGE_DAYS}),
  grouped AS MATERIALIZED (
    SELECT p.platform, p.currency, d.source, ${day} AS day,
           min(d.rate_day) AS first_day, max(d.rate_day) AS last_day,
           sum(p.impressions) AS impressions, sum(p.clicks) AS clicks,
           sum(p.conversions) AS conversions, ${money("cost")}, ${money("revenue")}
    FROM (${union}) p
    LEFT JOIN direct d ON d.currency = p.currency AND d.day = p.at::date
    GROUP BY 1, 2, 3, 4),
  left_over AS (
    SELECT array_agg(DISTINCT currency::bpchar) || ${t}::bpchar AS currencies
    FROM grouped WHERE currency <> ${t} AND source IS NULL HAVING count(*) > 0)
  SELECT CASE WHEN currency = ${t} OR source IS NOT NULL THEN 'sums' ELSE 'days' END AS kind,
         platform::text AS platform, currency::text AS currency, NULL::text AS base,
         NULL::text AS quote, source, to_char(min(first_day), 'YYYY-MM-DD') AS first_day,
         to_char(max(last_day), 'YYYY-MM-DD') AS last_day,
         string_agg(concat_ws(' ', coalesce(to_char(day, 'YYYY-MM-DD'), '-'), impressions,
           clicks, conversions, cost, revenue), ',') AS packed
  FROM grouped GROUP BY platform, currency, source
  UNION ALL
  SELECT 'rates', NULL, NULL, r.base::text, r.quote::text, r.source, NULL, NULL,
         string_agg(to_char(r.day, 'YYYY-MM-DD') || ' ' || r.rate::text, ',')
  FROM rates r JOIN left_over o
    ON r.base = ANY(o.currencies) OR r.quote = ANY(o.currencies)
  GROUP BY r.base, r.quote, r.source`;
}
