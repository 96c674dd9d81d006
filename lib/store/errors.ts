/**
 * Which database failures are worth retrying (or answering with 503 and
 * Retry-After): the server is unreachable, restarting, overloaded, or a transaction
 * lost a race. Everything else is a bug or bad data and must not be retried.
 */

/** SQLSTATEs that mean "try again": serialization failure, deadlock, shutdown, overload. */
const TRANSIENT_SQLSTATES = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down)
  "53300", // too_many_connections
  "53400", // configuration_limit_exceeded
  "08000", // connection_exception
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08003", // connection_does_not_exist
  "08006", // connection_failure
  "08P01", // protocol_violation (a connection cut mid-message)
]);

/** Network-level error codes from the driver or the runtime. */
const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "QUERY_TIMEOUT", // lib/store/driver.ts: a pooled query missed its deadline
]);

export function isTransientDatabaseError(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const { code, errno } = current as { code?: unknown; errno?: unknown };
    if (
      typeof code === "string" &&
      (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NETWORK_CODES.has(code))
    ) {
      return true;
    }
    if (typeof errno === "string" && TRANSIENT_NETWORK_CODES.has(errno)) return true;
    if (code === "23514" && isMigrationBoundary(current)) return true;
    const name = (current as { name?: unknown }).name;
    if (name === "ConnectionRefused" || name === "ConnectionReset" || name === "TimedOut") {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The CHECK that sql/007 puts on campaign_metrics for about a second while it becomes
 * partitioned: a row dated at or after its boundary is refused until the swap, then fits
 * a month partition.
 */
function isMigrationBoundary(error: unknown): boolean {
  const { constraint_name, constraint } = error as {
    constraint_name?: unknown;
    constraint?: unknown;
  };
  return (constraint_name ?? constraint) === "campaign_metrics_before_partitions";
}

/** Raised when the database cannot be reached; handlers answer 503 with Retry-After. */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super("database unavailable", { cause });
    this.name = "DatabaseUnavailableError";
  }
}
