/**
 * Database targets for the benchmark: a schema of its own on a PostgreSQL server
 * (`BENCH_DATABASE_URL`; every connection's search_path selects it, so the store's
 * unqualified SQL runs there unchanged), or an embedded PGlite (in memory, or
 * persisted under a directory). Both give the same store and driver the app uses, plus
 * what the benchmark needs beside it: COPY and session settings for bulk loads.
 */
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pgliteDriver, postgresDriver, type SqlDriver } from "../lib/store/driver.ts";
import { migrate } from "../lib/store/migrate.ts";
import { SqlMetricsStore } from "../lib/store/sql_store.ts";
import { MIGRATIONS } from "../sql/migrations.ts";

export interface BenchDb {
  kind: "postgres" | "pglite";
  /** The schema on a server; undefined for PGlite (its own database). */
  schema?: string;
  driver: SqlDriver;
  store: SqlMetricsStore;
  /** Streams CSV lines (without header) into `table (columns)` with COPY ... FROM STDIN. */
  copyCsv(table: string, columns: readonly string[], chunks: Iterable<string>): Promise<void>;
  /**
   * Runs `statements` concurrently on `parallel` connections (PostgreSQL) or one after
   * the other (PGlite, one connection). Each connection gets `settings` (SET ...).
   */
  parallel(statements: readonly string[], settings?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`not a plain schema name: ${schema}`);
  return schema;
}

/** A unique scratch schema name, e.g. bench_ingest_lx3k2_9f1c. */
export function scratchSchemaName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${crypto.randomUUID().slice(0, 4)}`;
}

/** A connection string whose sessions use `schema` (libpq `options=-c search_path=...`). */
export function urlWithSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("options", `-c search_path=${assertSchemaName(schema)}`);
  return parsed.toString();
}

/** Opens (creating if asked) a schema on the server and migrates it like the app would. */
export async function openPostgresSchema(
  url: string,
  schema: string,
  options: { max?: number; create?: boolean } = {},
): Promise<BenchDb> {
  assertSchemaName(schema);
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    if (options.create !== false) await admin.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await admin.end();
  }
  const sql = postgres(url, {
    max: options.max ?? 4,
    onnotice: () => {},
    connection: { search_path: schema, application_name: "campaign-analytics-bench" },
  });
  const driver = postgresDriver(sql);
  await migrate(driver, MIGRATIONS);
  return {
    kind: "postgres",
    schema,
    driver,
    store: new SqlMetricsStore(driver),
    async copyCsv(table, columns, chunks) {
      const writable = await sql.unsafe(
        `COPY ${table} (${columns.join(", ")}) FROM STDIN WITH (FORMAT csv)`,
      ).writable();
      await pipeline(Readable.from(chunks), writable);
    },
    async parallel(statements, settings = {}) {
      const connection = { search_path: schema, ...settings };
      const pool = postgres(url, { max: statements.length, onnotice: () => {}, connection });
      try {
        await Promise.all(statements.map((statement) => pool.unsafe(statement)));
      } finally {
        await pool.end();
      }
    },
    close: () => driver.close(),
  };
}

export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${assertSchemaName(schema)} CASCADE`);
  } finally {
    await admin.end();
  }
}

/** PGlite in memory (`dir` undefined) or persisted under `dir`, migrated. */
export async function openPglite(dir?: string): Promise<BenchDb> {
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const pglite = dir ? await PGlite.create(dir) : await PGlite.create();
  const driver = pgliteDriver(pglite);
  await migrate(driver, MIGRATIONS);
  return {
    kind: "pglite",
    driver,
    store: new SqlMetricsStore(driver),
    async copyCsv(table, columns, chunks) {
      // PGlite reads COPY input from a Blob exposed as /dev/blob.
      const blob = new Blob([...chunks], { type: "text/csv" });
      await pglite.query(
        `COPY ${table} (${columns.join(", ")}) FROM '/dev/blob' WITH (FORMAT csv)`,
        [],
        { blob },
      );
    },
    async parallel(statements, settings = {}) {
      for (const [name, value] of Object.entries(settings)) {
        await pglite.query(`SELECT set_config($1, $2, false)`, [name, value]);
      }
      for (const statement of statements) await pglite.exec(statement);
    },
    close: () => driver.close(),
  };
}
