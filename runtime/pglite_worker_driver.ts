/**
 * The embedded engine on a thread of its own: a `SqlDriver` whose PGlite lives in a
 * Worker (`pglite_worker.ts`), so a backfill or a slow query never stalls the thread
 * that answers HTTP requests. Same semantics as `pgliteDriver`: one connection, a
 * transaction holds it (queries outside wait), sessions are serialized.
 */
import type { SqlDriver, SqlExecutor, SqlParam } from "../lib/store/driver.ts";
import type { WorkerReply, WorkerRequest } from "./pglite_worker_protocol.ts";

/** Distributes `Omit` over the request union (a plain `Omit` would merge its members). */
type Unsent<T> = T extends unknown ? Omit<T, "id"> : never;

/** An error raised in the worker, with its SQLSTATE `code`, `detail` and the rest. */
export class EmbeddedDatabaseError extends Error {
  constructor(fields: Record<string, unknown>) {
    super(String(fields.message ?? "embedded database error"));
    for (const [key, value] of Object.entries(fields)) {
      if (key !== "message" && key !== "name") (this as Record<string, unknown>)[key] = value;
    }
    this.name = typeof fields.name === "string" ? fields.name : "EmbeddedDatabaseError";
  }
}

/**
 * Starts the worker and opens PGlite in it: persisted at `path`, or in memory without
 * one (tests).
 */
export async function pgliteWorkerDriver(path?: string): Promise<SqlDriver> {
  const worker = new Worker(new URL("./pglite_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const pending = new Map<number, { resolve(rows: unknown[]): void; reject(e: Error): void }>();
  let nextId = 1;
  let nextTx = 1;
  let failure: Error | undefined;
  let closed = false;

  worker.onmessage = (event: MessageEvent<WorkerReply>) => {
    const message = event.data;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if ("error" in message) waiter.reject(new EmbeddedDatabaseError(message.error));
    else waiter.resolve(message.rows);
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    failure = new Error(`embedded database worker failed: ${event.message}`);
    for (const waiter of pending.values()) waiter.reject(failure);
    pending.clear();
  };

  const call = (request: Unsent<WorkerRequest>): Promise<unknown[]> => {
    if (failure) return Promise.reject(failure);
    if (closed) return Promise.reject(new Error("the embedded database is closed"));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  };

  const executor = (tx?: number): SqlExecutor => ({
    async query<T>(text: string, params: readonly SqlParam[] = []) {
      return await call({ op: "query", text, params, tx }) as T[];
    },
    async copyFrom(table: string, columns: readonly string[], rows: string) {
      await call({ op: "copy", table, columns, rows, tx });
    },
  });

  try {
    await call({ op: "open", path });
  } catch (error) {
    worker.terminate();
    throw error;
  }

  let queue: Promise<unknown> = Promise.resolve();
  return {
    kind: "pglite",
    ...executor(),
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const tx = nextTx++;
      await call({ op: "begin", tx });
      let result: T;
      try {
        result = await work(executor(tx));
      } catch (error) {
        await call({ op: "end", tx, commit: false }).catch(() => {});
        throw error;
      }
      await call({ op: "end", tx, commit: true });
      return result;
    },
    session<T>(work: (session: SqlExecutor) => Promise<T>): Promise<T> {
      const run = queue.then(() => work(executor()));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      if (closed) return;
      try {
        if (!failure) await call({ op: "close" });
      } finally {
        closed = true;
        worker.terminate();
      }
    },
  };
}
