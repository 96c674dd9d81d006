/**
 * postgres.js 3.4.9 can throw from a setImmediate callback when a connection's socket
 * closed between scheduling a write and running it ("Cannot read properties of null
 * (reading 'write')" in nextWrite: porsager/postgres#1066, #1154, #1208). Thrown
 * there, nothing can catch it and the whole process dies, even though the query it
 * belonged to was already rejected with CONNECTION_CLOSED and retried by our code.
 * This guard keeps a replica alive through exactly that failure and logs it; any
 * other uncaught error still ends the process. Remove it once the upstream fix ships.
 */
import type { Logger } from "../lib/log.ts";

export function isPostgresClosedSocketWrite(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  return /reading 'write'|evaluating 'socket\.write'/.test(error.message) &&
    /postgres[@/].*connection\.js/.test(error.stack ?? "") &&
    /nextWrite/.test(error.stack ?? "");
}

export function installPostgresCrashGuard(logger: Logger): void {
  globalThis.addEventListener("error", (event) => {
    if (!isPostgresClosedSocketWrite(event.error)) return;
    event.preventDefault();
    logger.error("postgres.js wrote to a closed connection (upstream bug); continuing", {
      error: event.error,
    });
  });
}
