/**
 * The rules that decide what may be claimed, promoted or resumed, written once as SQL fragments
 * over either engine's tables: a task's dependencies (`PARENT_FINISHED`), the original's claim
 * gates (plan audit and budget, its `claim_task`), sticky blocks (`_has_sticky_block`), the
 * breaker, kanban-db's retry wait and the lane a task resumes. Each engine builds its statements
 * around them; what differs between dialects is behind `Dialect`. Each reads only columns and
 * events both programs write, so the rules hold whichever program wrote the row.
 */
import { type Column, type Placeholder, type SQL, sql, type Table } from 'drizzle-orm';
import { DEFAULT_FAILURE_LIMIT, type Lane, PARENT_FINISHED, type TaskStatus } from './model';

type Columns<K extends string> = Table & Record<K, Column>;

/** The columns the rules read, of either engine's schema. */
export interface RuleTables {
  readonly tasks: Columns<
    | 'id'
    | 'priority'
    | 'createdAt'
    | 'status'
    | 'claimLock'
    | 'planAuditRequired'
    | 'budgetUsd'
    | 'budgetSpentUsd'
    | 'consecutiveFailures'
    | 'maxRetries'
  >;
  readonly taskEvents: Columns<'id' | 'taskId' | 'kind' | 'payload'>;
  readonly taskRuns: Columns<'taskId' | 'endedAt'>;
  readonly taskLinks: Columns<'parentId' | 'childId'>;
  /** `tasks` aliased as `parent`. */
  readonly parent: Record<'id' | 'status' | 'consecutiveFailures' | 'maxRetries', Column>;
}

/** What the two dialects spell differently. */
export interface Dialect {
  /** The smaller of two integers (SQLite's scalar `MIN`, PostgreSQL's `LEAST`). */
  least(a: SQL, b: SQL): SQL;
  /** The text at `key` of a JSON text column; NULL when absent or when another writer left it malformed. */
  jsonField(column: Column, key: string): SQL;
  /** A bound value as a 64-bit integer, where the server must know its type. */
  int64(value: Placeholder): SQL;
}

export const PLAN_AUDIT_KINDS = [
  'plan_audit_requested',
  'plan_audit_approved',
  'plan_audit_rejected',
  'plan_audit_exhausted',
];

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

const list = (values: readonly string[]): SQL =>
  sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  );

export type Rules = ReturnType<typeof boardRules>;

/** The rules over one engine's tables and dialect; every fragment is wrapped, so it renders the same anywhere in a query. */
export function boardRules(t: RuleTables, d: Dialect) {
  const ph = sql.placeholder;
  const { tasks, taskEvents, taskRuns, taskLinks, parent } = t;

  /** The newest event of `kinds` on the outer query's task: its kind, or what `pick` reads of it. */
  const newest = (kinds: readonly string[], pick: SQL | Column = taskEvents.kind): SQL =>
    sql`(SELECT ${pick} FROM ${taskEvents} WHERE ${taskEvents.taskId} = ${tasks.id} AND ${taskEvents.kind} IN (${list(kinds)})
      ORDER BY ${taskEvents.id} DESC LIMIT 1)`;

  /** The parents of `child` whose status is not in `finished`. */
  const unfinishedParents = (child: Column | Placeholder, finished: readonly TaskStatus[]): SQL =>
    sql`SELECT ${parent.id} FROM ${taskLinks} JOIN ${tasks} AS ${sql.identifier('parent')} ON ${parent.id} = ${taskLinks.parentId}
      WHERE ${taskLinks.childId} = ${child} AND ${parent.status} NOT IN (${list(finished)})`;

  /** A task (of `tasks` or the alias `parent`) that failed as many times in a row as its limit allows: the breaker's. */
  const breakerTripped = (x: { consecutiveFailures: Column; maxRetries: Column }): SQL =>
    sql`(${x.consecutiveFailures} >= COALESCE(${x.maxRetries}, ${DEFAULT_FAILURE_LIMIT}))`;

  /** The budget gate alone, which is all the review pass checks: no budget, or less spent than it. */
  const budgetLeft = sql`(${tasks.budgetUsd} IS NULL OR ${tasks.budgetSpentUsd} < ${tasks.budgetUsd})`;

  /**
   * The original's claim gates, when their columns are set: a task that requires a plan audit runs
   * only once its newest plan-audit event is an approval; a task with a budget runs only while it
   * has spent less than it. kanban-db never claims what the original refuses, and leaves the task
   * as it is (the original writes the audit request or the block when its own dispatcher meets it).
   */
  const claimGatesOpen = sql`((${tasks.planAuditRequired} = 0 OR ${newest(PLAN_AUDIT_KINDS)} = 'plan_audit_approved') AND ${budgetLeft})`;

  /**
   * A task that failed `n` times in a row is claimable again `min(max, base × 2^(n-1))` seconds
   * after its last attempt ended (placeholders `now`, `backoffBase`, `backoffMax`). No column of its
   * own: the failure counter and the runs' end times, which both programs write, say everything.
   */
  const lastEnd = sql`(SELECT MAX(${taskRuns.endedAt}) FROM ${taskRuns} WHERE ${taskRuns.taskId} = ${tasks.id})`;
  const wait = d.least(
    d.int64(ph('backoffMax')),
    sql`${d.int64(ph('backoffBase'))} << ${d.least(sql`${tasks.consecutiveFailures} - 1`, sql`30`)}`,
  );
  const retryAllowed = sql`(${tasks.consecutiveFailures} <= 0 OR COALESCE(${lastEnd}, 0) + ${wait} <= ${ph('now')})`;

  /**
   * A blocked task the promotion pass may move on, as the newest original's `recompute_ready`: its
   * block is not sticky (its newest `blocked`/`unblocked` event is not `blocked`: a person or a
   * worker blocked it on purpose) and the breaker did not stop it.
   */
  const blockLifts = sql`(${tasks.status} = 'blocked' AND NOT ${breakerTripped(tasks)}
    AND COALESCE(${newest(['blocked', 'unblocked'])}, '') <> 'blocked')`;

  const unfinishedParent = (child: Column, finished: readonly TaskStatus[] = PARENT_FINISHED): SQL =>
    sql`(EXISTS (${unfinishedParents(child, finished)}))`;

  const fromReview = sql`'review' IN (${d.jsonField(taskEvents.payload, 'resume_status')},
    ${d.jsonField(taskEvents.payload, 'retry_status')}, ${d.jsonField(taskEvents.payload, 'source_status')})`;

  return {
    /**
     * Priority first (a null one last, as SQLite sorts it), then age: the order of claims and of
     * listings, which `idx_tasks_claim_order` serves on both engines.
     */
    claimOrder: [sql`${tasks.priority} DESC NULLS LAST`, sql`${tasks.createdAt}`, sql`${tasks.id}`],
    breakerTripped,
    budgetLeft,
    claimGatesOpen,
    retryAllowed,
    unfinishedParent,
    /** The first parent of the task `child` names (a placeholder or a column) that is neither done nor archived; NULL when none. */
    firstUnfinishedParent: (child: Column | Placeholder): SQL =>
      sql`(${unfinishedParents(child, PARENT_FINISHED)} LIMIT 1)`,
    /** What `claimNextTask` may take: ready, unclaimed, its retry wait over, its gates open. Parents are checked per candidate. */
    claimable: sql`(${tasks.status} = 'ready' AND ${tasks.claimLock} IS NULL AND ${retryAllowed} AND ${claimGatesOpen})`,
    /** What the review pass may take: an unclaimed review task within its budget. */
    reviewable: sql`(${tasks.status} = 'review' AND ${tasks.claimLock} IS NULL AND ${budgetLeft})`,
    /** What promotion moves on: a todo task, or a blocked one whose block lifts, whose parents are all finished. */
    promotable: sql`((${tasks.status} = 'todo' OR ${blockLifts}) AND NOT ${unfinishedParent(tasks.id)})`,
    /**
     * The status a promoted or unblocked task takes, as the upstream's: `review` when its newest
     * event of `RESUME_KINDS` says it came from review (`resume_status`, `retry_status` or
     * `source_status`), else `ready`.
     */
    resumeStatus: sql<Lane>`(CASE WHEN ${newest(RESUME_KINDS, fromReview)} THEN 'review' ELSE 'ready' END)`,
    /** A blocked task the breaker stopped (of `tasks` or `parent`). */
    brokeDown: (x: { status: Column; consecutiveFailures: Column; maxRetries: Column }): SQL =>
      sql`(${x.status} = 'blocked' AND ${breakerTripped(x)})`,
  };
}
