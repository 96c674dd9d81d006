-- Core schema: raw metric rows, the campaign catalog, and two rollups that keep
-- dashboard queries fast at tens of millions of rows. Rollups are maintained by the
-- store's upsert in the same statement as the raw rows (see lib/store/sql_store.ts),
-- so they are always consistent with campaign_metrics.

-- One row per (tenant, platform, account, campaign, bucket start). Counts are BIGINT
-- (INT overflows at agency volumes); money and conversions are exact NUMERIC (Google
-- reports fractional conversions). Restated numbers replace the old ones (upsert).
CREATE TABLE campaign_metrics (
  tenant_id    text        NOT NULL,
  platform     text        NOT NULL CHECK (platform IN ('meta', 'google', 'linkedin', 'tiktok')),
  account_id   text        NOT NULL,
  campaign_id  text        NOT NULL,
  ts           timestamptz NOT NULL,
  impressions  bigint      NOT NULL CHECK (impressions >= 0),
  clicks       bigint      NOT NULL CHECK (clicks >= 0),
  conversions  numeric     NOT NULL CHECK (conversions >= 0),
  cost         numeric     NOT NULL CHECK (cost >= 0),
  revenue      numeric     NOT NULL CHECK (revenue >= 0),
  currency     char(3)     NOT NULL,
  source       text        NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  -- Campaign first: "one campaign over a range" is the hottest query, and its rows
  -- for one platform/account are then one contiguous index range ordered by ts.
  CONSTRAINT campaign_metrics_key PRIMARY KEY (tenant_id, campaign_id, platform, account_id, ts)
);

-- Time-range scans across all campaigns (ranking over ragged ranges, the partial
-- days at the edges of a rollup answer, per-platform series in a non-UTC zone).
CREATE INDEX campaign_metrics_tenant_ts ON campaign_metrics (tenant_id, ts, platform);

-- The catalog: one row per (tenant, platform, campaign), kept current by every write.
-- Answers "latest campaign", listings, name search and 404-vs-empty decisions.
CREATE TABLE campaigns (
  tenant_id    text        NOT NULL,
  platform     text        NOT NULL,
  campaign_id  text        NOT NULL,
  account_id   text        NOT NULL,
  name         text,
  status       text,
  currency     char(3),
  started_at   timestamptz,
  first_seen   timestamptz,
  last_seen    timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, platform, campaign_id)
);

-- Lookup by id without a platform (GET /campaign/:id/insights).
CREATE INDEX campaigns_by_id ON campaigns (tenant_id, campaign_id);
-- "Latest campaign" (per platform): newest launch first.
CREATE INDEX campaigns_latest ON campaigns (tenant_id, platform, (coalesce(started_at, first_seen)) DESC, campaign_id);

-- Per campaign and calendar month (UTC): ranking campaigns over whole months and
-- lifetime totals read ~12 rows per campaign instead of hundreds.
CREATE TABLE campaign_monthly (
  tenant_id    text    NOT NULL,
  platform     text    NOT NULL,
  campaign_id  text    NOT NULL,
  currency     char(3) NOT NULL,
  month        date    NOT NULL,
  impressions  bigint  NOT NULL,
  clicks       bigint  NOT NULL,
  conversions  numeric NOT NULL,
  cost         numeric NOT NULL,
  revenue      numeric NOT NULL,
  PRIMARY KEY (tenant_id, month, platform, campaign_id, currency)
);

-- Lifetime totals of one campaign (listing sorted by spend, campaign summaries).
CREATE INDEX campaign_monthly_by_campaign ON campaign_monthly (tenant_id, campaign_id, platform);

-- Per platform and UTC day: platform totals and series over any whole-day range read
-- one row per platform-day instead of one per campaign-day.
CREATE TABLE platform_daily (
  tenant_id    text    NOT NULL,
  platform     text    NOT NULL,
  currency     char(3) NOT NULL,
  day          date    NOT NULL,
  impressions  bigint  NOT NULL,
  clicks       bigint  NOT NULL,
  conversions  numeric NOT NULL,
  cost         numeric NOT NULL,
  revenue      numeric NOT NULL,
  PRIMARY KEY (tenant_id, day, platform, currency)
);
