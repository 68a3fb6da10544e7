import { and, eq, exists, notInArray, type Placeholder, type SQL } from 'drizzle-orm';
import { alias, type SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { SyncDb } from '../db/engine';
import { taskLinks, tasks, type TaskStatus } from '../db/schema';

const parent = alias(tasks, 'parent');

/**
 * Statuses of a parent that let its children be promoted and claimed: an archived parent counts
 * as finished, as in the original's `recompute_ready` and `claim_task` (hermes_cli/kanban_db.py).
 */
export const PARENT_FINISHED: readonly TaskStatus[] = ['done', 'archived'];
/**
 * The original's exceptions: creating a task, linking it and unblocking it put the child in
 * `todo` unless every parent is `done` (an archived parent included); promotion then moves it on.
 */
export const PARENT_DONE: readonly TaskStatus[] = ['done'];

/**
 * True when the task `child` names has a parent whose status is not in `finished`: the one rule
 * shared by promotion, claims, creation, links and unblocking. `child` is a column of the outer query.
 */
export function unfinishedParent(
  db: SyncDb,
  child: SQLiteColumn,
  finished: readonly TaskStatus[] = PARENT_FINISHED,
): SQL {
  return exists(unfinishedParents(db, child, finished));
}

/** The parents of `child` whose status is not in `finished`. */
export function unfinishedParents(
  db: SyncDb,
  child: SQLiteColumn | SQL | Placeholder,
  finished: readonly TaskStatus[] = PARENT_FINISHED,
) {
  return db
    .select({ id: parent.id })
    .from(taskLinks)
    .innerJoin(parent, eq(parent.id, taskLinks.parentId))
    .where(and(eq(taskLinks.childId, child), notInArray(parent.status, [...finished])));
}
