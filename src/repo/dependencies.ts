import { and, eq, exists, notInArray, type Placeholder, type SQL } from 'drizzle-orm';
import { alias, type SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { SyncDb } from '../db/engine';
import { taskLinks, tasks, type TaskStatus } from '../db/schema';

const parent = alias(tasks, 'parent');

/** Statuses of a parent that let its children run. */
export const PARENT_FINISHED: readonly TaskStatus[] = ['done'];

/**
 * True when the task `child` names has a parent that is not finished: the one rule shared by
 * promotion, claims and unblocking. `child` is a column of the outer query or a placeholder.
 */
export function unfinishedParent(db: SyncDb, child: SQLiteColumn): SQL {
  return exists(unfinishedParents(db, child));
}

/** The parents of `child` that are not finished. */
export function unfinishedParents(db: SyncDb, child: SQLiteColumn | SQL | Placeholder) {
  return db
    .select({ id: parent.id })
    .from(taskLinks)
    .innerJoin(parent, eq(parent.id, taskLinks.parentId))
    .where(and(eq(taskLinks.childId, child), notInArray(parent.status, [...PARENT_FINISHED])));
}
