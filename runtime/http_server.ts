/**
 * Serving until SIGINT/SIGTERM, for every long-running entry point (`serve`, `bot`):
 * on a signal the listener closes, in-flight requests finish, then the promise resolves
 * so the caller can close its pools.
 */
import type { Logger } from "../lib/log.ts";

export interface ServeOptions {
  port: number;
  /** The interface to listen on: every interface unless told otherwise. */
  hostname?: string;
  logger: Logger;
  /** The log message once listening (tests read the port from it). */
  listeningMessage?: string;
  listeningFields?: Record<string, unknown>;
}

export function serveUntilSignal(
  handler: (request: Request) => Response | Promise<Response>,
  options: ServeOptions,
): Promise<void> {
  const { logger } = options;
  const shutdown = new AbortController();
  const server = Deno.serve({
    port: options.port,
    hostname: options.hostname ?? "0.0.0.0",
    signal: shutdown.signal,
    onListen: ({ port }) =>
      logger.info(options.listeningMessage ?? "listening", {
        port,
        hostname: options.hostname ?? "0.0.0.0",
        ...options.listeningFields,
      }),
  }, handler);
  const stop = () => {
    if (shutdown.signal.aborted) return;
    logger.info("shutting down: finishing in-flight requests");
    shutdown.abort();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  return server.finished.finally(() => {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  });
}
