/**
 * One runner per sync. Inside a process a set of held keys prevents overlapping runs
 * of one job; across processes (replicas sharing one database) a session-level
 * PostgreSQL advisory lock does, on a dedicated connection: it is released when the
 * work ends (the connection is closed) or, if the process dies, when its connection
 * drops. PGlite has the same functions, and a single process, so both layers also
 * work there.
 */
import type { SqlDriver } from "../lib/store/driver.ts";
// A namespace for sync locks, distinct from the migration and write locks; the journal
// computes the same key to tell a live run from one whose runner died.
import { SYNC_LOCK_SEED } from "../lib/store/ingest_journal.ts";

export type LockedResult<T> = { ran: true; value: T } | { ran: false };

export class SyncLocks {
  private readonly held = new Set<string>();

  constructor(private readonly db: SqlDriver) {}

  /** Runs `work` if nobody (here or in another process) holds `key`; otherwise skips. */
  async run<T>(key: string, work: () => Promise<T>): Promise<LockedResult<T>> {
    if (this.held.has(key)) return { ran: false };
    this.held.add(key);
    try {
      return await this.db.session(async (session) => {
        const [{ locked }] = await session.query<{ locked: boolean }>(
          "SELECT pg_try_advisory_lock(hashtextextended($1, $2)) AS locked",
          [key, SYNC_LOCK_SEED],
        );
        if (!locked) return { ran: false } as const;
        try {
          return { ran: true, value: await work() } as const;
        } finally {
          await session.query("SELECT pg_advisory_unlock(hashtextextended($1, $2))", [
            key,
            SYNC_LOCK_SEED,
          ]).catch(() => {
            // The connection is gone, and its session locks with it.
          });
        }
      });
    } finally {
      this.held.delete(key);
    }
  }
}
