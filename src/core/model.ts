/**
 * The board's names, numbers and small types, which the rules and both engines' schemas share: no
 * imports, so any module may use them without an import circle.
 */

/** The newest original's statuses, in its dashboard's column order (archived last, off the board). */
export const TASK_STATUSES = [
  'triage',
  'todo',
  'scheduled',
  'ready',
  'running',
  'blocked',
  'review',
  'done',
  'archived',
] as const;
export const RUN_OUTCOMES = [
  'completed',
  'blocked',
  'scheduled',
  'crashed',
  'timed_out',
  'spawn_failed',
  'gave_up',
  'reclaimed',
  'rate_limited',
  'stale',
  'review_requested',
  'changes_requested',
] as const;
/**
 * A closed run's status is its outcome, except that a completed run's is `done`, as the original
 * writes them (its synthesised completions say `completed`); the upstream's review moves close a
 * run as `review` (review requested) or with the task's new status (`ready`/`todo`, changes
 * requested). `failed` and `released` are what kanban-db 0.1 wrote for `spawn_failed` and
 * `reclaimed`; files keep them.
 */
export const RUN_STATUSES = [
  'running',
  'done',
  ...RUN_OUTCOMES,
  'review',
  'ready',
  'todo',
  'failed',
  'released',
] as const;
/** Why a task is blocked (the newest original's `block_kind`); NULL is an untyped block. */
export const BLOCK_KINDS = ['dependency', 'needs_input', 'capability', 'transient'] as const;
export const WORKSPACE_KINDS = ['scratch', 'worktree', 'dir'] as const;
/** How the upstream's notifier delivers to a subscriber: a text ping, a wake of the agent, or both. */
export const DELIVERY_MODES = ['notify', 'notify+wake', 'wake'] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

/** Statuses of a parent that let its children be promoted and claimed: an archived parent counts as finished (the original's `recompute_ready`, `claim_task`). */
export const PARENT_FINISHED: readonly TaskStatus[] = ['done', 'archived'];
/**
 * The original's exceptions: creating a task, linking it and unblocking it put the child in
 * `todo` unless every parent is `done` (an archived parent included); promotion then moves it on.
 */
export const PARENT_DONE: readonly TaskStatus[] = ['done'];
/** Statuses of a task that waits for its parents: the diagnostics look at their links. */
export const WAITING_FOR_PARENTS: readonly TaskStatus[] = ['todo', 'ready', 'blocked', 'triage'];

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
