-- Converted reads (a reporting currency, lib/fx/queries.ts) need the money of the
-- currencies other than the target per day, since each day converts at its own rate;
-- money already in the target takes the unconverted path (monthly rollup, ROAS index).
-- campaign_daily's key leads with the day, so "the EUR and GBP rows of this month" read
-- every campaign of every day and kept one in ten (600,000 rows for 60,000 at the
-- benchmark's size). By currency first, those rows are one index range per currency,
-- and the included columns answer the per-(series, day) sums without visiting the
-- table (index-only, on pages the visibility map marks all-visible).
--
-- Cost on writes: one more index entry per daily row, and a rollup delta (which changes
-- the included measures) can no longer be a HOT update. Measured in bench/RESULTS.md.
CREATE INDEX IF NOT EXISTS campaign_daily_by_currency
  ON campaign_daily (tenant_id, currency, day)
  INCLUDE (platform, campaign_id, impressions, clicks, conversions, cost, revenue);
