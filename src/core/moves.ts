import { TASK_STATUSES, type Task, type TaskStatus } from './schema';
import { endAttempt } from './attempts';
import { claimNextIn, claimParams, type Claim } from './claims';
import { read, write, type RepoContext, type Tx } from './context';
import { insertComment } from './activity';
import { appendEvent, recordPromotions, summaryLine } from './events';
import { assignIn } from './tasks';
import { found, parentsFinished, taskInStatus } from './guards';
import { KanbanError } from '../errors';
import {
  blockInput,
  completeAndClaimInput,
  completeInput,
  completionsInput,
  type TaskCompletion,
  parse,
  promoteInput,
  reclaimInput,
  unblockInput,
  type UnblockOptions,
  scheduleInput,
  type PromoteOptions,
  type ReclaimOptions,
  type BlockOptions,
  type CompleteAndClaimOptions,
  type CompleteOptions,
  type ScheduleOptions,
} from './input';

// The upstream's transitions (kanban_db.py `complete_task`, `block_task`, `unblock_task`): a review
// task is completed by a person approving it; scheduled ones are unblocked, not completed.
const COMPLETABLE: readonly TaskStatus[] = ['running', 'ready', 'blocked', 'review'];
const BLOCKABLE: readonly TaskStatus[] = ['running', 'ready'];
const SCHEDULABLE: readonly TaskStatus[] = ['todo', 'ready', 'running', 'blocked'];
const UNBLOCKABLE: readonly TaskStatus[] = ['blocked', 'scheduled'];
const ARCHIVABLE = TASK_STATUSES.filter((s) => s !== 'archived');
const PROMOTABLE: readonly TaskStatus[] = ['todo', 'blocked'];
/** The same kind of block twice in a row sends a task to triage instead: a person must look at it. */
export const BLOCK_RECURRENCE_LIMIT = 2;
/** What the run of a review approved without a reviewer's run says (upstream `complete_task`). */
export const MANUAL_APPROVAL = 'Review approved without additional evidence.';

interface Completion {
  readonly runId?: number | undefined;
  readonly result?: string | null | undefined;
  readonly summary?: string | null | undefined;
}

/**
 * The completion inside the caller's transaction: refused while a parent is unfinished; closes the
 * run, resets the failure counter, promotes children. A review task approved by a person (no
 * reviewer's run open) gets a zero-length completed run, as the upstream records it.
 */
async function completeIn(tx: Tx, now: number, id: string, options: Completion): Promise<Task> {
  const task = await taskInStatus(tx, id, COMPLETABLE, 'complete', options.runId);
  await parentsFinished(tx, task, 'complete');
  const approval = task.status === 'review' && task.currentRunId === null;
  const bare = options.summary == null && options.result == null;
  const note = options.summary ?? (approval ? (options.result ?? MANUAL_APPROVAL) : null);
  const result = options.result ?? task.result;
  const done = await endAttempt(tx, now, task, {
    set: {
      status: 'done',
      completedAt: now,
      result,
      consecutiveFailures: 0,
      lastFailureError: null,
      blockKind: null,
      blockRecurrences: 0,
    },
    run: {
      status: 'done',
      outcome: 'completed',
      summary: note,
      synthesize: approval,
      metadata: approval && bare ? { source_status: 'review', approval: 'manual' } : null,
    },
    event: { kind: 'completed', payload: { result_len: result?.length ?? 0, summary: summaryLine(note) } },
  });
  await recordPromotions(tx, now, await tx.q.promoteChildren(id));
  return done;
}

/** `running`, `ready`, `blocked` or `review` → `done`, once every parent is done or archived. */
export async function completeTask(ctx: RepoContext, id: string, raw?: CompleteOptions): Promise<Task> {
  const options = parse(completeInput, raw, 'options');
  return write(ctx, (tx, now) => completeIn(tx, now, id, options));
}

/**
 * Completes several tasks in one transaction (one commit): completions that arrive together, as a
 * worker pool's, are written together. All or nothing: a completion the rules refuse refuses the
 * call, naming its task, and nothing is written.
 */
export async function completeTasks(ctx: RepoContext, raw: readonly TaskCompletion[]): Promise<Task[]> {
  const items = parse(completionsInput, raw, 'completions');
  if (items.length === 0) return [];
  return write(ctx, async (tx, now) => {
    const done: Task[] = [];
    for (const { id, ...options } of items) done.push(await completeIn(tx, now, id, options));
    return done;
  });
}

export interface CompleteAndClaimResult {
  readonly completed: Task;
  /** The next task claimed, or undefined when none was ready. */
  readonly next: Claim | undefined;
}

/** Completes a task and claims the next one in the same transaction: one commit, one fsync. */
export async function completeAndClaimNext(
  ctx: RepoContext,
  id: string,
  raw?: CompleteAndClaimOptions,
): Promise<CompleteAndClaimResult> {
  const { claimNext, ...options } = parse(completeAndClaimInput, raw, 'options');
  const params = claimParams(ctx, claimNext);
  return write(ctx, async (tx, now) => {
    const completed = await completeIn(tx, now, id, options);
    return { completed, next: await claimNextIn(tx, now, params) };
  });
}

/**
 * `running` or `ready` → blocked, typed as the newest original types blocks. `dependency` sends the
 * task to `todo` to wait (event `dependency_wait`). Any other kind, or none, blocks it and counts:
 * the same kind as the previous block adds one to `block_recurrences`, another kind starts at 1;
 * at `BLOCK_RECURRENCE_LIMIT` the task goes to `triage` instead (event `block_loop_detected`).
 * The open run is closed as `blocked` (or a zero-length one recorded when there was none).
 */
export async function blockTask(ctx: RepoContext, id: string, raw: BlockOptions): Promise<Task> {
  const { reason, kind = null, runId } = parse(blockInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, BLOCKABLE, 'block', runId);
    const run = { status: 'blocked', outcome: 'blocked', summary: reason, synthesize: true } as const;
    // A blocked reviewer's run goes back to review once unblocked (the event's source_status says so).
    const source = await tx.q.claimedFrom(task.currentRunId);
    if (kind === 'dependency') {
      return endAttempt(tx, now, task, {
        set: { status: 'todo', blockKind: kind },
        run,
        event: { kind: 'dependency_wait', payload: { reason, kind, source_status: source } },
      });
    }
    const recurrences = task.blockKind === kind ? task.blockRecurrences + 1 : 1;
    const looped = recurrences >= BLOCK_RECURRENCE_LIMIT;
    return endAttempt(tx, now, task, {
      set: { status: looped ? 'triage' : 'blocked', blockKind: kind, blockRecurrences: recurrences },
      run,
      event: looped
        ? {
            kind: 'block_loop_detected',
            payload: { reason, kind, recurrences, source_status: source, limit: BLOCK_RECURRENCE_LIMIT },
          }
        : { kind: 'blocked', payload: { reason, kind, recurrences, source_status: source } },
    });
  });
}

/**
 * `blocked` or `scheduled` → `ready`, or `review` for a blocked task that came from review, or
 * `todo` while a parent is neither done nor archived (its event keeps the lane it will resume).
 * The failure counter and error are reset; the block kind and its recurrences stay, as in the
 * upstream's `unblock_task`. A reason is added as the comment `UNBLOCK: <reason>`.
 */
export async function unblockTask(ctx: RepoContext, id: string, raw?: UnblockOptions): Promise<Task> {
  const { reason, author = 'user' } = parse(unblockInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, UNBLOCKABLE, 'unblock');
    const resume = task.status === 'blocked' ? await tx.q.resumeLane(id) : 'ready';
    const status = (await tx.q.unfinishedParent(id)) === undefined ? resume : 'todo';
    // The original's CLI comments the reason first; here it is part of the same commit.
    if (reason) await insertComment(tx, now, id, { author, body: `UNBLOCK: ${reason}` });
    return endAttempt(tx, now, task, {
      set: { status, consecutiveFailures: 0, lastFailureError: null },
      run: { status: 'reclaimed', outcome: 'reclaimed', summary: 'invariant recovery on unblock' },
      event: {
        kind: 'unblocked',
        payload: status === 'ready' && resume === 'ready' ? null : { status, resume_status: resume },
      },
    });
  });
}

/**
 * `todo`, `ready`, `running` or `blocked` → `scheduled`: parked until something outside (a person,
 * cron) unblocks it; there is no time column, the reason says when. The open run is closed as
 * `scheduled` (or a zero-length one recorded when there was none and a reason is given).
 */
export async function scheduleTask(ctx: RepoContext, id: string, raw?: ScheduleOptions): Promise<Task> {
  const { reason = null, runId } = parse(scheduleInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, SCHEDULABLE, 'schedule', runId);
    return endAttempt(tx, now, task, {
      set: { status: 'scheduled' },
      run: { status: 'scheduled', outcome: 'scheduled', summary: reason, synthesize: reason !== null },
      event: { kind: 'scheduled', payload: { reason } },
    });
  });
}

/**
 * Deletes a task with its runs, events, comments, subscriptions and attachment rows, and appends
 * one `deleted` event (naming its title), so every reader of the log learns it is gone. Refused
 * with `REFERENCED` while a link ties it to another task (unlink first) or a recipe names it, and
 * with `INVALID_TRANSITION` while it runs (reclaim or finish it first): a deletion never leaves a
 * row pointing at nothing, nor a worker without its task.
 */
export async function deleteTask(ctx: RepoContext, id: string): Promise<void> {
  await write(ctx, async (tx, now) => {
    const task = found(await tx.q.taskById(id), id);
    if (task.status === 'running')
      throw new KanbanError('INVALID_TRANSITION', `Task ${id} is running; reclaim or finish it before deleting it`);
    const { parents, children } = await tx.q.linkedTasks(id);
    const tied = [...parents.map((p) => `waits for ${p.id}`), ...children.map((c) => `${c.id} waits for it`)];
    if (tied.length)
      throw new KanbanError('REFERENCED', `Task ${id} is linked (${tied.join(', ')}); unlink it before deleting it`);
    const recipe = await tx.q.recipeOf(id);
    if (recipe !== undefined)
      throw new KanbanError(
        'REFERENCED',
        `Task ${id} belongs to recipe instance ${recipe}; it can be archived, not deleted`,
      );
    await tx.q.deleteTasks([id]);
    await appendEvent(tx, now, { taskId: id, kind: 'deleted', payload: { title: task.title, from: task.status } });
  });
}

/** Any status → `archived`; an open run is closed as `reclaimed`; children waiting only for it are promoted. Archived tasks leave default listings. */
export async function archiveTask(ctx: RepoContext, id: string): Promise<Task> {
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ARCHIVABLE, 'archive');
    const archived = await endAttempt(tx, now, task, {
      set: { status: 'archived' },
      run: { status: 'reclaimed', outcome: 'reclaimed', summary: 'archived' },
      event: { kind: 'archived', payload: { from: task.status } },
    });
    // An archived parent counts as finished: children waiting only for it may run now.
    await recordPromotions(tx, now, await tx.q.promoteChildren(id));
    return archived;
  });
}

/**
 * An operator takes a running task back: `ready` again (a reviewer's run: `review`), run closed as
 * `reclaimed`, failure counter reset.
 */
export async function reclaimTask(ctx: RepoContext, id: string, raw?: ReclaimOptions): Promise<Task> {
  const { reason = 'operator', runId, assignee } = parse(reclaimInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['running'], 'reclaim', runId);
    const retry = await tx.q.claimedFrom(task.currentRunId);
    const payload = { manual: true, reason, prev_lock: task.claimLock, retry_status: retry };
    const reclaimed = await endAttempt(tx, now, task, {
      set: { status: retry, consecutiveFailures: 0, lastFailureError: null },
      run: {
        status: 'reclaimed',
        outcome: 'reclaimed',
        summary: 'reclaimed by an operator',
        error: `manual_reclaim: ${reason}`,
      },
      event: { kind: 'reclaimed', payload },
    });
    // `reassign --reclaim`: the new assignee in the same commit, so a refused one leaves the task running.
    return assignee === undefined ? reclaimed : assignIn(tx, now, reclaimed, assignee);
  });
}

/**
 * A person moves a `todo` or `blocked` task to `ready` (upstream `promote_task`), once every
 * parent is done or archived; event `promoted_manual`. With `dryRun`, the same checks and no write.
 */
export async function promoteTask(ctx: RepoContext, id: string, raw?: PromoteOptions): Promise<Task> {
  const { reason = null, actor = null, dryRun } = parse(promoteInput, raw, 'options');
  const check = async (tx: Tx) => {
    const task = await taskInStatus(tx, id, PROMOTABLE, 'promote');
    await parentsFinished(tx, task, 'promote');
    return task;
  };
  if (dryRun) return read(ctx, async (tx) => ({ ...(await check(tx)), status: 'ready' }));
  return write(ctx, async (tx, now) => {
    const task = await check(tx);
    await tx.q.updateTask(id, { status: 'ready' });
    await appendEvent(tx, now, { taskId: id, kind: 'promoted_manual', payload: { actor, reason } });
    return { ...task, status: 'ready' };
  });
}

/**
 * The dispatcher's promotion pass, as the newest original's: every `todo` task, and every blocked
 * one whose block is neither sticky nor the breaker's, whose parents are all done or archived becomes `ready`.
 */
export async function promoteReady(ctx: RepoContext): Promise<string[]> {
  // Look before taking the write lock, so an idle tick does not queue behind the other writers.
  if (!(await read(ctx, (tx) => tx.q.anyPromotable()))) return [];
  return write(ctx, async (tx, now) => recordPromotions(tx, now, await tx.q.promoteAll()));
}
