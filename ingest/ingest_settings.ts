/**
 * Ingestion settings: what runs and when, the tenant ingested data belongs to, and the
 * fake data's shape. Connector credentials are the connectors' own sections (sources.ts).
 */
import { z } from "zod";
import { type Env, envInteger, parseEnv } from "../lib/config.ts";
import { TenantIdSchema } from "../lib/schema.ts";
import { DEFAULT_FAKE_CAMPAIGNS, DEFAULT_FAKE_SEED, MAX_FAKE_CAMPAIGNS } from "./fake_model.ts";

const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;

/** A five-field cron expression (minute hour day-of-month month day-of-week), in UTC. */
export const CronExpressionSchema = z.string().trim().refine(
  (text) => {
    const fields = text.split(/\s+/);
    return fields.length === 5 && fields.every((field) => CRON_FIELD.test(field));
  },
  "expected a five-field cron expression such as */15 * * * *",
);

export const REAL_SOURCES = ["meta", "google", "linkedin", "tiktok"] as const;

export const IngestConfigSchema = z.object({
  DATA_SOURCE: z.enum(["fake", "real"]).default("fake"),
  ENABLED_SOURCES: z.preprocess(
    (value) =>
      typeof value === "string" && value.trim()
        ? value.split(",").map((item) => item.trim().toLowerCase()).filter(Boolean)
        : [...REAL_SOURCES],
    z.array(z.enum(REAL_SOURCES)).min(1),
  ),
  FAKE_INTERVAL_MS: envInteger(2000, 100, 3_600_000),
  INGEST_SCHEDULE: CronExpressionSchema.default("*/15 * * * *"),
  INGEST_LOOKBACK_DAYS: envInteger(28, 1, 400),
  INGEST_TENANT: TenantIdSchema.default("default"),
  /** Accounts synced at once per source; each holds one pooled connection for its lock. */
  SYNC_CONCURRENCY: envInteger(2, 1, 16),
  /** Rows the fake streamer keeps while the database is down before it drops the oldest. */
  INGEST_BACKLOG_MAX_ROWS: envInteger(100_000, 1000, 10_000_000),
  /** Days of hourly fake rows written on first start. */
  FAKE_BACKFILL_DAYS: envInteger(90, 0, 730),
  /** Same seed, same fake data. */
  FAKE_SEED: z.coerce.number().int().safe().default(DEFAULT_FAKE_SEED),
  FAKE_CAMPAIGNS: envInteger(DEFAULT_FAKE_CAMPAIGNS, 1, MAX_FAKE_CAMPAIGNS),
});
export type IngestConfig = z.infer<typeof IngestConfigSchema>;

export function loadIngestConfig(env: Env): IngestConfig {
  return parseEnv(IngestConfigSchema, env, "ingestion settings");
}
