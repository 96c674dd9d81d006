/**
 * Composition root: reads the environment once and builds every long-lived part
 * (database, cache, auth, ingestion, the HTTP app). Entry points (main.ts, the edge
 * handler, tests) choose which parts to start.
 */
import type { Hono } from "hono";
import { type AppConfig, type Env, loadAppConfig } from "../lib/config.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { Registry } from "../lib/telemetry.ts";
import type { CachedReader } from "../lib/cache/cache.ts";
import type { AppExtension } from "../handlers/app.ts";
import type { AppDeps, AppEnv } from "../handlers/context.ts";
import { authenticatorFor, composeApp } from "./app.ts";
import { createCachedReaderFromEnv } from "./cache.ts";
import { type Database, openDatabase } from "./database.ts";
import { type IngestConfig, loadIngestConfig } from "../ingest/config.ts";
import { Processor } from "../ingest/processor.ts";
import { Dispatcher } from "../ingest/dispatcher.ts";
import { SyncLocks } from "../ingest/locks.ts";
import { FakeStreamer } from "../ingest/streamer.ts";
import { createFakeSource, fakeConfigFromEnv } from "../ingest/fake.ts";
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
  /** Set when no API_KEY or JWT settings were given: a key made up for this process. */
  generatedApiKey?: string;
  close(): Promise<void>;
}

export interface ServiceOptions {
  clock?: () => Date;
  logger?: Logger;
  /** More routes on the same app (the bot's /prompt and /slack/command). */
  extensions?: (services: Omit<Services, "app" | "deps" | "close">) => AppExtension[];
}

export async function buildServices(env: Env, options: ServiceOptions = {}): Promise<Services> {
  const config = loadAppConfig(env);
  const ingestConfig = loadIngestConfig(env);
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const telemetry = new Registry();
  const sources = buildSources(env, ingestConfig, clock);

  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
  }, logger);
  const reader = await createCachedReaderFromEnv(env, logger);

  const invalidate = (tenantId: string) => reader.bumpDataVersion(tenantId);
  const processor = new Processor({
    store: db.store,
    journal: db.journal,
    invalidate,
    logger,
    telemetry,
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
        // The streamer's own backlog absorbs outages: fail fast and queue.
        retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
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
  const { app, deps } = composeApp({
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
    async close() {
      await streamer?.stop();
      await reader.close();
      await db.close();
    },
  };
}

function buildSources(env: Env, config: IngestConfig, clock: () => Date): Source[] {
  if (config.DATA_SOURCE === "fake") {
    const fake = fakeConfigFromEnv(env);
    return [createFakeSource({ ...fake, tenantId: config.INGEST_TENANT, now: clock })];
  }
  return createSources(env, config.ENABLED_SOURCES, {});
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
  return "ca_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function runnerName(): string {
  try {
    return `${Deno.hostname()}:${Deno.pid}`;
  } catch {
    return `pid:${Deno.pid}`;
  }
}
