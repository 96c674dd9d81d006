/**
 * `serve`'s storage upkeep: the month partitions of the raw rows created ahead, and
 * retention of old raw rows (RETENTION_MONTHS), once at start-up and then daily with
 * Deno.cron. Every replica runs it; each step holds the migration advisory lock and is
 * a no-op when already done, so replicas never repeat or race one another's work.
 */
import type { Logger } from "../lib/log.ts";
import type { SqlDriver } from "../lib/store/driver.ts";
import { maintainPartitions, type MaintenanceReport } from "../lib/store/partitions.ts";
import type { StorageConfig } from "./settings.ts";
import type { CronRegistrar } from "../ingest/cron.ts";

/** Daily, at a quiet minute (UTC); start-up covers the first day. */
export const STORAGE_UPKEEP_SCHEDULE = "17 3 * * *";

/** One upkeep run, logged; a failure is logged and retried by the next run. */
export async function runStorageUpkeep(
  driver: SqlDriver,
  storage: StorageConfig,
  logger: Logger,
  now: Date = new Date(),
): Promise<MaintenanceReport | undefined> {
  try {
    const report = await maintainPartitions(driver, {
      now,
      retentionMonths: storage.RETENTION_MONTHS,
    });
    const changed = report.created.length || report.dropped.length ||
      report.legacyRowsDeleted || report.legacyDropped;
    if (changed) {
      logger.info("storage upkeep", {
        created: report.created,
        dropped: report.dropped,
        raw_kept_from: report.rawKeptFrom?.toISOString() ?? null,
        legacy_rows_deleted: report.legacyRowsDeleted,
        legacy_dropped: report.legacyDropped,
      });
    }
    return report;
  } catch (error) {
    logger.error("storage upkeep failed (the next run tries again)", { error });
    return undefined;
  }
}

/**
 * Registers the daily run and starts one now, in the background: the returned promise
 * (the start-up run's report) never rejects, and the server need not wait for it.
 */
export function startStorageUpkeep(
  driver: SqlDriver,
  storage: StorageConfig,
  logger: Logger,
  cron: CronRegistrar = (name, when, handler) => Deno.cron(name, when, handler),
): Promise<MaintenanceReport | undefined> {
  cron("storage-upkeep", STORAGE_UPKEEP_SCHEDULE, async () => {
    await runStorageUpkeep(driver, storage, logger);
  });
  return runStorageUpkeep(driver, storage, logger);
}
