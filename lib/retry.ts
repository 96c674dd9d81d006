/**
 * The one retry policy: bounded exponential backoff. The n-th wait's ceiling is
 * min(maxDelay, baseDelay · 2^n); `backoffDelay` draws it with full jitter, uniform in
 * [0, ceiling), so replicas retrying after one outage spread out instead of stampeding.
 * Used by the database writes (ingest/processor.ts), the connectors' HTTP client
 * (ingest/http.ts) and the cache's background version bumps (lib/cache/cache.ts).
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff ceiling; doubles per attempt. */
  baseDelayMs: number;
  /** Ceiling of the computed exponential backoff. */
  maxDelayMs: number;
}

export interface RetryDeps {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Called before each wait (for logs and metrics). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The most the wait after failed attempt `attempt` (0 = the first) may last. */
export function backoffCeiling(
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  attempt: number,
): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
}

/** A wait drawn uniformly in [0, ceiling) ("full jitter"). */
export function backoffDelay(
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  attempt: number,
  random = Math.random,
): number {
  return Math.floor(random() * backoffCeiling(policy, attempt));
}

/** Runs `work`, retrying while `retryable(error)` holds and attempts remain. */
export async function withRetry<T>(
  work: (attempt: number) => Promise<T>,
  retryable: (error: unknown) => boolean,
  policy: RetryPolicy,
  deps: RetryDeps = {},
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt + 1 >= policy.maxAttempts || !retryable(error)) throw error;
      const delay = backoffDelay(policy, attempt, deps.random);
      deps.onRetry?.(error, attempt + 1, delay);
      await (deps.sleep ?? sleep)(delay);
    }
  }
}
