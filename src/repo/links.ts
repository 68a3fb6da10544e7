import { and, eq, sql } from 'drizzle-orm';
import { KanbanError } from '../errors';
import { taskLinks, tasks } from '../db/schema';
import { appendEvent, getTaskIn, promoteEligible, write, type RepoContext, type Tx } from './context';

/** True when `descendant` can be reached from `ancestor` by following child links. */
async function reaches(tx: Tx, ancestor: string, descendant: string): Promise<boolean> {
  const rows = await tx.all<{ id: string }>(sql`
    WITH RECURSIVE below(id) AS (
      SELECT child_id FROM task_links WHERE parent_id = ${ancestor}
      UNION SELECT l.child_id FROM task_links l JOIN below b ON l.parent_id = b.id)
    SELECT id FROM below WHERE id = ${descendant} LIMIT 1`);
  return rows.length > 0;
}

/** Makes `childId` wait for `parentId`. Refuses self-links and cycles; a ready child of an unfinished parent drops to todo. */
export async function linkTasks(ctx: RepoContext, parentId: string, childId: string): Promise<void> {
  if (parentId === childId) throw new KanbanError('CYCLE', `A task cannot depend on itself (${parentId})`);
  await write(ctx, async (tx, now) => {
    const parent = await getTaskIn(tx, parentId);
    const child = await getTaskIn(tx, childId);
    if (await reaches(tx, childId, parentId)) {
      throw new KanbanError('CYCLE', `Linking ${parentId} → ${childId} would make a cycle: ${parentId} already depends on ${childId}`);
    }
    const inserted = await tx.insert(taskLinks).values({ parentId, childId }).onConflictDoNothing().returning();
    if (inserted.length === 0) return;
    await appendEvent(tx, now, { taskId: childId, kind: 'linked', payload: { parent: parentId } });
    if (child.status === 'ready' && parent.status !== 'done') {
      await tx.update(tasks).set({ status: 'todo' }).where(eq(tasks.id, childId));
      await appendEvent(tx, now, { taskId: childId, kind: 'status', payload: { from: 'ready', to: 'todo', reason: `waits for ${parentId}` } });
    }
  });
}

/** Removes a dependency; a todo child whose remaining parents are all done becomes ready. */
export async function unlinkTasks(ctx: RepoContext, parentId: string, childId: string): Promise<void> {
  await write(ctx, async (tx, now) => {
    const removed = await tx
      .delete(taskLinks)
      .where(and(eq(taskLinks.parentId, parentId), eq(taskLinks.childId, childId)))
      .returning();
    if (removed.length === 0) throw new KanbanError('NOT_FOUND', `Task ${childId} does not depend on ${parentId}`);
    await appendEvent(tx, now, { taskId: childId, kind: 'unlinked', payload: { parent: parentId } });
    await promoteEligible(tx, now, [childId]);
  });
}
