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

export function postgresClient(url: string, poolSize: number, options: PostgresClientOptions = {}) {
  return postgres(url, {
    max: poolSize,
    // Fail fast while the server is down, so requests answer 503 instead of hanging.
    connect_timeout: 5,
    idle_timeout: options.idleTimeoutSeconds ?? 60,
    max_lifetime: 30 * 60,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "campaign-analytics" },
  });
}
