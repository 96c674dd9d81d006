/**
 * Composition root: builds every long-lived part (database, cache, auth, ingestion, the
 * HTTP app) from the settings an entry point parsed once (runtime/settings.ts). Entry
 * points (main.ts, the benchmark's server) choose which parts to start.
 */
import type { Hono } from "hono";
import type { AppConfig } from "../lib/config.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { Registry } from "../lib/telemetry.ts";
import { toHex } from "../lib/encoding.ts";
import type { CachedReader } from "../lib/cache/cache.ts";
import type { AppExtension } from "../handlers/app_factory.ts";
import type { AppDeps, AppEnv } from "../handlers/context.ts";
import { authenticatorFor, composeApp } from "./compose_app.ts";
import { createCachedReader } from "./cache_wiring.ts";
import type { PipelineSettings } from "./settings.ts";
import { type Database, openDatabase } from "./database.ts";
import type { IngestConfig } from "../ingest/ingest_settings.ts";
import { Processor } from "../ingest/processor.ts";
import { Dispatcher } from "../ingest/dispatcher.ts";
import { SyncLocks } from "../ingest/locks.ts";
import { FakeStreamer } from "../ingest/streamer.ts";
import { createFakeSource } from "../ingest/fake.ts";
import { seedFakeRates } from "../ingest/fake_fx.ts";
import { createSources } from "../ingest/sources.ts";
import type { Source } from "../ingest/source.ts";

export interface Services {
  config: AppConfig;
  ingestConfig: IngestConfig;
  logger: Logger;
  telemetry: Registry;
  db: Database;
  reader: CachedReader;
  processor: Processor;
  dispatcher: Dispatcher;
  /** The fake streamer when DATA_SOURCE=fake. */
  streamer?: FakeStreamer;
  sources: readonly Source[];
  deps: AppDeps;
  app: Hono<AppEnv>;
  /** The server's handler: the cached-read fast path in front of `app.fetch`. */
  fetch: (request: Request) => Response | Promise<Response>;
  /** Set when no API_KEY or JWT settings were given: a key made up for this process. */
  generatedApiKey?: string;
  close(): Promise<void>;
}

export interface ServiceOptions {
  clock?: () => Date;
  logger?: Logger;
  /** More routes on the same app (the bot's /prompt and /slack/command). */
  extensions?: (services: Omit<Services, "app" | "fetch" | "deps" | "close">) => AppExtension[];
}

export async function buildServices(
  settings: PipelineSettings,
  options: ServiceOptions = {},
): Promise<Services> {
  const { app: config, ingest: ingestConfig } = settings;
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const telemetry = new Registry();
  const sources = buildSources(settings, clock);

  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
  }, logger);
  const reader = await createCachedReader(settings.cache, logger);

  const invalidate = (tenantId: string) => reader.bumpDataVersion(tenantId);
  const processor = new Processor({
    store: db.store,
    journal: db.journal,
    invalidate,
    logger,
    telemetry,
    clock,
  });
  const dispatcher = new Dispatcher({
    sources,
    processor,
    journal: db.journal,
    store: db.store,
    locks: new SyncLocks(db.driver),
    logger,
    telemetry,
    clock,
    lookbackDays: ingestConfig.INGEST_LOOKBACK_DAYS,
    runner: runnerName(),
    concurrency: ingestConfig.SYNC_CONCURRENCY,
  });
  const fake = sources.find((source) => source.name === "fake");
  const streamer = fake && "catalog" in fake
    ? new FakeStreamer({
      source: fake as ReturnType<typeof createFakeSource>,
      processor: new Processor({
        store: db.store,
        journal: db.journal,
        invalidate,
        logger,
        telemetry,
        clock,
        // The streamer's own backlog absorbs outages: fail fast and queue.
        retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
      }),
      dispatcher,
      journal: db.journal,
      logger,
      telemetry,
      clock,
      intervalMs: ingestConfig.FAKE_INTERVAL_MS,
      backlogMaxRows: ingestConfig.INGEST_BACKLOG_MAX_ROWS,
      backfillDays: ingestConfig.FAKE_BACKFILL_DAYS,
      seedRates: async (window) => {
        const catalog = (fake as ReturnType<typeof createFakeSource>).catalog;
        const currencies = catalog.accounts.map((account) => account.currency);
        if (await seedFakeRates(db.fx, fake.tenantId, currencies, window)) {
          await invalidate(fake.tenantId);
        }
      },
    })
    : undefined;

  const { authenticator, generatedApiKey } = buildAuthenticator(config);
  const partial = {
    config,
    ingestConfig,
    logger,
    telemetry,
    db,
    reader,
    processor,
    dispatcher,
    streamer,
    sources,
    generatedApiKey,
  };
  const { app, fetch, deps } = composeApp({
    config,
    store: db.store,
    journal: db.journal,
    fx: db.fx,
    reader,
    logger,
    telemetry,
    clock,
    authenticator,
    configuredSources: () => sources.map((source) => source.name),
    extensions: () => options.extensions?.(partial) ?? [],
  });
  return {
    ...partial,
    deps,
    app,
    fetch,
    async close() {
      await streamer?.stop();
      await reader.close();
      await db.close();
    },
  };
}

function buildSources({ ingest, sources }: PipelineSettings, clock: () => Date): Source[] {
  if (ingest.DATA_SOURCE === "fake") {
    return [createFakeSource({
      seed: ingest.FAKE_SEED,
      campaigns: ingest.FAKE_CAMPAIGNS,
      tenantId: ingest.INGEST_TENANT,
      now: clock,
    })];
  }
  return createSources(sources);
}

function buildAuthenticator(config: AppConfig) {
  const configured = config.API_KEY.length > 0 || config.JWT_SECRET || config.JWT_JWKS_URL;
  // The API is never open: without any configured credential, make one up and say it once.
  const generatedApiKey = configured ? undefined : randomKey();
  const withKey = generatedApiKey
    ? { ...config, API_KEY: [{ tenant: "default", key: generatedApiKey }] }
    : config;
  return { authenticator: authenticatorFor(withKey), generatedApiKey };
}

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return "ca_" + toHex(bytes);
}

function runnerName(): string {
  try {
    return `${Deno.hostname()}:${Deno.pid}`;
  } catch {
    return `pid:${Deno.pid}`;
  }
}
