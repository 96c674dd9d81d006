/**
 * What every data source implements: the fake streamer and each ad platform
 * connector. A source turns one account's report for a window of days into unified
 * rows; the processor (processor.ts) validates, stores and records them.
 */
import { z } from "zod";
import type { CampaignMetadata } from "../lib/store/metrics_store.ts";

/** Source names: the four platforms plus the fake streamer. */
export const SOURCE_NAMES = ["meta", "google", "linkedin", "tiktok", "fake"] as const;
export const SourceNameSchema = z.enum(SOURCE_NAMES);
export type SourceName = z.infer<typeof SourceNameSchema>;

const CalendarDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** Inclusive calendar days in the account's own time zone. */
export const SyncWindowSchema = z.object({ from: CalendarDate, to: CalendarDate });
export type SyncWindow = z.infer<typeof SyncWindowSchema>;

/** The account facts a report needs to be read correctly. */
export const AccountInfoSchema = z.object({
  account_id: z.string(),
  currency: z.string().nullable(),
  time_zone: z.string().nullable(),
  name: z.string().nullable().optional(),
});
export type AccountInfo = z.infer<typeof AccountInfoSchema>;

export interface SourceBatch {
  account: AccountInfo;
  /**
   * Unified rows (see MetricRowSchema), not yet validated: a malformed platform row
   * is passed on as-is so the processor can dead-letter it with its raw payload.
   */
  rows: unknown[];
  /** Names, statuses and launch dates, for the campaign catalog. */
  campaigns: CampaignMetadata[];
}

export interface Source {
  readonly name: SourceName;
  /** The tenant the configured accounts belong to. */
  readonly tenantId: string;
  /** Account ids as configured (normalized: digits only, no `act_` prefix). */
  accounts(): string[];
  /** One account's rows for a window; throws SourceError on a failure that ends the run. */
  fetch(account: string, window: SyncWindow, signal?: AbortSignal): Promise<SourceBatch>;
}

/**
 * A failure that ends one source's run (bad credentials, a permanent API error, or
 * retries exhausted). Its message names the source and never contains a secret.
 */
export class SourceError extends Error {
  constructor(
    readonly source: SourceName,
    message: string,
    readonly kind: "auth" | "permanent" | "transient" = "permanent",
  ) {
    super(`${source}: ${message}`);
    this.name = "SourceError";
  }
}
