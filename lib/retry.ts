/**
 * Bounded exponential backoff with full jitter: the n-th wait is a random duration in
 * [0, min(maxDelay, baseDelay · 2^n)], so replicas retrying after one outage spread
 * out instead of stampeding (the AWS architecture blog's "full jitter").
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryDeps {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Called before each wait (for logs and metrics). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function backoffDelay(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
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
      if (attempt + 1 >= policy.attempts || !retryable(error)) throw error;
      const delay = backoffDelay(policy, attempt, deps.random);
      deps.onRetry?.(error, attempt + 1, delay);
      await (deps.sleep ?? sleep)(delay);
    }
  }
}
