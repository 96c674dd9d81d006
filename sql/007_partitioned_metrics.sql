-- campaign_metrics becomes range-partitioned by UTC month on ts (declarative
-- partitioning: the same DDL on PostgreSQL and PGlite). Month partitions are created
-- by the app (lib/store/partitions.ts): ahead at start-up and daily, and on demand for a
-- batch's months; RETENTION_MONTHS drops old months (rollups are kept).
--
-- Online and safe to re-run: the script runs as three steps, each its own transaction
-- under the migration lock (see lib/store/migrate.ts), each a no-op once done.
--
-- A populated table is kept as it is and attached as the partition "legacy", FROM
-- (MINVALUE) TO (B): a validated CHECK (ts < B) lets ATTACH skip its scan, and its
-- indexes become partitions of the parent's indexes (nothing is rebuilt). B is the first
-- of the month after the later of now and the latest stored row (next month, as a
-- rule): the rows stored so far stay in the legacy partition, and every month from B on
-- is a partition of its own, created here (B to 13 months ahead, as the app keeps them).
-- Between steps 1 and 3 (about a second) a write dated at or after B fails the CHECK
-- and is retried by its writer; rows dated in a future month are rare.
-- Retention deletes whole months from the legacy partition and drops it once empty.
--
-- An empty table (a fresh install) is simply replaced by the partitioned one.

-- Below this instant raw rows were dropped by retention: writes there are refused (a
-- restatement could not subtract the replaced row from the rollups) and reads that need
-- raw rows there are answered with an error. NULL: nothing dropped.
CREATE TABLE IF NOT EXISTS campaign_metrics_retention (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  raw_kept_from timestamptz
);
INSERT INTO campaign_metrics_retention (singleton) VALUES (true) ON CONFLICT DO NOTHING;

-- Step 1: the CHECK, NOT VALID (a brief lock; existing rows are not read). Steps 1 and 3
-- take ACCESS EXCLUSIVE for milliseconds, but waiting for it queues every query behind
-- the slowest one in flight: past 10 s the step fails instead (the migration, and the
-- start-up, fail; the next attempt starts again where this one stopped).
SET LOCAL lock_timeout = '10s';
DO $step$
DECLARE
  boundary timestamptz;
BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('campaign_metrics')) = 'r'
    AND NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = 'campaign_metrics'::regclass
                    AND conname = 'campaign_metrics_before_partitions') THEN
    -- Writes wait while the latest row is read (reads go on): no row at or after the
    -- boundary can be stored before the CHECK exists, so step 2 cannot fail.
    LOCK TABLE campaign_metrics IN SHARE ROW EXCLUSIVE MODE;
    SELECT (date_trunc('month', greatest(now(), max(ts)) AT TIME ZONE 'UTC')
            + interval '1 month') AT TIME ZONE 'UTC'
      INTO boundary FROM campaign_metrics;
    EXECUTE format(
      'ALTER TABLE campaign_metrics ADD CONSTRAINT campaign_metrics_before_partitions '
      'CHECK (ts < %L) NOT VALID',
      boundary);
  END IF;
END
$step$;

-- migrate:step
-- Step 2: validate it. VALIDATE takes SHARE UPDATE EXCLUSIVE: reads and writes go on
-- while the table is scanned.
DO $step$
BEGIN
  IF EXISTS (SELECT FROM pg_constraint WHERE conrelid = to_regclass('campaign_metrics')
             AND conname = 'campaign_metrics_before_partitions' AND NOT convalidated) THEN
    ALTER TABLE campaign_metrics VALIDATE CONSTRAINT campaign_metrics_before_partitions;
  END IF;
END
$step$;

-- migrate:step
-- Step 3, one short transaction: rename, create the partitioned parent, attach.
SET LOCAL lock_timeout = '10s';
DO $step$
DECLARE
  legacy_before timestamptz;
  month_start timestamp;
  created_parent boolean := false;
BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('campaign_metrics')) = 'r' THEN
    LOCK TABLE campaign_metrics IN SHARE MODE; -- no writes between the test and the swap
    IF NOT EXISTS (SELECT FROM campaign_metrics) THEN
      DROP TABLE campaign_metrics;
    ELSE
      SELECT substring(pg_get_constraintdef(oid) FROM '''([^'']+)''')::timestamptz
        INTO legacy_before
      FROM pg_constraint WHERE conrelid = 'campaign_metrics'::regclass
        AND conname = 'campaign_metrics_before_partitions' AND convalidated;
      IF legacy_before IS NULL THEN
        RAISE EXCEPTION 'campaign_metrics_before_partitions is missing or not validated';
      END IF;
      ALTER TABLE campaign_metrics RENAME TO campaign_metrics_legacy;
      -- Index names are unique per schema: the parent's keep the original names.
      ALTER TABLE campaign_metrics_legacy
        RENAME CONSTRAINT campaign_metrics_key TO campaign_metrics_legacy_key;
      IF to_regclass('campaign_metrics_ts') IS NOT NULL THEN
        ALTER INDEX campaign_metrics_ts RENAME TO campaign_metrics_legacy_ts;
      END IF;
    END IF;
  END IF;
  IF to_regclass('campaign_metrics') IS NULL THEN
    -- The columns and constraint names of 001 (ATTACH matches CHECKs by name).
    CREATE TABLE campaign_metrics (
      tenant_id    text        NOT NULL,
      platform     text        NOT NULL CONSTRAINT campaign_metrics_platform_check
                               CHECK (platform IN ('meta', 'google', 'linkedin', 'tiktok')),
      account_id   text        NOT NULL,
      campaign_id  text        NOT NULL,
      ts           timestamptz NOT NULL,
      impressions  bigint      NOT NULL CONSTRAINT campaign_metrics_impressions_check
                               CHECK (impressions >= 0),
      clicks       bigint      NOT NULL CONSTRAINT campaign_metrics_clicks_check
                               CHECK (clicks >= 0),
      conversions  numeric     NOT NULL CONSTRAINT campaign_metrics_conversions_check
                               CHECK (conversions >= 0),
      cost         numeric     NOT NULL CONSTRAINT campaign_metrics_cost_check
                               CHECK (cost >= 0),
      revenue      numeric     NOT NULL CONSTRAINT campaign_metrics_revenue_check
                               CHECK (revenue >= 0),
      currency     char(3)     NOT NULL,
      source       text        NOT NULL,
      updated_at   timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT campaign_metrics_key PRIMARY KEY (tenant_id, campaign_id, platform, account_id, ts)
    ) PARTITION BY RANGE (ts);
    created_parent := true;
    -- As 006: time-range scans of raw rows by BRIN.
    CREATE INDEX campaign_metrics_ts ON campaign_metrics USING brin (ts)
      WITH (pages_per_range = 32);
  END IF;
  IF legacy_before IS NOT NULL THEN
    EXECUTE format('ALTER TABLE campaign_metrics ATTACH PARTITION campaign_metrics_legacy '
                   'FOR VALUES FROM (MINVALUE) TO (%L)', legacy_before);
  END IF;
  -- The months from the legacy boundary to 13 ahead, named as lib/store/partitions.ts
  -- names them: a replica still running the previous code, which creates none, writes
  -- on. Only for the parent made now (a re-run adds none; the app keeps them ahead).
  month_start := legacy_before AT TIME ZONE 'UTC';
  WHILE created_parent AND legacy_before IS NOT NULL
    AND month_start <= date_trunc('month', now() AT TIME ZONE 'UTC') + interval '13 months' LOOP
    IF to_regclass(format('campaign_metrics_y%sm%s', to_char(month_start, 'YYYY'),
                          to_char(month_start, 'MM'))) IS NULL THEN
      EXECUTE format('CREATE TABLE campaign_metrics_y%sm%s PARTITION OF campaign_metrics '
                     'FOR VALUES FROM (%L) TO (%L)',
        to_char(month_start, 'YYYY'), to_char(month_start, 'MM'),
        month_start AT TIME ZONE 'UTC', (month_start + interval '1 month') AT TIME ZONE 'UTC');
    END IF;
    month_start := month_start + interval '1 month';
  END LOOP;
END
$step$;
