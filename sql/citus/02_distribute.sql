-- Citus, step 2 of 2: distribute every tenant table by tenant_id, all co-located with
-- campaign_metrics, so that one tenant's rows of every table live on the same worker:
-- a request (one tenant) and an upsert transaction (raw rows, the three rollups and the
-- catalog of one tenant) each run on one worker. Run on the coordinator after
-- 01_keys.sql, before the app starts writing (distributing copies existing rows).
--
-- Reference tables (copied to every worker) are for tables without tenant_id that
-- tenant tables join to. Platforms are a CHECK constraint, not a table; the one such
-- table is campaign_metrics_retention (one row: the retention horizon), which every
-- upsert transaction reads beside its one tenant's writes (a reference table keeps that
-- transaction on one worker). schema_migrations stays a local table of the coordinator, where the
-- app's migration runner reads and writes it; so does the bot's pgvector catalog table
-- (created at run time, keyed by namespace, not by tenant).
--
-- Not executed on Citus here (no Citus package on our machines): tests/deploy/citus_test.ts
-- runs this file against stand-in functions that check each table and column exists.

-- The co-location anchor: the largest table. 32 shards = room for 32 workers.
SELECT create_distributed_table('campaign_metrics', 'tenant_id', shard_count := 32);

-- Rollups, maintained in the same statement as campaign_metrics.
SELECT create_distributed_table('campaign_monthly', 'tenant_id', colocate_with := 'campaign_metrics');
SELECT create_distributed_table('platform_hourly', 'tenant_id', colocate_with := 'campaign_metrics');
SELECT create_distributed_table('campaign_daily', 'tenant_id', colocate_with := 'campaign_metrics');
SELECT create_distributed_table('campaign_mtd', 'tenant_id', colocate_with := 'campaign_metrics');

-- The catalog and the ad accounts, joined to the rollups per tenant.
SELECT create_distributed_table('campaigns', 'tenant_id', colocate_with := 'campaign_metrics');
SELECT create_distributed_table('ad_accounts', 'tenant_id', colocate_with := 'campaign_metrics');

-- The ingestion journal (keys widened by 01_keys.sql); ingest_rejects references
-- ingest_runs, which co-location makes a local foreign key on each worker.
SELECT create_distributed_table('ingest_runs', 'tenant_id', colocate_with := 'campaign_metrics');
SELECT create_distributed_table('ingest_rejects', 'tenant_id', colocate_with := 'campaign_metrics');

-- The retention horizon (sql/007), read by every write and by reads of raw rows.
SELECT create_reference_table('campaign_metrics_retention');

-- Exchange rates: per tenant, read beside that tenant's money when converting.
SELECT create_distributed_table('fx_rates', 'tenant_id', colocate_with := 'campaign_metrics');
