/**
 * The fake streamer: on first start it backfills history through the dispatcher (so
 * runs are recorded like any sync), then every interval it emits the rows of the
 * hours touched since its last tick through the same processor as real data.
 *
 * While the database is down, ticks queue in a bounded in-memory backlog that is
 * flushed in order when it returns. Past the bound the oldest batches are dropped,
 * counted in /metrics and logged as errors: data loss is never silent.
 */
import type { Logger } from "../lib/log.ts";
import type { IngestJournal } from "../lib/store/ingest_journal.ts";
import type { Registry } from "../lib/telemetry.ts";
import { isTransientDatabaseError } from "../lib/store/errors.ts";
import { backfillWindow, type FakeSource } from "./fake.ts";
import { fakeRows } from "./fake_rows.ts";
import type { Dispatcher } from "./dispatcher.ts";
import type { Processor } from "./processor.ts";

const HOUR_MS = 3_600_000;

/** The account id the live stream's run is recorded under in ingest_runs. */
export const STREAM_ACCOUNT = "stream";

/** A stream that has not reported for this long belongs to a process that is gone. */
const SILENT_STREAM_MS = 10 * 60_000;

export interface StreamerDeps {
  source: FakeSource;
  processor: Pick<Processor, "process">;
  dispatcher: Dispatcher;
  journal: IngestJournal;
  logger: Logger;
  telemetry: Registry;
  clock: () => Date;
  intervalMs: number;
  backlogMaxRows: number;
  backfillDays: number;
  /** Stores the fake exchange rates of a window of days (ingest/fake_fx.ts). */
  seedRates?: (window: { from: string; to: string }) => Promise<void>;
}

interface PendingBatch {
  rows: unknown[];
  emittedAt: Date;
}

export class FakeStreamer {
  private readonly backlog: PendingBatch[] = [];
  private backlogRows = 0;
  private lastTick: Date | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private flushing: Promise<void> | undefined;
  private runId: number | null = null;
  private readonly dropped;
  private databaseDown = false;
  private ratesSeededTo: string | undefined;

  constructor(private readonly deps: StreamerDeps) {
    this.dropped = deps.telemetry.counter(
      "ingest_backlog_dropped_rows_total",
      "Rows the streamer dropped because its backlog was full while the database was down",
    );
    deps.telemetry.gauge("ingest_backlog_rows", "Rows waiting for the database")
      .collect(() => this.backlogRows);
  }

  /** Backfills history once per tenant (first start), then starts ticking. */
  async start(): Promise<void> {
    // Streams of processes that died stay "running" in ingest_runs until someone notices.
    await this.deps.journal.abandonSilentRuns(
      this.deps.source.tenantId,
      "fake",
      STREAM_ACCOUNT,
      SILENT_STREAM_MS,
    );
    await this.backfillIfEmpty();
    await this.seedRates(this.deps.clock());
    this.lastTick = this.deps.clock();
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
  }

  get pendingRows(): number {
    return this.backlogRows;
  }

  get droppedRows(): number {
    return this.dropped.get();
  }

  async backfillIfEmpty(): Promise<boolean> {
    const { journal, source, dispatcher, logger } = this.deps;
    const history = await journal.sourceStatus(source.tenantId);
    if (history.some((status) => status.source === "fake" && status.last_success_at)) return false;
    if (this.deps.backfillDays === 0) return false;
    const window = backfillWindow(this.deps.clock(), this.deps.backfillDays);
    logger.info("backfilling fake history", { window });
    const reports = await dispatcher.runAll({ sources: ["fake"], window });
    const accepted = reports.reduce((sum, report) => sum + report.accepted, 0);
    logger.info("backfill finished", { accepted, accounts: reports.length });
    return true;
  }

  /** Emits the rows of every hour touched since the previous tick, then flushes. */
  async tick(): Promise<void> {
    const now = this.deps.clock();
    if ((this.ratesSeededTo ?? "") < backfillWindow(now, 1).to) await this.seedRates(now);
    const since = this.lastTick ?? now;
    this.lastTick = now;
    const from = new Date(Math.floor(since.getTime() / HOUR_MS) * HOUR_MS);
    const rows = fakeRows(this.deps.source.catalog, { from, to: now, now });
    if (rows.length) this.enqueue({ rows, emittedAt: now });
    await this.flush();
  }

  /**
   * The demo's exchange rates up to now's day (the backfill window the first time, the
   * new day after that), so that it converts out of the box. Failures are retried on
   * the next tick.
   */
  private async seedRates(now: Date): Promise<void> {
    if (!this.deps.seedRates) return;
    const days = this.ratesSeededTo ? 1 : Math.max(1, this.deps.backfillDays);
    const window = backfillWindow(now, days);
    try {
      await this.deps.seedRates(window);
      this.ratesSeededTo = window.to;
    } catch (error) {
      this.deps.logger.warn("fake exchange rates not seeded", { error });
    }
  }

  private enqueue(batch: PendingBatch): void {
    this.backlog.push(batch);
    this.backlogRows += batch.rows.length;
    while (this.backlogRows > this.deps.backlogMaxRows && this.backlog.length > 1) {
      const oldest = this.backlog.shift()!;
      this.backlogRows -= oldest.rows.length;
      this.dropped.inc({}, oldest.rows.length);
      this.deps.logger.error("streamer backlog full: dropped the oldest rows", {
        dropped_rows: oldest.rows.length,
        dropped_total: this.dropped.get(),
        emitted_at: oldest.emittedAt.toISOString(),
        backlog_rows: this.backlogRows,
      });
    }
  }

  /** Sends queued batches in order; stops at the first failure and keeps the rest. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    const { processor, source, journal, logger } = this.deps;
    while (this.backlog.length > 0) {
      const batch = this.backlog[0];
      try {
        this.runId ??= await journal.startRun({
          tenantId: source.tenantId,
          source: "fake",
          accountId: STREAM_ACCOUNT,
        });
        const result = await processor.process({
          tenantId: source.tenantId,
          source: "fake",
          rows: batch.rows,
          runId: this.runId,
        });
        await journal.addToRun(this.runId!, result.accepted, result.rejected.length);
      } catch (error) {
        if (!isTransientDatabaseError(error)) {
          logger.error("streamer batch failed; dropping it", { error, rows: batch.rows.length });
          this.backlog.shift();
          this.backlogRows -= batch.rows.length;
          continue;
        }
        if (!this.databaseDown) logger.warn("database down: streamer is queueing", { error });
        this.databaseDown = true;
        return;
      }
      this.backlog.shift();
      this.backlogRows -= batch.rows.length;
      if (this.databaseDown) {
        this.databaseDown = false;
        logger.info("database back: streamer backlog flushing", { backlog_rows: this.backlogRows });
      }
    }
  }
}
