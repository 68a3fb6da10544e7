/**
 * What is wrong with a board, and clearing out what it no longer needs: the library side of
 * `kanban diagnostics` and `kanban gc`.
 */
import { and, eq, inArray, lt, notExists, or, sql } from 'drizzle-orm';
import { alias, type SQLiteColumn, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import {
  kanbanNotifySubs,
  recipeInstanceTasks,
  taskAttachments,
  taskComments,
  taskEvents,
  taskLinks,
  taskRuns,
  tasks,
} from '../db/schema';
import { read, write, type RepoContext } from './context';
import { breakerTripped } from './gates';
import { parse, purgeInput, type PurgeOptions } from './input';

export type { PurgeOptions };

export const DIAGNOSTIC_KINDS = [
  'lease_expired',
  'repeated_failures',
  'missing_parent',
  'parent_gave_up',
  'undeliverable_subscription',
  'dispatch_lock_orphaned',
] as const;

export interface Diagnostic {
  readonly kind: (typeof DIAGNOSTIC_KINDS)[number];
  readonly severity: 'warning' | 'error';
  /** The task it is about (for a subscription, the task it names); empty for the board as a whole. */
  readonly taskId: string;
  /** What is wrong and what to do, for a person. */
  readonly message: string;
}

const parent = alias(tasks, 'parent');
/** A task blocked by the breaker: it failed as many times in a row as its limit allows. */
/** A task blocked by the breaker (the rule `blockLifts` leaves alone). */
const brokeDown = (t: { status: SQLiteColumn; consecutiveFailures: SQLiteColumn; maxRetries: SQLiteColumn }) =>
  and(eq(t.status, 'blocked'), breakerTripped(t));
const waiting = ['todo', 'ready', 'blocked', 'triage'] as const;

/** Every problem the board has now, errors first. */
export function diagnostics(ctx: RepoContext): Promise<Diagnostic[]> {
  return read(ctx, () => {
    const now = ctx.now();
    const found: Diagnostic[] = [];
    const expired = ctx.db
      .select({ id: tasks.id, lock: tasks.claimLock, expires: tasks.claimExpires })
      .from(tasks)
      .where(and(eq(tasks.status, 'running'), lt(tasks.claimExpires, now)))
      .all();
    for (const t of expired) {
      const ago = now - (t.expires ?? now);
      found.push({
        kind: 'lease_expired',
        severity: 'error',
        taskId: t.id,
        message: `running past its lease by ${ago} s (claimed by ${t.lock ?? 'nobody'}); a dispatcher's next tick hands it back, or \`kanban reclaim ${t.id}\``,
      });
    }
    const broken = ctx.db
      .select({ id: tasks.id, failures: tasks.consecutiveFailures, error: tasks.lastFailureError })
      .from(tasks)
      .where(brokeDown(tasks))
      .all();
    for (const t of broken) {
      found.push({
        kind: 'repeated_failures',
        severity: 'error',
        taskId: t.id,
        message: `blocked after ${t.failures} failures in a row (last: ${t.error ?? 'no error recorded'}); fix the cause, then \`kanban unblock ${t.id}\``,
      });
    }
    const links = ctx.db
      .select({ child: taskLinks.childId, parent: taskLinks.parentId, parentStatus: parent.status })
      .from(taskLinks)
      .innerJoin(tasks, eq(tasks.id, taskLinks.childId))
      .leftJoin(parent, eq(parent.id, taskLinks.parentId))
      .where(and(inArray(tasks.status, [...waiting]), sql`(${parent.id} IS NULL OR ${brokeDown(parent)})`))
      .all();
    for (const l of links) {
      const missing = l.parentStatus === null;
      found.push({
        kind: missing ? 'missing_parent' : 'parent_gave_up',
        severity: missing ? 'error' : 'warning',
        taskId: l.child,
        message: missing
          ? `waits for ${l.parent}, which is not on the board, so it can never run; \`kanban unlink ${l.parent} ${l.child}\``
          : `waits for ${l.parent}, which the breaker blocked; it runs only once that parent is unblocked and done`,
      });
    }
    const orphans = ctx.db
      .select({ taskId: kanbanNotifySubs.taskId, platform: kanbanNotifySubs.platform, chat: kanbanNotifySubs.chatId })
      .from(kanbanNotifySubs)
      .where(notExists(ctx.db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, kanbanNotifySubs.taskId))))
      .all();
    for (const s of orphans) {
      found.push({
        kind: 'undeliverable_subscription',
        severity: 'warning',
        taskId: s.taskId,
        message: `${s.platform} chat ${s.chat} is subscribed to a task that is not on the board; \`kanban unsubscribe ${s.taskId} --platform ${s.platform} --chat ${s.chat}\``,
      });
    }
    return found.sort((a, b) => Number(a.severity === 'warning') - Number(b.severity === 'warning'));
  });
}

export interface PurgeResult {
  /** The archived tasks deleted, with everything that was theirs. */
  readonly purged: string[];
  /** Archived tasks old enough but kept, because a recipe names them (the upstream restricts their deletion). */
  readonly keptForRecipes: string[];
}

/**
 * Deletes the tasks archived more than `olderThanDays` days ago (their newest `archived` event,
 * else their creation), with their runs, events, comments, links, subscriptions and attachment
 * rows, in one commit. A task a recipe names is kept: deleting it would break the recipe's
 * foreign key. Attachment files on disk are not touched.
 */
export async function purgeArchived(ctx: RepoContext, raw: PurgeOptions): Promise<PurgeResult> {
  const { olderThanDays } = parse(purgeInput, raw, 'options');
  return write(ctx, (now) => {
    const archivedAt = sql`COALESCE((SELECT MAX(${taskEvents.createdAt}) FROM ${taskEvents}
      WHERE ${taskEvents.taskId} = ${tasks.id} AND ${taskEvents.kind} = 'archived'), ${tasks.createdAt})`;
    const old = ctx.db
      .select({ id: tasks.id, recipe: recipeInstanceTasks.instanceId })
      .from(tasks)
      .leftJoin(recipeInstanceTasks, eq(recipeInstanceTasks.taskId, tasks.id))
      .where(and(eq(tasks.status, 'archived'), sql`${archivedAt} <= ${now - olderThanDays * 86_400}`))
      .all();
    const purged = old.filter((t) => t.recipe === null).map((t) => t.id);
    const keptForRecipes = old.filter((t) => t.recipe !== null).map((t) => t.id);
    // Bounded batches: SQLite limits how many values one statement binds.
    for (let i = 0; i < purged.length; i += 500) {
      const ids = purged.slice(i, i + 500);
      const remove = (table: SQLiteTable, ...columns: SQLiteColumn[]) =>
        ctx.db
          .delete(table)
          .where(or(...columns.map((column) => inArray(column, ids))))
          .run();
      remove(taskRuns, taskRuns.taskId);
      remove(taskEvents, taskEvents.taskId);
      remove(taskComments, taskComments.taskId);
      remove(kanbanNotifySubs, kanbanNotifySubs.taskId);
      remove(taskAttachments, taskAttachments.taskId);
      remove(taskLinks, taskLinks.parentId, taskLinks.childId);
      remove(tasks, tasks.id);
    }
    return { purged, keptForRecipes };
  });
}
