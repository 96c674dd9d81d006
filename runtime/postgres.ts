/**
 * The postgres.js client as every entry point configures it. No Deno APIs here, so
 * the edge handler shares it with the container.
 */
import postgres from "postgres";

export interface PostgresClientOptions {
  /** Seconds an idle connection is kept (edge isolates sleep: keep it short there). */
  idleTimeoutSeconds?: number;
  applicationName?: string;
}

/**
 * Seconds to wait between reconnection attempts. postgres.js grows this with every
 * failed attempt of the whole pool (3^n / 100 s, up to 20 s), and queued queries wait
 * it out: a readiness probe polled during an outage pushed it to 10–20 s, so reads
 * hung well after the server was back. Every attempt here is made for a waiting
 * request, and a refused connection costs nothing, so the delay stays short.
 */
export function reconnectDelaySeconds(failures: number): number {
  return Math.min(0.05 * failures, 0.25);
}

export function postgresClient(url: string, poolSize: number, options: PostgresClientOptions = {}) {
  return postgres(url, {
    max: poolSize,
    // Fail fast while the server is down, so requests answer 503 instead of hanging.
    connect_timeout: 2,
    backoff: reconnectDelaySeconds,
    idle_timeout: options.idleTimeoutSeconds ?? 60,
    max_lifetime: 30 * 60,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "campaign-analytics" },
  });
}
