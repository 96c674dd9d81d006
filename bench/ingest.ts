/**
 * Ingestion: N unified rows (the fake source's hourly rows, 1,000 campaigns) written
 * through `SqlMetricsStore.upsert` in batches, against the baseline of PostgreSQL's
 * own bulk path: COPY of the same rows, as CSV streamed from the client, into a table
 * of the same shape (`LIKE campaign_metrics INCLUDING ALL`: same columns, checks,
 * defaults, primary key and index). Both start from empty tables in one scratch
 * schema (or a fresh in-memory PGlite) and both timings include the client's own work
 * (validation and the COPY text of the staged batch for the store, CSV text for COPY).
 */
import { createFakeCatalog } from "../ingest/fake_catalog.ts";
import { type FakeRow, fakeRows } from "../ingest/fake_rows.ts";
import { validateRows } from "../lib/schema.ts";
import type { SqlDriver, SqlExecutor, SqlParam } from "../lib/store/driver.ts";
import { SqlMetricsStore } from "../lib/store/sql_store.ts";
import { STAGE_COLUMNS } from "../lib/store/sql_queries.ts";
import type { BenchDb } from "./db.ts";
import { round } from "./stats.ts";

const DAY_MS = 86_400_000;
/** Fixed, so every run writes the same rows. */
const INGEST_NOW = new Date("2025-06-01T00:00:00Z");
const WINDOW_DAYS = 120;

/** N rows of the fake source, deterministic: as many campaigns as needed (≤ 1,000). */
export function ingestRows(count: number): FakeRow[] {
  const campaigns = Math.min(1000, Math.max(4, Math.ceil(count / 500)));
  const catalog = createFakeCatalog({ seed: 7, campaigns, tenantId: "bench", now: INGEST_NOW });
  const rows = fakeRows(catalog, {
    from: new Date(INGEST_NOW.getTime() - WINDOW_DAYS * DAY_MS),
    to: INGEST_NOW,
  });
  if (rows.length < count) {
    throw new Error(`the fake source yields ${rows.length} rows, fewer than ${count}`);
  }
  return rows.slice(0, count);
}

/** The COPY baseline's columns: the raw row, in the order the store stages it. */
export const COPY_COLUMNS = STAGE_COLUMNS;

function csvText(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The rows as CSV, in chunks of `per` lines. */
export function* csvChunks(rows: readonly FakeRow[], per = 10_000): Generator<string> {
  for (let start = 0; start < rows.length; start += per) {
    let chunk = "";
    const end = Math.min(rows.length, start + per);
    for (let i = start; i < end; i++) {
      const r = rows[i];
      chunk += `${csvText(r.tenant_id)},${r.platform},${csvText(r.account_id)},${
        csvText(r.campaign_id)
      },${r.ts.toISOString()},${r.impressions},${r.clicks},${r.conversions},${r.cost},${r.revenue},${r.currency},${
        csvText(r.source)
      }\n`;
    }
    yield chunk;
  }
}

export interface IngestResult {
  rows: number;
  batch_rows: number;
  copy: { seconds: number; rows_per_s: number };
  upsert: { seconds: number; rows_per_s: number; batches: number; breakdown: UpsertBreakdown };
  /** upsert rows/s ÷ COPY rows/s. */
  ratio_to_copy: number;
  /** Where the upsert's time goes: zod validation of all rows alone, measured apart. */
  validation_only_s: number;
  generate_s: number;
  verified_counts: { copy: number; upsert: number };
  /**
   * EXPLAIN (ANALYZE, BUFFERS) of one more batch of new rows through the store's upsert
   * statement, after the N rows are in (rolled back, so the counts above stand).
   */
  upsert_explain: string;
  /**
   * The same for a batch of stored rows, every one restated (its cost changed): the
   * path that looks up and replaces stored rows (absent from results before staging).
   */
  upsert_explain_restated?: string;
  /**
   * The same batch explained with campaign_metrics_tenant_ts dropped inside the rolled
   * back transaction: what the `replaced` lookup costs when it uses the primary key.
   */
  upsert_explain_without_tenant_ts: string;
  /**
   * The candidate fix, also inside a rolled back transaction: campaign_metrics_tenant_ts
   * rebuilt as (tenant_id, ts, platform, campaign_id), so that whichever index the
   * planner picks for the lookup, it is a point lookup.
   */
  upsert_explain_tenant_ts_with_campaign: string;
  /** The same N rows upserted into a second scratch database that has the candidate index. */
  candidate?: {
    change: string;
    seconds: number;
    rows_per_s: number;
    ratio_to_copy: number;
    breakdown: UpsertBreakdown;
  };
}

export const CANDIDATE_INDEX_SQL = [
  "DROP INDEX campaign_metrics_tenant_ts",
  "CREATE INDEX campaign_metrics_tenant_ts ON campaign_metrics (tenant_id, ts, platform, campaign_id)",
];

/** Where the time of the timed upserts went, as seen from the client. */
export interface UpsertBreakdown {
  /** Awaiting the upsert statement: array encoding, the wire and the server's execution. */
  statement_s: number;
  /** Awaiting the advisory-lock statement. */
  lock_s: number;
  /** Awaiting COPY of the batch into the staging table (absent before staging). */
  copy_s?: number;
  /** Everything else: validation, building the COPY text and the catalog, BEGIN/COMMIT. */
  other_s: number;
  /** Wall time of each batch, in ms (does the cost grow with the table?). */
  batch_ms: number[];
}

async function timedUpserts(db: BenchDb, rows: readonly FakeRow[], batch: number) {
  let statementMs = 0;
  let lockMs = 0;
  let copyMs = 0;
  const timing = (tx: SqlExecutor): SqlExecutor => ({
    async query<T>(text: string, params: readonly SqlParam[] = []) {
      const t0 = performance.now();
      try {
        return await tx.query<T>(text, params);
      } finally {
        const ms = performance.now() - t0;
        if (/INSERT INTO campaign_metrics/.test(text)) statementMs += ms;
        else if (/pg_advisory_xact_lock/.test(text)) lockMs += ms;
      }
    },
    async copyFrom(table, columns, text) {
      const t0 = performance.now();
      try {
        return await tx.copyFrom(table, columns, text);
      } finally {
        copyMs += performance.now() - t0;
      }
    },
  });
  const store = new SqlMetricsStore({
    ...db.driver,
    transaction: (work) => db.driver.transaction((tx) => work(timing(tx))),
  });
  const batchMs: number[] = [];
  const start = performance.now();
  for (let i = 0; i < rows.length; i += batch) {
    const t0 = performance.now();
    const result = await store.upsert(rows.slice(i, i + batch));
    batchMs.push(Math.round(performance.now() - t0));
    if (result.rejected.length) {
      throw new Error(`the store rejected rows: ${JSON.stringify(result.rejected.slice(0, 3))}`);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const breakdown: UpsertBreakdown = {
    statement_s: round(statementMs / 1000),
    lock_s: round(lockMs / 1000),
    copy_s: round(copyMs / 1000),
    other_s: round(seconds - (statementMs + lockMs + copyMs) / 1000),
    batch_ms: batchMs,
  };
  return { seconds, batches: batchMs.length, breakdown };
}

class RolledBack extends Error {}

/**
 * Runs one `store.upsert(rows)` whose write statement is replaced by its EXPLAIN
 * (ANALYZE, BUFFERS), then rolls the transaction back. Returns the plan.
 */
export async function explainUpsert(
  driver: SqlDriver,
  rows: readonly unknown[],
  /** Statements run first in the same (rolled back) transaction: a what-if, e.g. DROP INDEX. */
  before: readonly string[] = [],
): Promise<string> {
  let plan = "";
  let prepared = false;
  const explaining = (tx: SqlExecutor): SqlExecutor => ({
    copyFrom: (table, columns, rows) => tx.copyFrom(table, columns, rows),
    async query<T>(text: string, params: readonly SqlParam[] = []) {
      if (!prepared) {
        prepared = true;
        for (const statement of before) await tx.query(statement);
      }
      if (!/INSERT INTO campaign_metrics/.test(text)) return await tx.query<T>(text, params);
      const lines = await tx.query<Record<string, string>>(
        `EXPLAIN (ANALYZE, BUFFERS) ${text}`,
        params,
      );
      plan = lines.map((line) => Object.values(line)[0]).join("\n");
      throw new RolledBack();
    },
  });
  const wrapped: SqlDriver = {
    ...driver,
    transaction: (work) => driver.transaction((tx) => work(explaining(tx))),
  };
  try {
    await new SqlMetricsStore(wrapped).upsert(rows);
  } catch (error) {
    if (!(error instanceof RolledBack)) throw error;
  }
  return plan;
}

export async function runIngest(
  db: BenchDb,
  options: {
    rows: number;
    batch: number;
    log?: (line: string) => void;
    /** An empty migrated database for the candidate-index run (optional). */
    candidate?: BenchDb;
  },
): Promise<IngestResult> {
  const log = options.log ?? (() => {});
  const generateStart = performance.now();
  const all = ingestRows(options.rows + options.batch);
  const rows = all.slice(0, options.rows);
  const explainBatch = all.slice(options.rows);
  const generateS = (performance.now() - generateStart) / 1000;
  log(`  generated ${rows.length} fake rows in ${round(generateS, 1)} s`);

  await db.driver.query(
    `CREATE TABLE copy_baseline (LIKE campaign_metrics INCLUDING ALL)`,
  );
  const copyStart = performance.now();
  await db.copyCsv("copy_baseline", COPY_COLUMNS, csvChunks(rows));
  const copyS = (performance.now() - copyStart) / 1000;
  log(`  COPY: ${round(copyS, 2)} s`);
  if (db.kind === "postgres") await db.driver.query("CHECKPOINT");

  const {
    seconds: upsertS,
    batches,
    breakdown,
  } = await timedUpserts(db, rows, options.batch);
  log(`  upsert: ${round(upsertS, 2)} s`);

  const counts = await db.driver.query<{ copy: string; upsert: string }>(
    `SELECT (SELECT count(*) FROM copy_baseline)::text AS copy,
            (SELECT count(*) FROM campaign_metrics)::text AS upsert`,
  );
  const upsertExplain = await explainUpsert(db.driver, explainBatch);
  // Appending a digit keeps a valid decimal (≤ 12 fraction digits) and changes the value.
  const restated = rows.slice(0, options.batch).map((row) => ({
    ...row,
    cost: row.cost.includes(".") ? `${row.cost}1` : `${row.cost}.1`,
  }));
  const restatedExplain = await explainUpsert(db.driver, restated);
  // The what-ifs concern campaign_metrics_tenant_ts; a schema without it has had its fix.
  const hasTenantTs = (await db.driver.query<{ found: boolean }>(
    `SELECT to_regclass('campaign_metrics_tenant_ts') IS NOT NULL AS found`,
  ))[0]?.found === true;
  const notApplicable = "not applicable: campaign_metrics_tenant_ts is not in this schema";
  const withoutTenantTs = hasTenantTs
    ? await explainUpsert(db.driver, explainBatch, ["DROP INDEX campaign_metrics_tenant_ts"])
    : notApplicable;
  const widened = hasTenantTs
    ? await explainUpsert(db.driver, explainBatch, CANDIDATE_INDEX_SQL)
    : notApplicable;
  const validationStart = performance.now();
  validateRows(rows);
  const validationS = (performance.now() - validationStart) / 1000;

  const copyRate = rows.length / copyS;
  const upsertRate = rows.length / upsertS;
  let candidate: IngestResult["candidate"];
  if (options.candidate && hasTenantTs) {
    for (const statement of CANDIDATE_INDEX_SQL) await options.candidate.driver.query(statement);
    if (options.candidate.kind === "postgres") await options.candidate.driver.query("CHECKPOINT");
    const run = await timedUpserts(options.candidate, rows, options.batch);
    log(`  upsert with the candidate index: ${round(run.seconds, 2)} s`);
    candidate = {
      change: "campaign_metrics_tenant_ts on (tenant_id, ts, platform, campaign_id)",
      seconds: round(run.seconds),
      rows_per_s: Math.round(rows.length / run.seconds),
      ratio_to_copy: round(rows.length / run.seconds / copyRate),
      breakdown: run.breakdown,
    };
  }
  return {
    rows: rows.length,
    batch_rows: options.batch,
    copy: { seconds: round(copyS), rows_per_s: Math.round(copyRate) },
    upsert: { seconds: round(upsertS), rows_per_s: Math.round(upsertRate), batches, breakdown },
    ratio_to_copy: round(upsertRate / copyRate),
    validation_only_s: round(validationS),
    generate_s: round(generateS),
    verified_counts: { copy: Number(counts[0].copy), upsert: Number(counts[0].upsert) },
    upsert_explain: upsertExplain,
    upsert_explain_restated: restatedExplain,
    upsert_explain_without_tenant_ts: withoutTenantTs,
    upsert_explain_tenant_ts_with_campaign: widened,
    ...(candidate ? { candidate } : {}),
  };
}
