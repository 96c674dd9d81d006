-- Ingestion bookkeeping: every sync's outcome, every rejected row, and the facts of
-- each ad account (currency, time zone) that its reports are read with.

CREATE TABLE ingest_runs (
  id             bigserial   PRIMARY KEY,
  tenant_id      text        NOT NULL,
  source         text        NOT NULL,
  account_id     text        NOT NULL,
  -- The scheduled time this run serves; NULL for manual runs. Unique per account, so
  -- a schedule firing in three replicas at once runs the sync once.
  slot           timestamptz,
  window_from    date,
  window_to      date,
  rows_accepted  bigint      NOT NULL DEFAULT 0,
  rows_rejected  bigint      NOT NULL DEFAULT 0,
  status         text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  error          text,
  runner         text,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
);

CREATE UNIQUE INDEX ingest_runs_slot ON ingest_runs (tenant_id, source, account_id, slot)
  WHERE slot IS NOT NULL;
-- GET /sources: the latest runs of each source.
CREATE INDEX ingest_runs_recent ON ingest_runs (tenant_id, source, started_at DESC);

-- Dead letters: rows that failed validation, with the raw payload and the reason, so
-- nothing is dropped silently and a fixed row can be replayed.
CREATE TABLE ingest_rejects (
  id           bigserial   PRIMARY KEY,
  tenant_id    text        NOT NULL,
  source       text        NOT NULL,
  run_id       bigint      REFERENCES ingest_runs (id) ON DELETE SET NULL,
  row_index    integer     NOT NULL,
  field        text        NOT NULL,
  reason       text        NOT NULL,
  payload      jsonb       NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ingest_rejects_recent ON ingest_rejects (tenant_id, source, received_at DESC);

CREATE TABLE ad_accounts (
  tenant_id   text        NOT NULL,
  platform    text        NOT NULL,
  account_id  text        NOT NULL,
  name        text,
  currency    char(3),
  time_zone   text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, platform, account_id)
);
