import { randomBytes } from 'node:crypto';
import { and, asc, eq, inArray, ne, type SQL } from 'drizzle-orm';
import { KanbanError } from '../errors';
import { taskLinks, tasks, type Task, type TaskStatus } from '../db/schema';
import { appendEvent, CLAIM_ORDER, found, taskInStatus, updateTask, write, type RepoContext } from './context';
import { assigneeInput, createTaskInput, listTasksInput, parse, type CreateTaskInput, type ListTasksFilter } from './input';

/** `t_` + 4 random bytes in hex, as the original program makes them. */
export function newTaskId(): string {
  return `t_${randomBytes(4).toString('hex')}`;
}

/**
 * Creates a task: `triage` if asked, else `ready` when every parent is done, else `todo`. With an
 * idempotency key, creating twice returns the first non-archived task with that key.
 */
export async function createTask(ctx: RepoContext, raw: CreateTaskInput): Promise<Task> {
  const { parents, triage, ...input } = parse(createTaskInput, raw, 'task');
  return write(ctx, async (tx, now) => {
    if (input.idempotencyKey) {
      const [existing] = await tx
        .select()
        .from(tasks)
        .where(and(eq(tasks.idempotencyKey, input.idempotencyKey), ne(tasks.status, 'archived')))
        .orderBy(asc(tasks.createdAt))
        .limit(1);
      if (existing) return existing;
    }
    const uniqueParents = [...new Set(parents)];
    const found = uniqueParents.length ? await tx.select({ id: tasks.id, status: tasks.status }).from(tasks).where(inArray(tasks.id, uniqueParents)) : [];
    const missing = uniqueParents.filter((id) => !found.some((p) => p.id === id));
    if (missing.length) throw new KanbanError('INVALID_INPUT', `Invalid parents: no task ${missing.join(', ')} on this board`);
    const status: TaskStatus = triage ? 'triage' : found.every((p) => p.status === 'done') ? 'ready' : 'todo';
    // A random id can collide with a task's: the insert then writes nothing, and another id is drawn.
    let task: Task | undefined;
    while (!task) {
      [task] = await tx
        .insert(tasks)
        .values({ ...input, id: ctx.newTaskId(), status, createdAt: now })
        .onConflictDoNothing({ target: tasks.id })
        .returning();
    }
    const { id } = task;
    if (uniqueParents.length) await tx.insert(taskLinks).values(uniqueParents.map((parentId) => ({ parentId, childId: id })));
    await appendEvent(tx, now, { taskId: id, kind: 'created', payload: { status, assignee: input.assignee ?? null, parents: uniqueParents } });
    return task;
  });
}

export function findTask(ctx: RepoContext, id: string): Promise<Task | undefined> {
  return ctx.reads.taskById().get({ id });
}

export async function getTask(ctx: RepoContext, id: string): Promise<Task> {
  return found(await findTask(ctx, id), id);
}

/** Tasks by priority (highest first), then age. Archived tasks are hidden unless asked for. */
export async function listTasks(ctx: RepoContext, raw?: ListTasksFilter): Promise<Task[]> {
  const filter = parse(listTasksInput, raw, 'filter');
  const statuses = filter.status === undefined ? undefined : [filter.status].flat();
  const where: (SQL | undefined)[] = [
    statuses ? inArray(tasks.status, statuses) : filter.includeArchived ? undefined : ne(tasks.status, 'archived'),
    filter.assignee === undefined ? undefined : eq(tasks.assignee, filter.assignee),
    filter.tenant === undefined ? undefined : eq(tasks.tenant, filter.tenant),
  ];
  const query = ctx.db
    .select()
    .from(tasks)
    .where(and(...where))
    .orderBy(...CLAIM_ORDER);
  return filter.limit === undefined ? query : query.limit(filter.limit);
}

/** Gives the task to another worker (or none); a new assignee starts with a clean failure counter. */
export async function assignTask(ctx: RepoContext, id: string, rawAssignee: string | null): Promise<Task> {
  const assignee = rawAssignee === null ? null : parse(assigneeInput, rawAssignee, 'assignee');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['triage', 'todo', 'ready', 'blocked', 'done'], 'reassign');
    const reset = task.assignee !== assignee ? { consecutiveFailures: 0, lastFailureError: null } : {};
    const updated = await updateTask(tx, id, { assignee, ...reset });
    await appendEvent(tx, now, { taskId: id, kind: 'assigned', payload: { from: task.assignee, to: assignee } });
    return updated;
  });
}
