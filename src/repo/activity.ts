import { and, asc, max, count, eq, gt, inArray, ne } from 'drizzle-orm';
import {
  taskComments,
  taskEvents,
  taskRuns,
  tasks,
  TASK_STATUSES,
  type Comment,
  type Run,
  type TaskEvent,
  type TaskStatus,
} from '../db/schema';
import { read, write, type RepoContext } from './context';
import { appendEvent } from './events';
import { found } from './guards';
import { commentInput, eventsInput, parse, type CommentInput, type EventsFilter } from './input';

export async function addComment(ctx: RepoContext, taskId: string, raw: CommentInput): Promise<Comment> {
  const input = parse(commentInput, raw, 'comment');
  return write(ctx, (now) => {
    found(ctx.q.taskById(taskId), taskId);
    return insertComment(ctx, now, taskId, input);
  });
}

/** A comment and its `commented` event, inside the caller's transaction. */
export function insertComment(
  ctx: RepoContext,
  now: number,
  taskId: string,
  input: { author: string; body: string },
): Comment {
  const comment = ctx.db
    .insert(taskComments)
    .values({ taskId, ...input, createdAt: now })
    .returning()
    .get();
  appendEvent(ctx, now, { taskId, kind: 'commented', payload: { author: input.author, len: input.body.length } });
  return comment;
}

export function listComments(ctx: RepoContext, taskId: string): Promise<Comment[]> {
  return read(ctx, () =>
    ctx.db
      .select()
      .from(taskComments)
      .where(eq(taskComments.taskId, taskId))
      .orderBy(asc(taskComments.createdAt), asc(taskComments.id))
      .all(),
  );
}

export function listRuns(ctx: RepoContext, taskId: string): Promise<Run[]> {
  return read(ctx, () =>
    ctx.db.select().from(taskRuns).where(eq(taskRuns.taskId, taskId)).orderBy(asc(taskRuns.id)).all(),
  );
}

/** The event log in order, optionally one task's, after a cursor, of some kinds. */
export async function listEvents(ctx: RepoContext, raw?: EventsFilter): Promise<TaskEvent[]> {
  const filter = parse(eventsInput, raw, 'filter');
  const query = ctx.db
    .select()
    .from(taskEvents)
    .where(
      and(
        filter.taskId === undefined ? undefined : eq(taskEvents.taskId, filter.taskId),
        filter.afterId === undefined ? undefined : gt(taskEvents.id, filter.afterId),
        filter.kinds === undefined ? undefined : inArray(taskEvents.kind, filter.kinds),
      ),
    )
    .orderBy(asc(taskEvents.id))
    .limit(filter.limit ?? -1);
  return read(ctx, () => query.all());
}

export interface BoardStats {
  readonly byStatus: Record<TaskStatus, number>;
  /** Non-archived tasks per assignee; unassigned tasks under `''`. */
  readonly byAssignee: Record<string, number>;
  readonly total: number;
}

export function stats(ctx: RepoContext): Promise<BoardStats> {
  return read(ctx, () => {
    const statusRows = ctx.db.select({ status: tasks.status, n: count() }).from(tasks).groupBy(tasks.status).all();
    const assigneeRows = ctx.db
      .select({ assignee: tasks.assignee, n: count() })
      .from(tasks)
      .where(ne(tasks.status, 'archived'))
      .groupBy(tasks.assignee)
      .all();
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
export async function lastEventId(ctx: RepoContext): Promise<number> {
  return read(
    ctx,
    () =>
      ctx.db
        .select({ id: max(taskEvents.id) })
        .from(taskEvents)
        .get()?.id ?? 0,
  );
}
