/** Messages between `pglite_worker_driver.ts` (the caller) and `pglite_worker.ts`. */
export type WorkerRequest =
  /** Opens PGlite persisted at `path` (in memory without one). */
  | { op: "open"; id: number; path?: string }
  /** One statement, inside transaction `tx` when given. */
  | { op: "query"; id: number; text: string; params: readonly unknown[]; tx?: number }
  /** COPY of rows in COPY's text format into `table (columns)`, inside `tx` when given. */
  | {
    op: "copy";
    id: number;
    table: string;
    columns: readonly string[];
    rows: string;
    tx?: number;
  }
  /** Opens transaction `tx`; answered once it holds the connection. */
  | { op: "begin"; id: number; tx: number }
  /** Commits (or rolls back) transaction `tx`; answered when it has. */
  | { op: "end"; id: number; tx: number; commit: boolean }
  | { op: "close"; id: number };

export type WorkerReply =
  | { id: number; rows: unknown[] }
  | { id: number; error: Record<string, unknown> };
