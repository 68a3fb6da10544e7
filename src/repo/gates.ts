/**
 * The SQL predicates that decide what may be claimed or promoted besides dependencies: the fork's
 * claim gates (plan audit and budget, in its `claim_task`), the original's sticky blocks
 * (`_has_sticky_block`), the lane a task resumes, and kanban-db's retry wait.
 * Each reads only columns and events both programs write, so the rules hold whichever program
 * wrote the row.
 */
import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { SyncDb } from '../db/engine';
import { taskEvents, taskRuns, tasks } from '../db/schema';
import { DEFAULT_FAILURE_LIMIT, type Lane } from './model';

const ph = sql.placeholder;

export const PLAN_AUDIT_KINDS = [
  'plan_audit_requested',
  'plan_audit_approved',
  'plan_audit_rejected',
  'plan_audit_exhausted',
];

/** The newest event of `kinds` on the outer query's task. */
function newestKind(db: SyncDb, kinds: readonly string[]) {
  return db
    .select({ kind: taskEvents.kind })
    .from(taskEvents)
    .where(and(eq(taskEvents.taskId, tasks.id), inArray(taskEvents.kind, [...kinds])))
    .orderBy(desc(taskEvents.id))
    .limit(1);
}

/**
 * The original's claim gates, when their columns are set: a task that requires a plan audit runs
 * only once its newest plan-audit event is an approval; a task with a budget runs only while it has
 * spent less than it. kanban-db leaves such a task as it is (the original writes the audit request
 * or the block when its own dispatcher meets it); it only never claims what the original refuses.
 */
export function claimGatesOpen(db: SyncDb): SQL {
  return sql`((${tasks.planAuditRequired} = 0 OR (${newestKind(db, PLAN_AUDIT_KINDS)}) = 'plan_audit_approved') AND ${budgetLeft()})`;
}

/** The budget gate alone, which is all the review pass checks: no budget, or less spent than it. */
export function budgetLeft(): SQL {
  return sql`(${tasks.budgetUsd} IS NULL OR ${tasks.budgetSpentUsd} < ${tasks.budgetUsd})`;
}

/**
 * A blocked task the promotion pass may move to ready, as the newest original's `recompute_ready`:
 * its block is not sticky (its newest `blocked`/`unblocked` event is not `blocked`: a person or a
 * worker blocked it on purpose) and it failed fewer times than its limit, so a breaker's block stays.
 */
export function blockLifts(db: SyncDb): SQL {
  return sql`(${tasks.status} = 'blocked' AND NOT ${breakerTripped(tasks)}
    AND COALESCE((${newestKind(db, ['blocked', 'unblocked'])}), '') <> 'blocked')`;
}

/** A task (of `tasks` or an alias of it) that failed as many times in a row as its limit allows: the breaker's. */
export function breakerTripped(t: { consecutiveFailures: SQLiteColumn; maxRetries: SQLiteColumn }): SQL {
  return sql`(${t.consecutiveFailures} >= COALESCE(${t.maxRetries}, ${DEFAULT_FAILURE_LIMIT}))`;
}

/**
 * A task that failed `n` times in a row is claimable again `min(max, base × 2^(n-1))` seconds after
 * its last attempt ended. No column of its own: the failure counter and the runs' end times, which
 * both programs write, say everything, so the wait holds whichever program recorded the failure.
 */
export function retryAllowed(db: SyncDb): SQL {
  const lastEnd = db
    .select({ at: sql`MAX(${taskRuns.endedAt})` })
    .from(taskRuns)
    .where(eq(taskRuns.taskId, tasks.id));
  const wait = sql`MIN(${ph('backoffMax')}, ${ph('backoffBase')} << MIN(${tasks.consecutiveFailures} - 1, 30))`;
  return sql`(${tasks.consecutiveFailures} <= 0 OR COALESCE((${lastEnd}), 0) + ${wait} <= ${ph('now')})`;
}

/** The events whose payload says which lane a task left (upstream kanban_db.py `_resume_status_from_events`). */
export const RESUME_KINDS = [
  'blocked',
  'block_loop_detected',
  'dependency_wait',
  'gave_up',
  'unblocked',
  'changes_requested',
  'review_reopened',
  'status',
  'reclaimed',
  'stale',
  'timed_out',
  'crashed',
  'spawn_failed',
  'rate_limited',
];

/**
 * The status a promoted or unblocked task takes, as the upstream's: `review` when its newest event
 * of `RESUME_KINDS` says it came from review (`resume_status`, `retry_status` or `source_status`),
 * else `ready`. A payload another writer left malformed reads as ready.
 */
export function resumeStatus(db: SyncDb): SQL<Lane> {
  const payload = taskEvents.payload;
  const fromReview = sql`CASE WHEN json_valid(${payload}) THEN COALESCE('review' IN (json_extract(${payload}, '$.resume_status'),
    json_extract(${payload}, '$.retry_status'), json_extract(${payload}, '$.source_status')), 0) ELSE 0 END`;
  const newest = db
    .select({ fromReview })
    .from(taskEvents)
    .where(and(eq(taskEvents.taskId, tasks.id), inArray(taskEvents.kind, RESUME_KINDS)))
    .orderBy(desc(taskEvents.id))
    .limit(1);
  return sql<Lane>`CASE WHEN COALESCE((${newest}), 0) THEN 'review' ELSE 'ready' END`;
}
