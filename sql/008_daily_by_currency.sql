-- Converted reads (a reporting currency, lib/fx/queries.ts) need the money of the
-- currencies other than the target per day, since each day converts at its own rate;
-- money already in the target takes the unconverted path (monthly rollup, ROAS index).
-- The rollups' keys lead with the month or day, so "the EUR and GBP rows of this month"
-- read every campaign and kept one in ten (600,000 daily rows for 60,000 at the
-- benchmark's size). By currency first, those rows are one index range per currency,
-- and the included columns answer the sums without visiting the table (index-only, on
-- pages the visibility map marks all-visible).
--
-- Cost on writes: one more index entry per rollup row, and a rollup delta (which changes
-- the included measures) can no longer be a HOT update. Measured in bench/RESULTS.md.
CREATE INDEX IF NOT EXISTS campaign_daily_by_currency
  ON campaign_daily (tenant_id, currency, day)
  INCLUDE (platform, campaign_id, impressions, clicks, conversions, cost, revenue);

-- The campaigns of a month with money in other currencies (a converted ranking bounds
-- their scores from these rows before it reads any day; lib/store/fx_store.ts).
CREATE INDEX IF NOT EXISTS campaign_monthly_by_currency
  ON campaign_monthly (tenant_id, currency, month)
  INCLUDE (platform, campaign_id, impressions, clicks, conversions, cost, revenue);
