-- Top campaigns by ROAS for one month: the monthly rollup ordered by the ratio the
-- store ranks by (lib/store/sql_queries.ts metricSql "roas", the same expression), so
-- a top-10 reads 10 index entries instead of the month's 20,000 rows. Ties are broken
-- by the same keys as the query's ORDER BY.
CREATE INDEX IF NOT EXISTS campaign_monthly_roas
  ON campaign_monthly (
    tenant_id,
    month,
    (revenue::float8 / nullif(cost, 0)::float8) DESC NULLS LAST,
    platform,
    campaign_id,
    currency
  );
