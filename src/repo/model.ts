/**
 * The board's numbers and small types, which the rules share: no imports, so any module may use
 * them without an import circle.
 */

/** Failures in a row before the breaker blocks a task, when neither the task nor the caller says. */
export const DEFAULT_FAILURE_LIMIT = 2;

/** Lease of a claim before the dispatcher may hand the task to someone else: 15 minutes. */
export const DEFAULT_CLAIM_TTL_SECONDS = 900;

/** Waits before a failed task's next attempt; see `retryAllowed`. */
export interface RetryBackoff {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

/** A failed task waits 30 s before its second attempt, doubling per failure in a row, up to 15 minutes. */
export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { baseSeconds: 30, maxSeconds: 900 };

/** Where a task goes when it is promoted, unblocked or its attempt is handed back: the upstream's two lanes. */
export type Lane = 'ready' | 'review';
