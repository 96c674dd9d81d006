/**
 * The one path every row takes into the store, whatever its source (fake streamer,
 * platform connector, push API): validate → upsert the batch → dead-letter the
 * rejects → bump the tenant's cache data version. Transient database errors are
 * retried with backoff; anything else surfaces to the caller.
 */
import type { Logger } from "../lib/log.ts";
import { isRecord, type RowRejection } from "../lib/schema.ts";
import type { IngestJournal } from "../lib/store/ingest_journal.ts";
import type { MetricsStore } from "../lib/store/metrics_store.ts";
import { isTransientDatabaseError } from "../lib/store/errors.ts";
import { type RetryDeps, type RetryPolicy, withRetry } from "../lib/retry.ts";
import type { Registry } from "../lib/telemetry.ts";

export interface ProcessInput {
  tenantId: string;
  source: string;
  rows: readonly unknown[];
  /** The run these rows belong to (dead letters point at it). */
  runId?: number | null;
}

export interface ProcessResult {
  accepted: number;
  rejected: RowRejection[];
}

export interface ProcessorDeps {
  store: MetricsStore;
  journal: IngestJournal;
  /** Makes the tenant's cached answers unreachable (cache data version bump). */
  invalidate: (tenantId: string) => Promise<void>;
  logger: Logger;
  telemetry: Registry;
  /** Bounds row timestamps (a year ahead at most); the real clock by default. */
  clock?: () => Date;
  retry?: RetryPolicy;
  retryDeps?: RetryDeps;
}

/** About 10 s of retries in all: long enough for a failover, short enough for a request. */
export const DEFAULT_DATABASE_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 4000,
};

/** Push clients get a short retry: they hold a request open and can retry on 503. */
export const PUSH_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };

export class Processor {
  private readonly ingested;
  private readonly rejectedRows;
  private readonly retries;
  private readonly deadLetterFailures;

  constructor(private readonly deps: ProcessorDeps) {
    this.ingested = deps.telemetry.counter("ingested_rows_total", "Rows stored, by source");
    this.rejectedRows = deps.telemetry.counter(
      "ingest_rejected_rows_total",
      "Rows refused by validation and dead-lettered, by source",
    );
    this.retries = deps.telemetry.counter(
      "ingest_database_retries_total",
      "Retries after a transient database error",
    );
    this.deadLetterFailures = deps.telemetry.counter(
      "ingest_dead_letter_failures_total",
      "Batches whose rejected rows could not be dead-lettered (they are logged instead)",
    );
  }

  async process(input: ProcessInput): Promise<ProcessResult> {
    const rows = input.rows.map((row) => withDefaults(row, input.tenantId, input.source));
    const tenantMismatch = rows.flatMap((row, index) =>
      isRecord(row) && row.tenant_id !== input.tenantId
        ? [{
          index,
          field: "tenant_id",
          error: `rows may only be written to tenant "${input.tenantId}"`,
        }]
        : []
    );
    const allowed = tenantMismatch.length
      ? rows.map((row, index) => (tenantMismatch.some((m) => m.index === index) ? undefined : row))
      : rows;
    const now = this.deps.clock?.() ?? new Date();
    const result = await this.retrying(() =>
      this.deps.store.upsert(allowed.filter((row) => row !== undefined), { now })
    );
    // From here the accepted rows are committed: whatever happens next, cached answers
    // must not outlive them, and the caller is told exactly what was stored (the
    // rejects are in the answer even when their dead letters cannot be written).
    const rejected = [...tenantMismatch, ...remapIndexes(result.rejected, allowed)]
      .sort((a, b) => a.index - b.index);
    try {
      if (rejected.length) await this.recordRejects(input, rejected);
    } finally {
      if (result.accepted > 0) {
        this.ingested.inc({ source: input.source }, result.accepted);
        await this.deps.invalidate(input.tenantId);
      }
    }
    return { accepted: result.accepted, rejected };
  }

  private async recordRejects(input: ProcessInput, rejected: RowRejection[]): Promise<void> {
    this.rejectedRows.inc({ source: input.source }, rejected.length);
    this.deps.logger.warn("rows rejected", {
      source: input.source,
      tenant: input.tenantId,
      rejected: rejected.length,
      first: rejected[0],
    });
    try {
      await this.retrying(() =>
        this.deps.journal.deadLetter(
          input.tenantId,
          input.source,
          input.runId ?? null,
          rejected.map((reject) => ({ ...reject, payload: input.rows[reject.index] })),
        )
      );
    } catch (error) {
      // The rows that were accepted are committed; failing the call now would report a
      // write that happened as failed. The rejects are returned to the caller and logged.
      this.deadLetterFailures.inc({ source: input.source });
      this.deps.logger.error("could not dead-letter rejected rows", {
        source: input.source,
        tenant: input.tenantId,
        rejected: rejected.length,
        error,
      });
    }
  }

  private retrying<T>(work: () => Promise<T>): Promise<T> {
    return withRetry(work, isTransientDatabaseError, this.deps.retry ?? DEFAULT_DATABASE_RETRY, {
      ...this.deps.retryDeps,
      onRetry: (error, attempt, delayMs) => {
        this.retries.inc();
        this.deps.logger.warn("database unavailable, retrying", {
          attempt,
          delay_ms: delayMs,
          error,
        });
        this.deps.retryDeps?.onRetry?.(error, attempt, delayMs);
      },
    });
  }
}

function withDefaults(row: unknown, tenantId: string, source: string): unknown {
  return isRecord(row) ? { tenant_id: tenantId, source, ...row } : row;
}

/** Store rejections index the filtered batch; map them back to the caller's indexes. */
function remapIndexes(rejected: RowRejection[], allowed: readonly unknown[]): RowRejection[] {
  const original: number[] = [];
  allowed.forEach((row, index) => row !== undefined && original.push(index));
  return rejected.map((reject) => ({ ...reject, index: original[reject.index] }));
}
