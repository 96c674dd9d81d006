-- Citus, step 1 of 2: the key changes distribution needs. Run on the coordinator after
-- the app's migrations (`main.ts migrate`) and before 02_distribute.sql.
--
-- Citus requires every primary key, unique constraint and foreign key of a distributed
-- table to include the distribution column. Every key of the schema leads with
-- tenant_id (tests/deploy/citus_test.ts checks it against the migrated schema) except
-- the two bigserial ids of the ingestion journal, which this step widens. Both stay
-- unique on their own (a sequence), so nothing the app does changes; on plain
-- PostgreSQL this script is harmless too. Not executed on Citus here (docs/scaling.md).

BEGIN;

-- Dead letters point at their run: the reference must carry the tenant as well.
ALTER TABLE ingest_rejects DROP CONSTRAINT ingest_rejects_run_id_fkey;

ALTER TABLE ingest_runs DROP CONSTRAINT ingest_runs_pkey;
ALTER TABLE ingest_runs ADD CONSTRAINT ingest_runs_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ingest_rejects DROP CONSTRAINT ingest_rejects_pkey;
ALTER TABLE ingest_rejects ADD CONSTRAINT ingest_rejects_pkey PRIMARY KEY (tenant_id, id);

-- SET NULL of run_id alone (PostgreSQL 15+): tenant_id is NOT NULL and stays.
ALTER TABLE ingest_rejects ADD CONSTRAINT ingest_rejects_run_id_fkey
  FOREIGN KEY (tenant_id, run_id) REFERENCES ingest_runs (tenant_id, id)
  ON DELETE SET NULL (run_id);

COMMIT;
