/**
 * Scheduled ingestion with Deno.cron (run with --unstable-cron). Deno.cron fires in
 * every process that registers it, so each run claims its slot (the scheduled minute)
 * in ingest_runs and holds the account's advisory lock: with three replicas a
 * scheduled sync runs once. Deno.cron does not start a job while its previous run is
 * still going, and the dispatcher's per-account locks also guard against overlap.
 */
import type { Logger } from "../lib/log.ts";
import type { Dispatcher } from "./dispatcher.ts";

export type CronRegistrar = (
  name: string,
  schedule: string,
  handler: () => Promise<void>,
) => Promise<void> | void;

/** The scheduled minute a firing serves: rounded, so replicas a few seconds apart agree. */
export function slotFor(now: Date): Date {
  const minute = 60_000;
  return new Date(Math.round(now.getTime() / minute) * minute);
}

export function registerIngestCron(
  dispatcher: Dispatcher,
  schedule: string,
  logger: Logger,
  clock: () => Date = () => new Date(),
  cron: CronRegistrar = (name, when, handler) => Deno.cron(name, when, handler),
): string[] {
  const names: string[] = [];
  for (const source of dispatcher.sources) {
    const name = `ingest-${source.name}`;
    names.push(name);
    cron(name, schedule, async () => {
      const slot = slotFor(clock());
      const reports = await dispatcher.runAll({ sources: [source.name], slot });
      logger.info("scheduled sync finished", {
        source: source.name,
        slot: slot.toISOString(),
        succeeded: reports.filter((r) => r.status === "succeeded").length,
        failed: reports.filter((r) => r.status === "failed").length,
        skipped: reports.filter((r) => r.status === "skipped").length,
      });
    });
  }
  return names;
}
