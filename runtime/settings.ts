/**
 * The whole configuration of each entry point, parsed once from the environment into one
 * typed object (every problem of every section in one ConfigError); each part of the
 * program then receives only the section it needs. Variable names, defaults and meanings
 * are listed in docs/configuration.md.
 */
import { z } from "zod";
import {
  type AppConfig,
  ConfigError,
  type Env,
  envInteger,
  givenVariables,
  loadAppConfig,
  parseEnv,
  parseSections,
  tenantKeyList,
} from "../lib/config.ts";
import { type CacheSettings, cacheSettingsFromEnv } from "../lib/cache/settings.ts";
import { isValidTimeZone } from "../lib/dates.ts";
import { parseTeamTenants } from "../lib/bot/slack.ts";
import {
  type IngestConfig,
  IngestConfigSchema,
  loadIngestConfig,
} from "../ingest/ingest_settings.ts";
import { parseSourceSettings, type SourceSettings } from "../ingest/sources.ts";

const teamTenants = z.string().optional().transform((text, ctx) => {
  try {
    return parseTeamTenants(text);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

export const DEFAULT_ANALYTICS_API_URL = "http://localhost:8080";

export const BotConfigSchema = z.object({
  BOT_PORT: envInteger(8081, 0, 65535),
  ANALYTICS_API_URL: z.url().default(DEFAULT_ANALYTICS_API_URL),
  ANALYTICS_API_TIMEOUT_MS: envInteger(10_000, 100, 120_000),
  /** `ask` over HTTP: the token sent to ANALYTICS_API_URL (default: the first API_KEY). */
  ANALYTICS_API_TOKEN: z.string().trim().optional(),
  /** The zone "today" and "this week" are read in; sent to the API as `tz`. */
  BOT_TIME_ZONE: z.string().default("UTC").refine(isValidTimeZone, "not an IANA time zone"),
  BOT_VECTOR_STORE: z.enum(["auto", "memory", "pgvector"]).default("auto"),
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  SLACK_TEAM_TENANTS: teamTenants,
  /** Standalone bot only: an API key per Slack tenant (`tenant:key,...`). */
  SLACK_API_KEYS: tenantKeyList().transform((keys) =>
    new Map(keys.map(({ tenant, key }) => [tenant, key]))
  ),
});
export type BotConfig = z.infer<typeof BotConfigSchema>;

export function loadBotConfig(env: Env): BotConfig {
  return parseEnv(BotConfigSchema, env, "bot settings");
}

interface Given {
  /** Variables that were given a value (to tell "unset" from "set to the default"). */
  given: ReadonlySet<string>;
}

/** `migrate`: the database settings. */
export interface MigrateSettings extends Given {
  app: AppConfig;
}

/** `bot`: the standalone bot (no database; LOG_LEVEL and MAX_BODY_BYTES of `app`). */
export interface BotSettings extends Given {
  app: AppConfig;
  bot: BotConfig;
}

/** The edge handler: the API without ingestion. */
export interface EdgeSettings extends Given {
  app: AppConfig;
  cache: CacheSettings;
}

/** `ingest`: the API's parts plus ingestion and the enabled connectors. */
export interface PipelineSettings extends EdgeSettings {
  ingest: IngestConfig;
  /** The enabled platform connectors (none when DATA_SOURCE=fake). */
  sources: SourceSettings;
}

/**
 * Storage upkeep `serve` runs at start-up and daily (lib/store/partitions.ts): month
 * partitions ahead and, when set, retention of raw rows.
 */
export const StorageConfigSchema = z.object({
  /**
   * Keep raw rows of the current UTC month and this many whole months before it; older
   * months are dropped (rollups are kept, so lifetime totals stay exact). Unset: keep all.
   */
  RETENTION_MONTHS: z.coerce.number().int().min(1).max(1200).optional(),
});
export type StorageConfig = z.infer<typeof StorageConfigSchema>;

/** The shortest stretch RETENTION_MONTHS keeps: that many whole months of 28 days. */
const DAYS_IN_SHORTEST_MONTH = 28;

/**
 * The storage section. Retention must keep every day ingestion re-reads: rows of a day
 * it dropped are refused, so a lookback longer than the retention would dead-letter
 * rows on every sync.
 */
function storageSection(env: Env): StorageConfig {
  const storage = parseEnv(StorageConfigSchema, env, "storage settings");
  const months = storage.RETENTION_MONTHS;
  const lookback = IngestConfigSchema.pick({ INGEST_LOOKBACK_DAYS: true }).safeParse(
    Object.fromEntries(Object.entries(env).filter(([, value]) => value?.trim())),
  );
  if (months !== undefined && lookback.success) {
    const days = lookback.data.INGEST_LOOKBACK_DAYS;
    if (days > months * DAYS_IN_SHORTEST_MONTH) {
      throw new ConfigError({
        invalid: [{
          variable: "RETENTION_MONTHS",
          problem: `keeps as little as ${months * DAYS_IN_SHORTEST_MONTH} days, but ` +
            `INGEST_LOOKBACK_DAYS=${days} re-reads older days, whose rows would be refused`,
        }],
        context: "storage settings",
      });
    }
  }
  return storage;
}

/** `serve` and `ask`: everything. */
export interface ServeSettings extends PipelineSettings {
  bot: BotConfig;
  storage: StorageConfig;
}

export function loadMigrateSettings(env: Env): MigrateSettings {
  return { given: givenVariables(env), ...parseSections({ app: () => loadAppConfig(env) }) };
}

export function loadBotSettings(env: Env): BotSettings {
  return {
    given: givenVariables(env),
    ...parseSections({ app: () => loadAppConfig(env), bot: () => loadBotConfig(env) }),
  };
}

/** The edge handler's settings, with what the edge needs beyond the container. */
export function loadEdgeSettings(env: Env): EdgeSettings {
  const given = givenVariables(env);
  const sections = parseSections({
    app: () => loadAppConfig(env),
    cache: () => cacheSettingsFromEnv(env),
    edge: () => checkEdgeRequirements(given),
  }, "edge handler");
  return { given, app: sections.app, cache: sections.cache };
}

/**
 * No embedded database and no TCP Redis at the edge, and it never runs open: an edge
 * deployment has many isolates and nobody reads their start-up logs to learn a made-up key.
 */
function checkEdgeRequirements(given: ReadonlySet<string>): void {
  const missing = given.has("DATABASE_URL") ? [] : ["DATABASE_URL"];
  const invalid = given.has("REDIS_URL")
    ? [{
      variable: "REDIS_URL",
      problem: "Redis over TCP is not used at the edge: set UPSTASH_REDIS_REST_URL and " +
        "UPSTASH_REDIS_REST_TOKEN instead",
    }]
    : [];
  const authConfigured = ["API_KEY", "JWT_SECRET", "JWT_JWKS_URL"].some((name) => given.has(name));
  const problems = authConfigured
    ? []
    : ["set API_KEY or JWT_SECRET / JWT_JWKS_URL: the edge handler never runs open"];
  if (missing.length || invalid.length || problems.length) {
    throw new ConfigError({ missing, invalid, problems });
  }
}

/** `mcp` over stdio: forwarding to a running API, or the local store as `serve` opens it. */
export const McpConfigSchema = z.object({
  MCP_API_URL: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
  MCP_API_KEY: z.string().trim().min(8, "an API key has at least 8 characters").optional(),
  MCP_API_TIMEOUT_MS: envInteger(30_000, 100, 600_000),
});
export type McpConfig = z.infer<typeof McpConfigSchema>;

/** `mcp`: everything `serve` reads, plus its own section. */
export interface McpSettings extends ServeSettings {
  mcp: McpConfig;
}

export function loadMcpSettings(env: Env): McpSettings {
  return {
    given: givenVariables(env),
    ...parseSections({
      ...pipelineParsers(env),
      bot: () => loadBotConfig(env),
      storage: () => storageSection(env),
      mcp: () => parseEnv(McpConfigSchema, env, "mcp settings"),
    }),
  };
}

export function loadPipelineSettings(env: Env): PipelineSettings {
  return { given: givenVariables(env), ...parseSections(pipelineParsers(env)) };
}

export function loadServeSettings(env: Env): ServeSettings {
  return {
    given: givenVariables(env),
    ...parseSections({
      ...pipelineParsers(env),
      bot: () => loadBotConfig(env),
      storage: () => storageSection(env),
    }),
  };
}

/** What decides which connectors run, for which tenant (fields of the ingest section). */
const SourceChoiceSchema = IngestConfigSchema.pick({
  DATA_SOURCE: true,
  ENABLED_SOURCES: true,
  INGEST_TENANT: true,
});

/**
 * The enabled connectors' settings. Read even when another ingest variable is invalid,
 * so their problems are reported in the same error; when the choice itself is invalid
 * the ingest section reports it and no connector is read.
 */
function sourcesSection(env: Env): SourceSettings {
  let choice: z.infer<typeof SourceChoiceSchema>;
  try {
    choice = parseEnv(SourceChoiceSchema, env);
  } catch {
    return { enabled: [], retry: {} };
  }
  return choice.DATA_SOURCE === "real"
    ? parseSourceSettings(env, choice.ENABLED_SOURCES, choice.INGEST_TENANT)
    : { enabled: [], retry: {} };
}

function pipelineParsers(env: Env) {
  return {
    app: () => loadAppConfig(env),
    cache: () => cacheSettingsFromEnv(env),
    ingest: () => loadIngestConfig(env),
    sources: () => sourcesSection(env),
  };
}
