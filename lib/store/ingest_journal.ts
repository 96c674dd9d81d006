/**
 * The ingestion journal: runs, dead letters and ad accounts, in the same database as
 * the metrics (PGlite or PostgreSQL, same SQL).
 */
import { z } from "zod";
import type { SqlDriver } from "./driver.ts";
import type { RowRejection } from "../schema.ts";

export const RunStatusSchema = z.enum(["running", "succeeded", "failed"]);

export interface RunStart {
  tenantId: string;
  source: string;
  accountId: string;
  /** The scheduled time served; a second start for the same slot is refused. */
  slot?: Date;
  window?: { from: string; to: string };
  runner?: string;
}

export interface RunOutcome {
  accepted: number;
  rejected: number;
  status: "succeeded" | "failed";
  error?: string;
}

export const SourceStatusSchema = z.object({
  source: z.string(),
  accounts: z.number(),
  last_run_at: z.date().nullable(),
  last_success_at: z.date().nullable(),
  last_error_at: z.date().nullable(),
  last_error: z.string().nullable(),
  running: z.number(),
  rows_accepted: z.number(),
  rows_rejected: z.number(),
});
export type SourceStatus = z.infer<typeof SourceStatusSchema>;

export interface AccountFacts {
  tenantId: string;
  platform: string;
  accountId: string;
  name?: string | null;
  currency: string | null;
  timeZone: string | null;
}

const count = z.union([z.number(), z.string(), z.bigint()]).transform(Number);
const maybeDate = z.coerce.date().nullable();

const StatusRowSchema = z.object({
  source: z.string(),
  accounts: count,
  last_run_at: maybeDate,
  last_success_at: maybeDate,
  last_error_at: maybeDate,
  last_error: z.string().nullable(),
  running: count,
  rows_accepted: count,
  rows_rejected: count,
});

/**
 * The session advisory lock a sync of one account holds for its whole run (taken by
 * ingest/locks.ts before the run is recorded, released after it is finished). Defined
 * here so that the SQL below computes exactly the same key.
 */
export const SYNC_LOCK_SEED = 4_242_001;

export function syncLockKey(tenantId: string, source: string, accountId: string): string {
  return `sync/${tenantId}/${source}/${accountId}`;
}

/** How much of a rejected row a dead letter keeps. */
export const DEAD_LETTER_LIMITS = { depth: 2, entries: 64, stringLength: 1024 } as const;

/**
 * Text PostgreSQL accepts whatever a row held: no NUL (text and jsonb cannot store it),
 * no lone surrogate (invalid UTF-8), and at most `max` characters.
 */
export function storableText(text: string, max: number): string {
  // deno-lint-ignore no-control-regex
  const clean = text.replace(/\u0000/g, "\uFFFD").toWellFormed();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * A bounded copy of a rejected row for the dead-letter table: at most two levels deep,
 * 64 entries per level and 1024 characters per string, with storable text throughout.
 * Whatever was cut is marked, so a reader knows the payload is partial. Rows are
 * flat, so a real row survives intact; only hostile or broken input is shortened.
 */
export function boundedPayload(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return storableText(value, DEAD_LETTER_LIMITS.stringLength);
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "boolean") return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value !== "object") {
    return storableText(String(value), DEAD_LETTER_LIMITS.stringLength);
  }
  if (depth >= DEAD_LETTER_LIMITS.depth) return "[truncated: nested too deep]";
  if (Array.isArray(value)) {
    const items = value.slice(0, DEAD_LETTER_LIMITS.entries).map((item) =>
      boundedPayload(item, depth + 1)
    );
    if (value.length > items.length) items.push(`[truncated: ${value.length} items]`);
    return items;
  }
  const entries = Object.entries(value);
  const kept = Object.fromEntries(
    entries.slice(0, DEAD_LETTER_LIMITS.entries).map(([key, item]) => [
      storableText(key, 64),
      boundedPayload(item, depth + 1),
    ]),
  );
  if (entries.length > DEAD_LETTER_LIMITS.entries) {
    kept["[truncated]"] = `${entries.length} fields`;
  }
  return kept;
}

export class IngestJournal {
  constructor(private readonly db: SqlDriver) {}

  /** Records the start of a run; null when this slot already has a run (another replica). */
  async startRun(start: RunStart): Promise<number | null> {
    const rows = await this.db.query<{ id: string | number }>(
      `INSERT INTO ingest_runs (tenant_id, source, account_id, slot, window_from, window_to,
         status, runner)
       VALUES ($1, $2, $3, $4::timestamptz, $5::date, $6::date, 'running', $7)
       ON CONFLICT (tenant_id, source, account_id, slot) WHERE slot IS NOT NULL DO NOTHING
       RETURNING id`,
      [
        start.tenantId,
        start.source,
        start.accountId,
        start.slot?.toISOString() ?? null,
        start.window?.from ?? null,
        start.window?.to ?? null,
        start.runner ?? null,
      ],
    );
    return rows.length ? Number(rows[0].id) : null;
  }

  async finishRun(id: number, outcome: RunOutcome): Promise<void> {
    await this.db.query(
      `UPDATE ingest_runs SET status = $2, rows_accepted = $3, rows_rejected = $4, error = $5,
         finished_at = now() WHERE id = $1`,
      [id, outcome.status, outcome.accepted, outcome.rejected, outcome.error ?? null],
    );
  }

  /** Adds rows to a long-running run (the streamer) and stamps it as alive. */
  async addToRun(id: number, accepted: number, rejected: number): Promise<void> {
    await this.db.query(
      `UPDATE ingest_runs SET rows_accepted = rows_accepted + $2,
         rows_rejected = rows_rejected + $3, finished_at = now() WHERE id = $1`,
      [id, accepted, rejected],
    );
  }

  /**
   * Marks runs of an account that are still "running" as failed: called while holding
   * that account's sync lock, so any such run belongs to a runner that died.
   */
  async abandonStaleRuns(tenantId: string, source: string, accountId: string): Promise<number> {
    const rows = await this.db.query(
      `UPDATE ingest_runs SET status = 'failed', error = 'runner stopped before finishing',
         finished_at = now()
       WHERE tenant_id = $1 AND source = $2 AND account_id = $3 AND status = 'running'
       RETURNING id`,
      [tenantId, source, accountId],
    );
    return rows.length;
  }

  /**
   * Marks long-running runs (the streamer's) that have not reported progress for
   * `silentForMs` as failed: their process is gone. Live streams report every tick.
   */
  async abandonSilentRuns(
    tenantId: string,
    source: string,
    accountId: string,
    silentForMs: number,
  ): Promise<number> {
    const rows = await this.db.query(
      `UPDATE ingest_runs SET status = 'failed', error = 'runner stopped reporting'
       WHERE tenant_id = $1 AND source = $2 AND account_id = $3 AND status = 'running'
         AND coalesce(finished_at, started_at) < now() - make_interval(secs => $4::float8 / 1000)
       RETURNING id`,
      [tenantId, source, accountId, silentForMs],
    );
    return rows.length;
  }

  /**
   * Marks a tenant's sync runs that are "running" while nobody holds their account's
   * sync lock as failed. A runner takes the lock before it records its run and
   * releases it only after recording the outcome, so such a run's process is gone
   * (killed with -9, or cut off from the database): its lock went with its connection.
   * The live stream's runs hold no lock (no window); their silence is checked instead.
   */
  async abandonUnlockedRuns(tenantId: string): Promise<number> {
    const rows = await this.db.query(
      `WITH candidates AS (
         SELECT id, hashtextextended('sync/' || tenant_id || '/' || source || '/' || account_id,
                  $2) AS lock_key
         FROM ingest_runs
         WHERE tenant_id = $1 AND status = 'running' AND window_from IS NOT NULL
       )
       UPDATE ingest_runs r SET status = 'failed',
         error = 'runner stopped before finishing (its sync lock is gone)', finished_at = now()
       FROM candidates c
       WHERE r.id = c.id AND r.status = 'running' AND NOT EXISTS (
         SELECT 1 FROM pg_locks l
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid::bigint = ((c.lock_key >> 32) & 4294967295)
           AND l.objid::bigint = (c.lock_key & 4294967295))
       RETURNING r.id`,
      [tenantId, SYNC_LOCK_SEED],
    );
    return rows.length;
  }

  async deadLetter(
    tenantId: string,
    source: string,
    runId: number | null,
    rejects: readonly (RowRejection & { payload: unknown })[],
  ): Promise<void> {
    if (rejects.length === 0) return;
    await this.db.query(
      `INSERT INTO ingest_rejects (tenant_id, source, run_id, row_index, field, reason, payload)
       SELECT $1, $2, $3, i, f, r, p::jsonb
       FROM unnest($4::int[], $5::text[], $6::text[], $7::text[]) AS t(i, f, r, p)`,
      [
        tenantId,
        source,
        runId,
        rejects.map((reject) => reject.index),
        rejects.map((reject) => storableText(reject.field, 256)),
        rejects.map((reject) => storableText(reject.error, 1024)),
        rejects.map((reject) => JSON.stringify(boundedPayload(reject.payload))),
      ],
    );
  }

  async recentRejects(tenantId: string, limit = 50) {
    return await this.db.query<
      {
        source: string;
        row_index: number;
        field: string;
        reason: string;
        payload: unknown;
        received_at: Date | string | null;
      }
    >(
      `SELECT source, row_index, field, reason, payload, received_at FROM ingest_rejects
       WHERE tenant_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2`,
      [tenantId, limit],
    );
  }

  async upsertAccount(facts: AccountFacts): Promise<void> {
    await this.db.query(
      `INSERT INTO ad_accounts (tenant_id, platform, account_id, name, currency, time_zone)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, platform, account_id) DO UPDATE SET
         name = coalesce(EXCLUDED.name, ad_accounts.name),
         currency = coalesce(EXCLUDED.currency, ad_accounts.currency),
         time_zone = coalesce(EXCLUDED.time_zone, ad_accounts.time_zone),
         updated_at = now()`,
      [
        facts.tenantId,
        facts.platform,
        facts.accountId,
        facts.name ?? null,
        facts.currency,
        facts.timeZone,
      ],
    );
  }

  /** Per source: last success, last error, rows of the latest runs, what is running. */
  async sourceStatus(tenantId: string): Promise<SourceStatus[]> {
    // "running" must mean running: settle runs whose runner died before counting them.
    await this.abandonUnlockedRuns(tenantId);
    const rows = await this.db.query(
      `WITH latest AS (
         SELECT DISTINCT ON (source, account_id) source, account_id, rows_accepted,
                rows_rejected
         FROM ingest_runs WHERE tenant_id = $1 AND status <> 'running'
         ORDER BY source, account_id, started_at DESC
       ),
       errors AS (
         SELECT DISTINCT ON (source) source, error, finished_at
         FROM ingest_runs WHERE tenant_id = $1 AND status = 'failed'
         ORDER BY source, finished_at DESC NULLS LAST
       )
       SELECT r.source,
              count(DISTINCT r.account_id) AS accounts,
              max(r.started_at) AS last_run_at,
              max(r.finished_at) FILTER (WHERE r.status = 'succeeded'
                OR (r.status = 'running' AND r.slot IS NULL AND r.finished_at IS NOT NULL))
                AS last_success_at,
              max(e.finished_at) AS last_error_at,
              max(e.error) AS last_error,
              count(*) FILTER (WHERE r.status = 'running') AS running,
              coalesce((SELECT sum(rows_accepted) FROM latest l WHERE l.source = r.source), 0)
                AS rows_accepted,
              coalesce((SELECT sum(rows_rejected) FROM latest l WHERE l.source = r.source), 0)
                AS rows_rejected
       FROM ingest_runs r LEFT JOIN errors e ON e.source = r.source
       WHERE r.tenant_id = $1
       GROUP BY r.source ORDER BY r.source`,
      [tenantId],
    );
    return rows.map((row) => StatusRowSchema.parse(row));
  }
}
