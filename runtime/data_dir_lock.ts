/**
 * One process at a time per embedded data directory. PGlite keeps a whole PostgreSQL
 * data directory in DATA_DIR, and two engines writing it at once corrupt it: `serve`,
 * `mcp`, `ingest` and `migrate` all take this lock before opening it.
 *
 * The lock is an exclusive advisory lock (flock) on a file in the directory, so the
 * operating system releases it when its holder exits, however it exits: a crash never
 * leaves a stale lock behind. The file holds the owner's pid, for the error message only.
 */

export const LOCK_FILE_NAME = "pglite.lock";

export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string, readonly holderPid: number | undefined) {
    super(
      `the embedded database in ${dataDir} is in use by another process` +
        (holderPid === undefined ? "" : ` (pid ${holderPid})`) +
        ": only one process may open it at a time",
    );
    this.name = "DataDirLockedError";
  }
}

export interface DataDirLock {
  release(): void;
}

/** Takes the directory's lock without waiting, or throws DataDirLockedError. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await Deno.mkdir(dataDir, { recursive: true });
  const path = `${dataDir.replace(/\/$/, "")}/${LOCK_FILE_NAME}`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  if (!await file.tryLock(true)) {
    const holder = Number.parseInt((await Deno.readTextFile(path).catch(() => "")).trim(), 10);
    file.close();
    throw new DataDirLockedError(dataDir, Number.isSafeInteger(holder) ? holder : undefined);
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      // Closing the descriptor releases the lock; the file stays for the next owner.
      file.close();
    },
  };
}
