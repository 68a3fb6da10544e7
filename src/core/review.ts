/**
 * The upstream's review workflow (hermes_cli/kanban_db.py `request_review`, `request_changes`,
 * `reopen_review_task`): a worker hands its result to a reviewer; the reviewer's run approves it
 * (completes), or sends it back to the implementer with changes requested; a person may reopen a
 * task waiting in review. Failure counters and block kinds are left as they are.
 */
import { KanbanError } from '../errors';
import type { Task } from './schema';
import { endAttempt } from './attempts';
import { write, type RepoContext, type Tx } from './context';
import { summaryLine } from './events';
import { parentsFinished, taskInStatus } from './guards';
import {
  parse,
  reopenReviewInput,
  requestChangesInput,
  requestReviewInput,
  type ReopenReviewOptions,
  type RequestChangesOptions,
  type RequestReviewOptions,
} from './input';
import { insertComment } from './activity';

/** A name in an event's payload, when it is a non-blank string. */
function named(payload: Record<string, unknown> | null | undefined, key: string): string | undefined {
  const value = payload?.[key];
  return typeof value === 'string' && value.trim() ? value.trim().toLowerCase() : undefined;
}

/** Ready, or todo while a parent is unfinished: where a task handed back from review lands. */
const landing = async (tx: Tx, id: string) => ((await tx.q.unfinishedParent(id)) === undefined ? 'ready' : 'todo');

/**
 * `running` or `ready` → `review`. A running task that holds a claim is the worker's to hand over:
 * the call names its run (`runId`), or `force`s it. The reviewer becomes the assignee: the one
 * given, else the one who last requested changes; the open run closes as `review_requested`.
 */
export async function requestReview(ctx: RepoContext, id: string, raw?: RequestReviewOptions): Promise<Task> {
  const { runId, summary = null, reviewer: given, metadata = null, force } = parse(requestReviewInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['running', 'ready'], 'request review of', runId);
    await parentsFinished(tx, task, 'request review of');
    if (task.status === 'running' && task.claimLock !== null && runId === undefined && !force) {
      throw new KanbanError(
        'INVALID_TRANSITION',
        `Task ${id} is running under ${task.claimLock}; its worker requests review with its run id, or pass force to take it from the worker`,
      );
    }
    const reviewer = given ?? (await priorReviewer(tx, id));
    return endAttempt(tx, now, task, {
      set: { status: 'review', assignee: reviewer ?? task.assignee },
      run: {
        status: 'review',
        outcome: 'review_requested',
        summary,
        metadata,
        synthesize: summary !== null || metadata !== null,
      },
      event: {
        kind: 'review_requested',
        payload: { summary: summaryLine(summary), implementer: task.assignee, reviewer: reviewer ?? null },
      },
    });
  });
}

/** Who asked for changes last time reviews this task again; undefined for a first review. */
async function priorReviewer(tx: Tx, id: string): Promise<string | undefined> {
  const payload = await tx.q.newestPayload(id, 'changes_requested');
  if (payload === undefined) return undefined;
  const reviewer = named(payload, 'reviewer');
  if (reviewer) return reviewer;
  throw new KanbanError(
    'INVALID_INPUT',
    `Task ${id}'s last change request names no reviewer; name one (reviewer, or --reviewer on the command line)`,
  );
}

/** The implementer the newest review request named, if any. */
const implementerOf = async (tx: Tx, id: string) =>
  named(await tx.q.newestPayload(id, 'review_requested'), 'implementer');

/**
 * The reviewer's run sends the task back: it goes to its implementer, `ready` (or `todo` while a
 * parent is unfinished), and the run closes as `changes_requested` with the reason as summary.
 */
export async function requestChanges(ctx: RepoContext, id: string, raw: RequestChangesOptions): Promise<Task> {
  const { runId, reason } = parse(requestChangesInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['running'], 'request changes on', runId);
    if ((await tx.q.claimedFrom(task.currentRunId)) !== 'review') {
      throw new KanbanError(
        'INVALID_TRANSITION',
        `Task ${id} is not being reviewed: its run was not claimed from review, so there are no changes to request`,
      );
    }
    const implementer = await implementerOf(tx, id);
    if (!implementer) {
      throw new KanbanError(
        'INVALID_TRANSITION',
        `Task ${id}'s review request names no implementer to send it back to`,
      );
    }
    const status = await landing(tx, id);
    return endAttempt(tx, now, task, {
      set: { status, assignee: implementer },
      run: { status, outcome: 'changes_requested', summary: reason },
      event: { kind: 'changes_requested', payload: { reason, implementer, reviewer: task.assignee, status } },
    });
  });
}

/**
 * A person takes a task out of review: back to its implementer, `ready` (or `todo`); with a
 * reason, the comment `CHANGES REQUESTED: <reason>` in the same commit.
 */
export async function reopenReview(ctx: RepoContext, id: string, raw?: ReopenReviewOptions): Promise<Task> {
  const { reason, author = 'user' } = parse(reopenReviewInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['review'], 'reopen');
    const implementer = await implementerOf(tx, id);
    const status = await landing(tx, id);
    const reopened = await endAttempt(tx, now, task, {
      set: { status, assignee: implementer ?? task.assignee },
      run: { status: 'reclaimed', outcome: 'reclaimed', summary: 'invariant recovery on review reopen' },
      event: {
        kind: 'review_reopened',
        payload: status === 'ready' && !implementer ? null : { status, ...(implementer && { implementer }) },
      },
    });
    if (reason) await insertComment(tx, now, id, { author, body: `CHANGES REQUESTED: ${reason}` });
    return reopened;
  });
}
