import type { Task } from '../db/schema';
import {
  appendEvent,
  checkRun,
  childrenOf,
  closeRun,
  hasUnfinishedParent,
  NO_CLAIM,
  eligibleForPromotion,
  promoteEligible,
  taskInStatus,
  updateTask,
  write,
  type RepoContext,
} from './context';
import { blockInput, completeInput, parse, type BlockOptions, type CompleteOptions } from './input';

/** `running`, `ready` or `blocked` → `done`: closes the run, resets the failure counter, promotes children. */
export async function completeTask(ctx: RepoContext, id: string, raw?: CompleteOptions): Promise<Task> {
  const options = parse(completeInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['running', 'ready', 'blocked'], 'complete');
    checkRun(task, options.runId);
    await closeRun(tx, now, task, { status: 'done', outcome: 'completed', summary: options.summary ?? null });
    const done = await updateTask(tx, id, {
      status: 'done',
      completedAt: now,
      result: options.result ?? task.result,
      consecutiveFailures: 0,
      ...NO_CLAIM,
    });
    await appendEvent(tx, now, { taskId: id, kind: 'completed', runId: task.currentRunId, payload: { summary: options.summary ?? null } });
    await promoteEligible(tx, now, await childrenOf(tx, id));
    return done;
  });
}

/** `running` or `ready` → `blocked` with a reason; an open run is closed as `blocked`. */
export async function blockTask(ctx: RepoContext, id: string, raw: BlockOptions): Promise<Task> {
  const options = parse(blockInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['running', 'ready'], 'block');
    checkRun(task, options.runId);
    await closeRun(tx, now, task, { status: 'blocked', outcome: 'blocked', summary: options.reason });
    const blocked = await updateTask(tx, id, { status: 'blocked', ...NO_CLAIM });
    await appendEvent(tx, now, { taskId: id, kind: 'blocked', runId: task.currentRunId, payload: { reason: options.reason } });
    return blocked;
  });
}

/** `blocked` → `ready`, or `todo` while a parent is unfinished. */
export async function unblockTask(ctx: RepoContext, id: string): Promise<Task> {
  return write(ctx, async (tx, now) => {
    await taskInStatus(tx, id, ['blocked'], 'unblock');
    const status = (await hasUnfinishedParent(tx, id)) ? 'todo' : 'ready';
    const unblocked = await updateTask(tx, id, { status });
    await appendEvent(tx, now, { taskId: id, kind: 'unblocked', payload: { status } });
    return unblocked;
  });
}

/** Any status → `archived`; an open run is closed as `reclaimed`. Archived tasks leave default listings. */
export async function archiveTask(ctx: RepoContext, id: string): Promise<Task> {
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['triage', 'todo', 'ready', 'running', 'blocked', 'done'], 'archive');
    await closeRun(tx, now, task, { status: 'released', outcome: 'reclaimed', summary: 'archived' });
    const archived = await updateTask(tx, id, { status: 'archived', ...NO_CLAIM });
    await appendEvent(tx, now, { taskId: id, kind: 'archived', runId: task.currentRunId, payload: { from: task.status } });
    return archived;
  });
}

/** An operator takes a running task back: `ready` again, run closed as `reclaimed`, failure counter reset. */
export async function reclaimTask(ctx: RepoContext, id: string): Promise<Task> {
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['running'], 'reclaim');
    await closeRun(tx, now, task, { status: 'released', outcome: 'reclaimed', summary: 'reclaimed by an operator' });
    const reclaimed = await updateTask(tx, id, { status: 'ready', consecutiveFailures: 0, lastFailureError: null, ...NO_CLAIM });
    await appendEvent(tx, now, { taskId: id, kind: 'reclaimed', runId: task.currentRunId, payload: { reason: 'operator', claimer: task.claimLock } });
    return reclaimed;
  });
}

/** The dispatcher's promotion pass: every `todo` task whose parents are all done becomes `ready`. */
export async function promoteReady(ctx: RepoContext): Promise<string[]> {
  // Look before taking the write lock, so an idle tick does not queue behind the other writers.
  if ((await eligibleForPromotion(ctx.db)).length === 0) return [];
  return write(ctx, (tx, now) => promoteEligible(tx, now));
}
