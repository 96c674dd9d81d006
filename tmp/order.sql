SELECT platform, campaign_id, currency, sum(revenue)::float8 / nullif(sum(cost), 0)::float8 AS score
         FROM (SELECT platform, campaign_id, currency, month::timestamp AS at,
        impressions, clicks, conversions, cost, revenue FROM campaign_monthly WHERE tenant_id = 'bench' AND month >= '2025-07-01'::date AND month < '2025-08-01'::date
UNION ALL
SELECT platform, campaign_id, currency, NULL::timestamp AS at, -impressions AS impressions, -clicks AS clicks, -conversions AS conversions, -cost AS cost, -revenue AS revenue
    FROM campaign_mtd WHERE tenant_id = 'bench' AND day = '2025-07-18'::date
    UNION ALL
    SELECT platform, campaign_id, currency, NULL::timestamp AS at, -impressions AS impressions, -clicks AS clicks, -conversions AS conversions, -cost AS cost, -revenue AS revenue
    FROM campaign_monthly WHERE tenant_id = 'bench' AND month = '2025-07-01'::date
      AND last_day < '2025-07-18'::date
UNION ALL
SELECT platform, campaign_id, currency, NULL::timestamp AS at, impressions AS impressions, clicks AS clicks, conversions AS conversions, cost AS cost, revenue AS revenue
    FROM campaign_mtd WHERE tenant_id = 'bench' AND day = '2025-08-17'::date
    UNION ALL
    SELECT platform, campaign_id, currency, NULL::timestamp AS at, impressions AS impressions, clicks AS clicks, conversions AS conversions, cost AS cost, revenue AS revenue
    FROM campaign_monthly WHERE tenant_id = 'bench' AND month = '2025-08-01'::date
      AND last_day < '2025-08-17'::date) parts
         GROUP BY platform, campaign_id, currency HAVING sum(impressions) <> 0 OR sum(clicks) <> 0 OR sum(conversions) <> 0 OR sum(cost) <> 0 OR sum(revenue) <> 0
         ORDER BY score DESC NULLS LAST, platform, campaign_id, currency LIMIT 10::int