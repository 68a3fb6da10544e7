import { TASK_STATUSES, type Comment, type Run, type TaskEvent, type TaskStatus } from './schema';
import { read, write, type RepoContext, type Tx } from './context';
import { appendEvent } from './events';
import { found } from './guards';
import { commentInput, eventsInput, parse, type CommentInput, type EventsFilter } from './input';

export async function addComment(ctx: RepoContext, taskId: string, raw: CommentInput): Promise<Comment> {
  const input = parse(commentInput, raw, 'comment');
  return write(ctx, async (tx, now) => {
    found(await tx.q.taskById(taskId), taskId);
    return insertComment(tx, now, taskId, input);
  });
}

/** A comment and its `commented` event, inside the caller's transaction. */
export async function insertComment(
  tx: Tx,
  now: number,
  taskId: string,
  input: { author: string; body: string },
): Promise<Comment> {
  const comment = await tx.q.insertComment({ taskId, ...input, createdAt: now });
  await appendEvent(tx, now, { taskId, kind: 'commented', payload: { author: input.author, len: input.body.length } });
  return comment;
}

export function listComments(ctx: RepoContext, taskId: string): Promise<Comment[]> {
  return read(ctx, (tx) => tx.q.comments(taskId));
}

export function listRuns(ctx: RepoContext, taskId: string): Promise<Run[]> {
  return read(ctx, (tx) => tx.q.runs(taskId));
}

/** The event log in order, optionally one task's, after a cursor, of some kinds. */
export async function listEvents(ctx: RepoContext, raw?: EventsFilter): Promise<TaskEvent[]> {
  const filter = parse(eventsInput, raw, 'filter');
  return read(ctx, (tx) => tx.q.events(filter));
}

export interface BoardStats {
  readonly byStatus: Record<TaskStatus, number>;
  /** Non-archived tasks per assignee; unassigned tasks under `''`. */
  readonly byAssignee: Record<string, number>;
  readonly total: number;
}

export function stats(ctx: RepoContext): Promise<BoardStats> {
  return read(ctx, async (tx) => {
    const statusRows = await tx.q.statusCounts();
    const assigneeRows = await tx.q.assigneeCounts();
    // A literal rather than one built from TASK_STATUSES: the compiler then proves every status has a count.
    const byStatus: Record<TaskStatus, number> = {
      triage: 0,
      todo: 0,
      scheduled: 0,
      ready: 0,
      running: 0,
      blocked: 0,
      review: 0,
      done: 0,
      archived: 0,
    };
    // Other writers may have stored statuses this version does not know; they count in `total` only.
    for (const row of statusRows) if (TASK_STATUSES.includes(row.status)) byStatus[row.status] = row.n;
    return {
      byStatus,
      byAssignee: Object.fromEntries(assigneeRows.map((r) => [r.assignee ?? '', r.n])),
      total: statusRows.reduce((sum, r) => sum + r.n, 0),
    };
  });
}

/** The id of the board's newest event, 0 when there is none: where a live reader starts. */
export function lastEventId(ctx: RepoContext): Promise<number> {
  return read(ctx, (tx) => tx.q.lastEventId());
}
