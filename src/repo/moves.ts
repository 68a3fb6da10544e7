import { TASK_STATUSES, type Task, type TaskStatus } from '../db/schema';
import { endAttempt } from './attempts';
import { claimNextIn, claimParams, type Claim } from './claims';
import { read, write, type RepoContext } from './context';
import { recordPromotions } from './events';
import { checkRun, taskInStatus } from './guards';
import { blockInput, completeAndClaimInput, completeInput, parse, type BlockOptions, type CompleteAndClaimOptions, type CompleteOptions } from './input';

const COMPLETABLE: readonly TaskStatus[] = ['running', 'ready', 'blocked'];
const BLOCKABLE: readonly TaskStatus[] = ['running', 'ready'];
const ARCHIVABLE = TASK_STATUSES.filter((s) => s !== 'archived');

interface Completion {
  readonly runId?: number | undefined;
  readonly result?: string | null | undefined;
  readonly summary?: string | null | undefined;
}

/** The completion inside the caller's transaction: closes the run, resets the failure counter, promotes children. */
function completeIn(ctx: RepoContext, now: number, id: string, options: Completion): Task {
  const task = taskInStatus(ctx, id, COMPLETABLE, 'complete');
  checkRun(task, options.runId);
  const summary = options.summary ?? null;
  const done = endAttempt(ctx, now, task, {
    set: { status: 'done', completedAt: now, result: options.result ?? task.result, consecutiveFailures: 0 },
    run: { status: 'done', outcome: 'completed', summary },
    event: { kind: 'completed', payload: { summary } },
  });
  recordPromotions(ctx, now, ctx.q.promoteChildren(id));
  return done;
}

/** `running`, `ready` or `blocked` → `done`. */
export async function completeTask(ctx: RepoContext, id: string, raw?: CompleteOptions): Promise<Task> {
  const options = parse(completeInput, raw, 'options');
  return write(ctx, (now) => completeIn(ctx, now, id, options));
}

export interface CompleteAndClaimResult {
  readonly completed: Task;
  /** The next task claimed, or undefined when none was ready. */
  readonly next: Claim | undefined;
}

/** Completes a task and claims the next one in the same transaction: one commit, one fsync. */
export async function completeAndClaimNext(ctx: RepoContext, id: string, raw?: CompleteAndClaimOptions): Promise<CompleteAndClaimResult> {
  const { claimNext, ...options } = parse(completeAndClaimInput, raw, 'options');
  const params = claimParams(ctx, claimNext);
  return write(ctx, (now) => ({ completed: completeIn(ctx, now, id, options), next: claimNextIn(ctx, now, params) }));
}

/** `running` or `ready` → `blocked` with a reason; an open run is closed as `blocked`. */
export async function blockTask(ctx: RepoContext, id: string, raw: BlockOptions): Promise<Task> {
  const options = parse(blockInput, raw, 'options');
  return write(ctx, (now) => {
    const task = taskInStatus(ctx, id, BLOCKABLE, 'block');
    checkRun(task, options.runId);
    return endAttempt(ctx, now, task, {
      set: { status: 'blocked' },
      run: { status: 'blocked', outcome: 'blocked', summary: options.reason },
      event: { kind: 'blocked', payload: { reason: options.reason } },
    });
  });
}

/** `blocked` → `ready`, or `todo` while a parent is unfinished. */
export async function unblockTask(ctx: RepoContext, id: string): Promise<Task> {
  return write(ctx, (now) => {
    const task = taskInStatus(ctx, id, ['blocked'], 'unblock');
    const status = ctx.q.waitsForParent(id) ? 'todo' : 'ready';
    return endAttempt(ctx, now, task, {
      set: { status },
      run: { status: 'released', outcome: 'reclaimed', summary: 'invariant recovery on unblock' },
      event: { kind: 'unblocked', payload: { status } },
    });
  });
}

/** Any status → `archived`; an open run is closed as `reclaimed`. Archived tasks leave default listings. */
export async function archiveTask(ctx: RepoContext, id: string): Promise<Task> {
  return write(ctx, (now) => {
    const task = taskInStatus(ctx, id, ARCHIVABLE, 'archive');
    return endAttempt(ctx, now, task, {
      set: { status: 'archived' },
      run: { status: 'released', outcome: 'reclaimed', summary: 'archived' },
      event: { kind: 'archived', payload: { from: task.status } },
    });
  });
}

/** An operator takes a running task back: `ready` again, run closed as `reclaimed`, failure counter reset. */
export async function reclaimTask(ctx: RepoContext, id: string): Promise<Task> {
  return write(ctx, (now) => {
    const task = taskInStatus(ctx, id, ['running'], 'reclaim');
    return endAttempt(ctx, now, task, {
      set: { status: 'ready', consecutiveFailures: 0, lastFailureError: null },
      run: { status: 'released', outcome: 'reclaimed', summary: 'reclaimed by an operator' },
      event: { kind: 'reclaimed', payload: { reason: 'operator', claimer: task.claimLock } },
    });
  });
}

/** The dispatcher's promotion pass: every `todo` task whose parents are all done becomes `ready`. */
export async function promoteReady(ctx: RepoContext): Promise<string[]> {
  // Look before taking the write lock, so an idle tick does not queue behind the other writers.
  if (!(await read(ctx, () => ctx.q.anyPromotable()))) return [];
  return write(ctx, (now) => recordPromotions(ctx, now, ctx.q.promoteAll()));
}
