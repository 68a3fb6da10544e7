import { and, eq, sql } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { KanbanError } from '../errors';
import { taskLinks, tasks, type TaskStatus } from '../db/schema';
import { read, write, type RepoContext } from './context';
import { appendEvent, recordPromotions } from './events';
import { found } from './guards';
import { PARENT_DONE } from './dependencies';
import { inheritSubscriptions } from './notify';

/** True when `descendant` can be reached from `ancestor` by following child links. */
function reaches(ctx: RepoContext, ancestor: string, descendant: string): boolean {
  const rows = ctx.db.all<{ id: string }>(sql`
    WITH RECURSIVE below(id) AS (
      SELECT ${taskLinks.childId} FROM ${taskLinks} WHERE ${taskLinks.parentId} = ${ancestor}
      UNION SELECT l.child_id FROM ${taskLinks} l JOIN below b ON l.parent_id = b.id)
    SELECT id FROM below WHERE id = ${descendant} LIMIT 1`);
  return rows.length > 0;
}

/**
 * Makes `childId` wait for `parentId`. Refuses self-links and cycles; a ready child of a parent not
 * done drops to todo; the parent's subscribers are subscribed to the child.
 */
export async function linkTasks(ctx: RepoContext, parentId: string, childId: string): Promise<void> {
  if (parentId === childId) throw new KanbanError('CYCLE', `A task cannot depend on itself (${parentId})`);
  await write(ctx, (now) => {
    const parent = found(ctx.q.taskById(parentId), parentId);
    const child = found(ctx.q.taskById(childId), childId);
    if (reaches(ctx, childId, parentId)) {
      throw new KanbanError(
        'CYCLE',
        `Linking ${parentId} → ${childId} would make a cycle: ${parentId} already depends on ${childId}`,
      );
    }
    const inserted = ctx.db.insert(taskLinks).values({ parentId, childId }).onConflictDoNothing().run();
    if (inserted.changes === 0) return;
    // As the newest original: a ready child of a parent that is not done (archived included) waits
    // in todo, with only the `linked` event (a `status` event would reach the original's subscribers).
    const demoted = child.status === 'ready' && !PARENT_DONE.includes(parent.status);
    if (demoted) ctx.db.update(tasks).set({ status: 'todo' }).where(eq(tasks.id, childId)).run();
    appendEvent(ctx, now, {
      taskId: childId,
      kind: 'linked',
      payload: { parent: parentId, child: childId, ...(demoted && { demoted: true }) },
    });
    // As the upstream's `link_tasks`: the parent's subscribers hear of the child from here on.
    inheritSubscriptions(ctx, now, childId, [parentId]);
  });
}

/** Removes a dependency; a todo child whose remaining parents are all done becomes ready. */
export async function unlinkTasks(ctx: RepoContext, parentId: string, childId: string): Promise<void> {
  await write(ctx, (now) => {
    const removed = ctx.db
      .delete(taskLinks)
      .where(and(eq(taskLinks.parentId, parentId), eq(taskLinks.childId, childId)))
      .run();
    if (removed.changes === 0) throw new KanbanError('NOT_FOUND', `Task ${childId} does not depend on ${parentId}`);
    appendEvent(ctx, now, { taskId: childId, kind: 'unlinked', payload: { parent: parentId, child: childId } });
    recordPromotions(ctx, now, ctx.q.promoteOne(childId));
  });
}

export interface LinkedTask {
  readonly id: string;
  readonly title: string;
  readonly status: TaskStatus;
}

/** The task's parents (what it waits for) and children (what waits for it), with their titles and statuses. */
export async function listLinks(
  ctx: RepoContext,
  id: string,
): Promise<{ parents: LinkedTask[]; children: LinkedTask[] }> {
  const linked = (mine: SQLiteColumn, theirs: SQLiteColumn) =>
    ctx.db
      .select({ id: tasks.id, title: tasks.title, status: tasks.status })
      .from(taskLinks)
      .innerJoin(tasks, eq(tasks.id, theirs))
      .where(eq(mine, id))
      .orderBy(tasks.createdAt)
      .all();
  return read(ctx, () => ({
    parents: linked(taskLinks.childId, taskLinks.parentId),
    children: linked(taskLinks.parentId, taskLinks.childId),
  }));
}
