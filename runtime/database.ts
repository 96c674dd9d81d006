/**
 * Opens the database an entry point asks for: PostgreSQL through postgres.js when
 * DATABASE_URL is set, otherwise PGlite persisted under DATA_DIR (embedded, no server
 * needed). Migrations run before anything else touches the schema.
 */
import { postgresClient } from "./postgres.ts";
import { lockDataDir } from "./data_dir_lock.ts";
import { postgresDriver, type SqlDriver } from "../lib/store/driver.ts";
import { pgliteWorkerDriver } from "./pglite_worker_driver.ts";
import { openStores } from "../lib/store/open.ts";
import type { SqlMetricsStore } from "../lib/store/sql_store.ts";
import type { IngestJournal } from "../lib/store/ingest_journal.ts";
import type { SqlFxStore } from "../lib/store/fx_store.ts";
import type { Logger } from "../lib/log.ts";

/**
 * A pooled query's deadline, connection wait included: longer than any healthy query
 * takes, shorter than an HTTP client waits.
 */
const QUERY_TIMEOUT_MS = 15_000;

export interface DatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  poolSize: number;
  /** Skip migrations (an edge handler, or a process that must not alter the schema). */
  migrate?: boolean;
}

export interface Database {
  kind: SqlDriver["kind"];
  driver: SqlDriver;
  store: SqlMetricsStore;
  journal: IngestJournal;
  fx: SqlFxStore;
  close(): Promise<void>;
}

export async function openDatabase(options: DatabaseOptions, logger: Logger): Promise<Database> {
  const url = options.databaseUrl;
  const driver = url
    ? postgresDriver(postgresClient(url, options.poolSize), {
      openSession: () => postgresClient(url, 1),
      queryTimeoutMs: QUERY_TIMEOUT_MS,
    })
    : await openPglite(options.dataDir, logger);
  const { store, journal, fx, appliedMigrations } = await openStores(driver, {
    migrate: options.migrate,
  });
  if (appliedMigrations.length) logger.info("migrations applied", { versions: appliedMigrations });
  return { kind: driver.kind, driver, store, journal, fx, close: () => driver.close() };
}

async function openPglite(dataDir: string, logger: Logger): Promise<SqlDriver> {
  const path = `${dataDir.replace(/\/$/, "")}/pglite`;
  await Deno.mkdir(path, { recursive: true });
  // Before the engine touches the files: a second process must fail here, not corrupt them.
  const lock = await lockDataDir(dataDir);
  try {
    logger.info("using embedded PGlite", { path });
    // On a worker thread of its own: a long write never stalls the HTTP server.
    const driver = await pgliteWorkerDriver(path);
    return {
      ...driver,
      async close() {
        await driver.close();
        lock.release();
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
