/** The checks every move makes before it writes: the task exists, is in a status the move allows, and the caller holds its current run. */
import { KanbanError } from '../errors';
import type { Task, TaskStatus } from './schema';
import type { Tx } from './context';

export function found(task: Task | undefined, id: string): Task {
  if (!task) throw new KanbanError('NOT_FOUND', `No task ${id} on this board; \`kanban list\` shows the task ids`);
  return task;
}

/**
 * Reads a task and refuses unless it is in one of `from`. With `runId`, a caller whose run is no
 * longer the task's learns that first (`STALE_RUN`), whatever the task has become since: a worker
 * whose lease ran out is told its task went on without it.
 */
export async function taskInStatus(
  tx: Tx,
  id: string,
  from: readonly TaskStatus[],
  move: string,
  runId?: number,
): Promise<Task> {
  const task = found(await tx.q.taskById(id), id);
  checkRun(task, runId);
  if (!from.includes(task.status)) {
    throw new KanbanError(
      'INVALID_TRANSITION',
      `Cannot ${move} task ${id}: it is ${task.status}, and only a ${from.join(' or ')} task can be`,
    );
  }
  return task;
}

/** Fencing: a caller holding an old attempt's run id must not act on a newer attempt. */
function checkRun(task: Task, runId: number | undefined): void {
  if (runId !== undefined && task.currentRunId !== runId) {
    throw new KanbanError(
      'STALE_RUN',
      `Run ${runId} is not the current attempt of task ${task.id} (current: ${task.currentRunId ?? 'none'}); this worker no longer holds the task`,
    );
  }
}

/** Refuses a move that needs every parent finished (done or archived) while one is not. */
export async function parentsFinished(tx: Tx, task: Task, move: string): Promise<void> {
  const parent = await tx.q.unfinishedParent(task.id);
  if (parent === undefined) return;
  throw new KanbanError(
    'INVALID_TRANSITION',
    `Cannot ${move} task ${task.id}: its parent ${parent} is not done or archived yet; finish it, or \`kanban unlink ${parent} ${task.id}\``,
  );
}
