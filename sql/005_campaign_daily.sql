-- Per campaign, ad account, currency and UTC day: rankings and totals over ranges that
-- are not whole months ("the last 30 days", a quarter starting mid-month, 45 days in
-- New York) read one row per campaign-day for the whole UTC days inside the range,
-- the monthly rollup for the whole months, and raw rows only for the hours at the edges.
-- Maintained by the store's upsert in the same statement as the raw rows (deltas on
-- restatement, like campaign_monthly and platform_hourly).
CREATE TABLE campaign_daily (
  tenant_id    text    NOT NULL,
  day          date    NOT NULL,
  platform     text    NOT NULL,
  account_id   text    NOT NULL,
  campaign_id  text    NOT NULL,
  currency     char(3) NOT NULL,
  impressions  bigint  NOT NULL,
  clicks       bigint  NOT NULL,
  conversions  numeric NOT NULL,
  cost         numeric NOT NULL,
  revenue      numeric NOT NULL,
  -- Day first: "every campaign over these days" is one contiguous index range.
  PRIMARY KEY (tenant_id, day, platform, campaign_id, account_id, currency)
);

INSERT INTO campaign_daily (tenant_id, day, platform, account_id, campaign_id, currency,
  impressions, clicks, conversions, cost, revenue)
SELECT tenant_id, (ts AT TIME ZONE 'UTC')::date, platform, account_id, campaign_id, currency,
       sum(impressions), sum(clicks), sum(conversions), sum(cost), sum(revenue)
FROM campaign_metrics
GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(impressions) <> 0 OR sum(clicks) <> 0 OR sum(conversions) <> 0
  OR sum(cost) <> 0 OR sum(revenue) <> 0
-- Written in key order, as later days are written after earlier ones: a range of days
-- is then a contiguous stretch of the table, which the planner reads by the index.
ORDER BY 1, 2, 3, 5, 4, 6;

-- Statistics now: without them the planner takes the backfilled table for empty (on
-- PGlite, which runs no autovacuum, until the next ANALYZE) and sorts to disk.
ANALYZE campaign_daily;
