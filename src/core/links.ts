import { KanbanError } from '../errors';
import { PARENT_DONE } from './model';
import { read, write, type RepoContext } from './context';
import { appendEvent, recordPromotions } from './events';
import { found } from './guards';
import { inheritSubscriptions } from './notify';
import type { LinkedTask } from './port';

export type { LinkedTask };

/**
 * Makes `childId` wait for `parentId`. Refuses self-links and cycles; a ready child of a parent not
 * done drops to todo; the parent's subscribers are subscribed to the child.
 */
export async function linkTasks(ctx: RepoContext, parentId: string, childId: string): Promise<void> {
  if (parentId === childId) throw new KanbanError('CYCLE', `A task cannot depend on itself (${parentId})`);
  await write(ctx, async (tx, now) => {
    // Read (and on a server, lock) the two tasks in id order, so opposite links made at once queue instead of deadlocking.
    const inOrder = parentId < childId;
    const first = await tx.q.taskById(inOrder ? parentId : childId);
    const second = await tx.q.taskById(inOrder ? childId : parentId);
    const parent = found(inOrder ? first : second, parentId);
    const child = found(inOrder ? second : first, childId);
    if (await tx.q.reaches(childId, parentId)) {
      throw new KanbanError(
        'CYCLE',
        `Linking ${parentId} → ${childId} would make a cycle: ${parentId} already depends on ${childId}`,
      );
    }
    if ((await tx.q.insertLinks([{ parentId, childId }])) === 0) return;
    // As the newest original: a ready child of a parent that is not done (archived included) waits
    // in todo, with only the `linked` event (a `status` event would reach the original's subscribers).
    const demoted = child.status === 'ready' && !PARENT_DONE.includes(parent.status);
    if (demoted) await tx.q.updateTask(childId, { status: 'todo' });
    await appendEvent(tx, now, {
      taskId: childId,
      kind: 'linked',
      payload: { parent: parentId, child: childId, ...(demoted && { demoted: true }) },
    });
    // As the upstream's `link_tasks`: the parent's subscribers hear of the child from here on.
    await inheritSubscriptions(tx, now, childId, [parentId]);
  });
}

/** Removes a dependency; a todo child whose remaining parents are all done becomes ready. */
export async function unlinkTasks(ctx: RepoContext, parentId: string, childId: string): Promise<void> {
  await write(ctx, async (tx, now) => {
    if (!(await tx.q.deleteLink(parentId, childId)))
      throw new KanbanError('NOT_FOUND', `Task ${childId} does not depend on ${parentId}`);
    await appendEvent(tx, now, { taskId: childId, kind: 'unlinked', payload: { parent: parentId, child: childId } });
    await recordPromotions(tx, now, await tx.q.promoteOne(childId));
  });
}

/** The task's parents (what it waits for) and children (what waits for it), with their titles and statuses. */
export function listLinks(ctx: RepoContext, id: string): Promise<{ parents: LinkedTask[]; children: LinkedTask[] }> {
  return read(ctx, (tx) => tx.q.linkedTasks(id));
}
