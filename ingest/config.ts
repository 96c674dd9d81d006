/**
 * Ingestion settings (the seed's variable names). Connector credentials are read by
 * each connector (see sources.ts); these choose what runs and when.
 */
import { z } from "zod";
import { type Env, parseEnv } from "../lib/config.ts";
import { TenantIdSchema } from "../lib/schema.ts";

const emptyAsUndefined = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

function integer(defaultValue: number, min: number, max: number) {
  return z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(min).max(max).default(defaultValue),
  );
}

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
  DATA_SOURCE: z.preprocess(emptyAsUndefined, z.enum(["fake", "real"]).default("fake")),
  ENABLED_SOURCES: z.preprocess(
    (value) =>
      typeof value === "string" && value.trim()
        ? value.split(",").map((item) => item.trim().toLowerCase()).filter(Boolean)
        : [...REAL_SOURCES],
    z.array(z.enum(REAL_SOURCES)).min(1),
  ),
  FAKE_INTERVAL_MS: integer(2000, 100, 3_600_000),
  INGEST_SCHEDULE: z.preprocess(emptyAsUndefined, CronExpressionSchema.default("*/15 * * * *")),
  INGEST_LOOKBACK_DAYS: integer(28, 1, 400),
  INGEST_TENANT: z.preprocess(emptyAsUndefined, TenantIdSchema.default("default")),
  /** Accounts synced at once per source; each holds one pooled connection for its lock. */
  SYNC_CONCURRENCY: integer(2, 1, 16),
  /** Rows the fake streamer keeps while the database is down before it drops the oldest. */
  INGEST_BACKLOG_MAX_ROWS: integer(100_000, 1000, 10_000_000),
  /** Days of hourly fake rows written on first start. */
  FAKE_BACKFILL_DAYS: integer(90, 0, 730),
});
export type IngestConfig = z.infer<typeof IngestConfigSchema>;

export function loadIngestConfig(env: Env): IngestConfig {
  return parseEnv(IngestConfigSchema, env);
}
