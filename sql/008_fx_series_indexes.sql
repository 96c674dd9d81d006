-- Converted reads (a reporting currency, lib/fx/queries.ts) need the money of the
-- currencies other than the target per day, since each day converts at its own rate;
-- money already in the target takes the unconverted path (monthly rollup, ROAS index).
-- The rollups' keys lead with the month or day, so "the EUR and GBP money of this month
-- per day" read every campaign of every day and kept one in ten (600,000 daily rows for
-- 60,000 at the benchmark's size). Instead, the few series with other currencies are
-- found by currency in the monthly rollup, and each one's days are one short range of
-- the daily rollup by series. The included columns answer both without visiting the
-- tables (index-only, on pages the visibility map marks all-visible).
--
-- Cost on writes: one more index entry per rollup row, and a rollup delta (which changes
-- the included measures) can no longer be a HOT update. Measured in bench/RESULTS.md.
CREATE INDEX IF NOT EXISTS campaign_monthly_by_currency
  ON campaign_monthly (tenant_id, currency, month)
  INCLUDE (platform, campaign_id, impressions, clicks, conversions, cost, revenue);

CREATE INDEX IF NOT EXISTS campaign_daily_by_series
  ON campaign_daily (tenant_id, campaign_id, platform, day)
  INCLUDE (currency, impressions, clicks, conversions, cost, revenue);
