/**
 * The narrow SQL surface the store needs, with one adapter per driver. The store's
 * queries are plain PostgreSQL with `$n` parameters, so the same text runs on PGlite
 * (embedded) and on a PostgreSQL server through postgres.js. The drivers themselves
 * are created by entry points and passed in: lib/ opens no files or sockets.
 */
import type { Sql, TransactionSql } from "postgres";

/** A query parameter: whatever the driver can bind (string, number, bigint, Date, arrays, null). */
export type SqlParam = unknown;

/** Runs one statement with `$n` parameters and resolves with its rows. */
export interface SqlExecutor {
  /** Runs `text` with `params` bound to `$1`, `$2`, ... and resolves with the rows. */
  query<T = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<T[]>;
  /**
   * Loads rows into `table (columns)` with COPY: `rows` is COPY's text format (one line
   * a row, fields separated by tabs, `\N` for NULL, see {@linkcode copyField}). A server
   * receives them as `COPY ... FROM STDIN`, PGlite reads them from a blob. Bulk rows
   * travel as one stream instead of one array parameter per column, which the server
   * would otherwise parse element by element.
   */
  copyFrom(table: string, columns: readonly string[], rows: string): Promise<void>;
}

/**
 * A text field in COPY's text format (fields separated by tabs, one row a line, `\N`
 * for NULL): backslash, tab and line breaks escaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyField } from "@campaign-analytics/core/store";
 *
 * assert.equal(copyField("plain"), "plain");
 * assert.equal(copyField("a\tb\\c"), "a\\tb\\\\c");
 * ```
 */
export function copyField(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch]) : value;
}

const COPY_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "\t": "\\t",
  "\n": "\\n",
  "\r": "\\r",
};

/** `COPY table (columns)` with a target that is only ever the store's own identifiers. */
function copyStatement(table: string, columns: readonly string[], from: string): string {
  const identifier = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
  for (const name of [table, ...columns]) {
    if (!identifier.test(name)) throw new Error(`not a plain SQL identifier: ${name}`);
  }
  return `COPY ${table} (${columns.join(", ")}) FROM ${from}`;
}

/** The SQL surface the stores need, over PGlite or postgres.js. */
export interface SqlDriver extends SqlExecutor {
  /** "postgres" for a server, "pglite" for the embedded engine. */
  readonly kind: "postgres" | "pglite";
  /** Runs `work` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs `work` on one dedicated connection (session-level advisory locks must be
   * taken and released on the same connection).
   */
  session<T>(work: (session: SqlExecutor) => Promise<T>): Promise<T>;
  /** Closes the pool or the embedded engine. */
  close(): Promise<void>;
}

/** How {@linkcode postgresDriver} opens sessions and bounds pooled queries. */
export interface PostgresDriverOptions {
  /**
   * Opens a dedicated single-connection client for `session()`. Ending that client
   * closes the connection, which releases its session locks without another write.
   * Without it, sessions use `sql.reserve()`: postgres.js 3.4.9 can crash the process
   * when a reserved connection's backend dies (porsager/postgres#1208), so entry
   * points that know the connection string pass this.
   */
  openSession?: () => Sql;
  /**
   * Milliseconds a pooled query (outside transactions and sessions) may take, waiting
   * for a connection included; past it the query is cancelled and fails as a transient
   * error (503 with Retry-After), so no request waits longer than its client would.
   */
  queryTimeoutMs?: number;
}

/**
 * A pooled query that missed its deadline (the database is unreachable or overloaded).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueryTimeoutError } from "@campaign-analytics/core/store";
 *
 * const error = new QueryTimeoutError(15_000);
 * assert.equal(error.code, "QUERY_TIMEOUT");
 * ```
 */
export class QueryTimeoutError extends Error {
  /** Always "QUERY_TIMEOUT". */
  readonly code = "QUERY_TIMEOUT";
  /** The error for a query that took longer than `ms` milliseconds. */
  constructor(ms: number) {
    super(`database query did not finish within ${ms} ms`);
    this.name = "QueryTimeoutError";
  }
}

/**
 * A driver over postgres.js: a pooled PostgreSQL server connection.
 *
 * @example
 * ```ts ignore
 * import postgres from "postgres";
 * import { openMetricsStore, postgresDriver } from "@campaign-analytics/core/store";
 *
 * const url = "postgres://postgres@127.0.0.1:5432/analytics";
 * const driver = postgresDriver(postgres(url, { max: 10 }), {
 *   openSession: () => postgres(url, { max: 1 }),
 *   queryTimeoutMs: 15_000,
 * });
 * const { store, close } = await openMetricsStore(driver);
 * ```
 *
 * @param sql A postgres.js client (`postgres(url)`); the driver owns it from now on.
 * @param options Dedicated sessions and the pooled-query deadline.
 * @returns The driver; `close()` ends the pool.
 */
export function postgresDriver(sql: Sql, options: PostgresDriverOptions = {}): SqlDriver {
  const executor = (runner: Sql | TransactionSql): SqlExecutor => ({
    async query<T>(text: string, params: readonly SqlParam[] = []) {
      // deno-lint-ignore no-explicit-any
      const rows = await runner.unsafe(text, params as any[]);
      return rows as unknown as T[];
    },
    async copyFrom(table: string, columns: readonly string[], rows: string) {
      const stream = await runner.unsafe(copyStatement(table, columns, "STDIN")).writable();
      await new Promise<void>((resolve, reject) => {
        stream.once("error", reject);
        stream.once("finish", resolve);
        stream.end(rows);
      });
    },
  });
  const timeoutMs = options.queryTimeoutMs;
  const pooled: SqlExecutor = timeoutMs === undefined ? executor(sql) : {
    copyFrom: executor(sql).copyFrom,
    async query<T>(text: string, params: readonly SqlParam[] = []) {
      // deno-lint-ignore no-explicit-any
      const pending = sql.unsafe(text, params as any[]);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // A query still waiting for a connection (no protocol state yet) leaves the
          // queue. One already sent is left to finish: cancelling it opens another
          // connection whose failure postgres.js would leave unhandled.
          if (!(pending as unknown as { state?: unknown }).state) pending.cancel();
          reject(new QueryTimeoutError(timeoutMs));
        }, timeoutMs);
      });
      try {
        return await Promise.race([pending, deadline]) as unknown as T[];
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return {
    kind: "postgres",
    ...pooled,
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      return await sql.begin((tx) => work(executor(tx))) as T;
    },
    async session<T>(work: (session: SqlExecutor) => Promise<T>): Promise<T> {
      if (options.openSession) {
        const dedicated = options.openSession();
        try {
          return await work(executor(dedicated));
        } finally {
          await dedicated.end({ timeout: 2 }).catch(() => {});
        }
      }
      const reserved = await sql.reserve();
      try {
        return await work(executor(reserved));
      } finally {
        reserved.release();
      }
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

/** The part of a PGlite query runner (the database or a transaction) the driver uses. */
export interface PGliteQueryRunner {
  /** Runs one statement with `$n` parameters; `blob` is what `COPY ... FROM '/dev/blob'` reads. */
  query<T>(text: string, params?: unknown[], options?: { blob?: Blob }): Promise<{ rows: T[] }>;
}

/**
 * COPY on PGlite: the rows are handed over as a blob, which the statement reads as the
 * file `/dev/blob`. Shared with the worker-thread driver (runtime/pglite_worker.ts).
 */
export async function pgliteCopyFrom(
  runner: PGliteQueryRunner,
  table: string,
  columns: readonly string[],
  rows: string,
): Promise<void> {
  await runner.query(copyStatement(table, columns, "'/dev/blob'"), [], {
    blob: new Blob([rows]),
  });
}

/** The part of a PGlite instance (`new PGlite()`) the driver uses. */
export interface PGliteConnection extends PGliteQueryRunner {
  /** Whether `close()` has run. */
  readonly closed: boolean;
  /** Runs `callback` in one transaction. */
  transaction<T>(callback: (tx: PGliteQueryRunner) => Promise<T>): Promise<T>;
  /** Shuts the engine down. */
  close(): Promise<void>;
}

/**
 * A driver over PGlite, PostgreSQL compiled to WebAssembly: embedded, in memory or on
 * disk, no server. It has one connection, so sessions and transactions queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PGlite } from "@electric-sql/pglite";
 * import { pgliteDriver } from "@campaign-analytics/core/store";
 *
 * const driver = pgliteDriver(new PGlite()); // in memory; new PGlite("./data") persists
 * assert.deepEqual(await driver.query("SELECT 1 + 1 AS two"), [{ two: 2 }]);
 * await driver.close();
 * ```
 *
 * @param db A PGlite instance; the driver owns it from now on.
 * @returns The driver; `close()` closes the engine.
 */
export function pgliteDriver(db: PGliteConnection): SqlDriver {
  const executor = (runner: PGliteQueryRunner): SqlExecutor => ({
    async query<T>(text: string, params: readonly SqlParam[] = []) {
      const result = await runner.query<T>(text, params as unknown[]);
      return result.rows;
    },
    copyFrom: (table, columns, rows) => pgliteCopyFrom(runner, table, columns, rows),
  });
  // PGlite runs one statement at a time; a session is simply the connection itself,
  // serialized so that lock-take, work and lock-release are not interleaved.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    kind: "pglite",
    ...executor(db),
    transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      return db.transaction((tx) => work(executor(tx)));
    },
    session<T>(work: (session: SqlExecutor) => Promise<T>): Promise<T> {
      const run = queue.then(() => work(executor(db)));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}
