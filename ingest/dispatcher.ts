/**
 * Runs syncs: each enabled source, each of its accounts, independently, so that one
 * failing source (or account) never blocks the others. A sync holds its account's
 * lock, claims its scheduled slot in `ingest_runs` (three replicas firing the same
 * schedule run it once), fetches the window, and hands the rows to the processor.
 */
import type { Logger } from "../lib/log.ts";
import { type IngestJournal, syncLockKey } from "../lib/store/ingest_journal.ts";
import type { MetricsStore } from "../lib/store/metrics_store.ts";
import { calendarDateIn, shiftDate } from "../lib/dates.ts";
import type { Registry } from "../lib/telemetry.ts";
import type { Processor } from "./processor.ts";
import type { Source, SourceName, SyncWindow } from "./source.ts";
import type { SyncLocks } from "./locks.ts";

export interface DispatcherDeps {
  sources: readonly Source[];
  processor: Pick<Processor, "process">;
  journal: IngestJournal;
  store: Pick<MetricsStore, "upsertCampaigns">;
  locks: SyncLocks;
  logger: Logger;
  telemetry: Registry;
  clock: () => Date;
  lookbackDays: number;
  /** Identifies this process in `ingest_runs` (host and pid). */
  runner: string;
  /** Accounts synced at once; each holds a pooled connection for its lock. */
  concurrency?: number;
}

export interface RunOptions {
  /** Limit to these sources (default: all configured). */
  sources?: readonly SourceName[];
  /** The scheduled time being served; omitted for manual runs. */
  slot?: Date;
  /** Explicit window (backfills); default [today − lookback, today]. */
  window?: SyncWindow;
}

export interface SyncReport {
  source: SourceName;
  account: string;
  status: "succeeded" | "failed" | "skipped";
  accepted: number;
  rejected: number;
  error?: string;
  reason?: string;
}

export class Dispatcher {
  private readonly syncs;

  constructor(private readonly deps: DispatcherDeps) {
    this.syncs = deps.telemetry.counter("ingest_syncs_total", "Syncs by source and outcome");
  }

  get sources(): readonly Source[] {
    return this.deps.sources;
  }

  defaultWindow(): SyncWindow {
    const today = calendarDateIn(this.deps.clock(), "UTC");
    return { from: shiftDate(today, -this.deps.lookbackDays), to: today };
  }

  async runAll(options: RunOptions = {}): Promise<SyncReport[]> {
    const chosen = this.deps.sources.filter((source) =>
      !options.sources || options.sources.includes(source.name)
    );
    // Runs of runners that died (kill -9) are settled on every pass, not only when the
    // same account syncs again.
    for (const tenant of new Set(chosen.map((source) => source.tenantId))) {
      const abandoned = await this.deps.journal.abandonUnlockedRuns(tenant).catch((error) => {
        this.deps.logger.warn("could not check for abandoned runs", { tenant, error });
        return 0;
      });
      if (abandoned) {
        this.deps.logger.warn("marked runs of stopped runners as failed", { abandoned });
      }
    }
    const perSource = await Promise.all(chosen.map((source) => this.runSource(source, options)));
    return perSource.flat();
  }

  async runSource(source: Source, options: RunOptions = {}): Promise<SyncReport[]> {
    const accounts = source.accounts();
    const reports: SyncReport[] = [];
    const concurrency = Math.max(1, this.deps.concurrency ?? 2);
    for (let start = 0; start < accounts.length; start += concurrency) {
      const slice = accounts.slice(start, start + concurrency);
      reports.push(
        ...await Promise.all(slice.map((account) => this.sync(source, account, options))),
      );
    }
    return reports;
  }

  private async sync(source: Source, account: string, options: RunOptions): Promise<SyncReport> {
    const key = syncLockKey(source.tenantId, source.name, account);
    const base = { source: source.name, account, accepted: 0, rejected: 0 };
    const locked = await this.deps.locks.run(key, () => this.syncLocked(source, account, options));
    const report: SyncReport = locked.ran
      ? locked.value
      : { ...base, status: "skipped", reason: "another runner holds this account's lock" };
    this.syncs.inc({ source: source.name, status: report.status });
    return report;
  }

  private async syncLocked(
    source: Source,
    account: string,
    options: RunOptions,
  ): Promise<SyncReport> {
    const { journal, logger } = this.deps;
    const base = { source: source.name, account, accepted: 0, rejected: 0 };
    const window = options.window ?? this.defaultWindow();
    const abandoned = await journal.abandonStaleRuns(source.tenantId, source.name, account);
    if (abandoned) {
      logger.warn("marked runs of a stopped runner as failed", {
        source: source.name,
        account,
        abandoned,
      });
    }
    const runId = await journal.startRun({
      tenantId: source.tenantId,
      source: source.name,
      accountId: account,
      slot: options.slot,
      window,
      runner: this.deps.runner,
    });
    if (runId === null) return { ...base, status: "skipped", reason: "this slot already ran" };
    const log = logger.child({ source: source.name, account, run_id: runId });
    try {
      const batch = await source.fetch(account, window);
      await journal.upsertAccount({
        tenantId: source.tenantId,
        platform: source.name,
        accountId: account,
        name: batch.account.name ?? null,
        currency: batch.account.currency,
        timeZone: batch.account.time_zone,
      });
      const result = await this.deps.processor.process({
        tenantId: source.tenantId,
        source: source.name,
        rows: batch.rows,
        runId,
      });
      // After the rows: the catalog endpoint's names and statuses are the authority.
      await this.deps.store.upsertCampaigns(batch.campaigns);
      await journal.finishRun(runId, {
        status: "succeeded",
        accepted: result.accepted,
        rejected: result.rejected.length,
      });
      log.info("sync succeeded", {
        window,
        accepted: result.accepted,
        rejected: result.rejected.length,
      });
      return {
        ...base,
        status: "succeeded",
        accepted: result.accepted,
        rejected: result.rejected.length,
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.error("sync failed", { window, error: message });
      await journal.finishRun(runId, { status: "failed", accepted: 0, rejected: 0, error: message })
        .catch((finishError) =>
          log.error("could not record the failed run", { error: finishError })
        );
      return { ...base, status: "failed", error: message };
    }
  }
}
