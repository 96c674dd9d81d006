-- Month-to-date running totals per campaign (platform, campaign, currency) and UTC day.
--
-- A ranking over a range of days that is not whole months ("the last 30 days") used to
-- sum one daily row per campaign and day: 600,000 rows grouped into 20,000 campaigns for
-- 30 days at the benchmark's size. With a running total per day, the sum of the days
-- a..b of one month is the total at b minus the total at a - 1: two rows per campaign
-- and month, whatever the length of the range.
--
-- Rows are dense from a campaign's first to its last day with data in each month
-- (campaign_monthly.first_day / last_day), gaps filled with the total so far. Past the
-- last day the running total is the month's total, read from campaign_monthly; before
-- the first day it is zero. So a day with no row is answered without filling the rest
-- of the month, and a write to today touches one row per campaign, not the month's rest.
--
-- Maintained by the store's upsert in the same statement as the raw rows and the other
-- rollups (a change on day d adds to the running totals of d and every later day of the
-- month that has a row).
ALTER TABLE campaign_monthly
  ADD COLUMN IF NOT EXISTS first_day date,
  ADD COLUMN IF NOT EXISTS last_day date;

UPDATE campaign_monthly m SET first_day = d.first_day, last_day = d.last_day
FROM (
  SELECT tenant_id, date_trunc('month', day::timestamp)::date AS month, platform, campaign_id,
         currency, min(day) AS first_day, max(day) AS last_day
  FROM campaign_daily GROUP BY 1, 2, 3, 4, 5
) d
WHERE m.tenant_id = d.tenant_id AND m.month = d.month AND m.platform = d.platform
  AND m.campaign_id = d.campaign_id AND m.currency = d.currency;

CREATE TABLE IF NOT EXISTS campaign_mtd (
  tenant_id    text    NOT NULL,
  day          date    NOT NULL,
  platform     text    NOT NULL,
  campaign_id  text    NOT NULL,
  currency     char(3) NOT NULL,
  impressions  bigint  NOT NULL,
  clicks       bigint  NOT NULL,
  conversions  numeric NOT NULL,
  cost         numeric NOT NULL,
  revenue      numeric NOT NULL,
  -- Day first: "every campaign's running total at day b" is one contiguous index range.
  PRIMARY KEY (tenant_id, day, platform, campaign_id, currency)
);

INSERT INTO campaign_mtd (tenant_id, day, platform, campaign_id, currency, impressions, clicks,
  conversions, cost, revenue)
SELECT m.tenant_id, g.at::date, m.platform, m.campaign_id, m.currency,
       sum(coalesce(d.impressions, 0)) OVER w, sum(coalesce(d.clicks, 0)) OVER w,
       sum(coalesce(d.conversions, 0)) OVER w, sum(coalesce(d.cost, 0)) OVER w,
       sum(coalesce(d.revenue, 0)) OVER w
FROM campaign_monthly m
CROSS JOIN LATERAL generate_series(m.first_day::timestamp, m.last_day::timestamp,
                                   interval '1 day') AS g(at)
LEFT JOIN (
  SELECT tenant_id, day, platform, campaign_id, currency, sum(impressions) AS impressions,
         sum(clicks) AS clicks, sum(conversions) AS conversions, sum(cost) AS cost,
         sum(revenue) AS revenue
  FROM campaign_daily GROUP BY 1, 2, 3, 4, 5
) d ON d.tenant_id = m.tenant_id AND d.day = g.at::date AND d.platform = m.platform
   AND d.campaign_id = m.campaign_id AND d.currency = m.currency
WHERE m.last_day IS NOT NULL
WINDOW w AS (PARTITION BY m.tenant_id, m.month, m.platform, m.campaign_id, m.currency
             ORDER BY g.at)
-- In key order, as later days are written after earlier ones (see 005).
ORDER BY 1, 2, 3, 4, 5
ON CONFLICT DO NOTHING;

-- "Campaigns whose last day of the month is before day b" (their running total at b is
-- the month's total): few as a rule, found without reading the month's other rows.
CREATE INDEX IF NOT EXISTS campaign_monthly_by_last_day
  ON campaign_monthly (tenant_id, month, last_day);

ANALYZE campaign_mtd;
