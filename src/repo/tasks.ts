import { randomBytes } from 'node:crypto';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { KanbanError } from '../errors';
import { taskLinks, tasks, TASK_STATUSES, type Task, type TaskStatus } from '../db/schema';
import { read, write, type RepoContext } from './context';
import { PARENT_DONE } from './dependencies';
import { appendEvent } from './events';
import { found, taskInStatus } from './guards';
import {
  assigneeInput,
  createTaskInput,
  editTaskInput,
  listTasksInput,
  parse,
  type CreateTaskInput,
  type EditTaskInput,
  type ListTasksFilter,
} from './input';

const ASSIGNABLE = TASK_STATUSES.filter((s) => s !== 'running' && s !== 'archived');

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
  const uniqueParents = [...new Set(parents)];
  return write(ctx, (now) => {
    const existing = input.idempotencyKey ? ctx.q.taskByIdempotencyKey(input.idempotencyKey) : undefined;
    if (existing) return existing;
    const known = uniqueParents.length
      ? ctx.db.select({ id: tasks.id, status: tasks.status }).from(tasks).where(inArray(tasks.id, uniqueParents)).all()
      : [];
    const missing = uniqueParents.filter((id) => !known.some((p) => p.id === id));
    if (missing.length)
      throw new KanbanError('INVALID_INPUT', `Invalid parents: no task ${missing.join(', ')} on this board`);
    // As the newest original: a parent that is not done (archived included) starts the task in todo.
    const status: TaskStatus = triage
      ? 'triage'
      : known.every((p) => PARENT_DONE.includes(p.status))
        ? 'ready'
        : 'todo';
    const row = {
      title: input.title,
      body: input.body ?? null,
      assignee: input.assignee ?? null,
      status,
      priority: input.priority ?? 0,
      createdBy: input.createdBy ?? null,
      createdAt: now,
      workspaceKind: input.workspaceKind ?? 'scratch',
      workspacePath: input.workspacePath ?? null,
      tenant: input.tenant ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      maxRuntimeSeconds: input.maxRuntimeSeconds ?? null,
      skills: input.skills ?? null,
      maxRetries: input.maxRetries ?? null,
    };
    // A random id can collide with a task's: the insert then writes nothing, and another id is drawn.
    let task: Task | undefined;
    while (!task) task = ctx.q.insertTask({ ...row, id: ctx.newTaskId() });
    const { id } = task;
    if (uniqueParents.length)
      ctx.db
        .insert(taskLinks)
        .values(uniqueParents.map((parentId) => ({ parentId, childId: id })))
        .run();
    appendEvent(ctx, now, {
      taskId: id,
      kind: 'created',
      payload: { assignee: row.assignee, status, parents: uniqueParents, tenant: row.tenant },
    });
    return task;
  });
}

export function findTask(ctx: RepoContext, id: string): Promise<Task | undefined> {
  return read(ctx, () => ctx.q.taskById(id));
}

export async function getTask(ctx: RepoContext, id: string): Promise<Task> {
  return found(await findTask(ctx, id), id);
}

/** Tasks by priority (highest first), then age. Archived tasks are hidden unless asked for. */
export async function listTasks(ctx: RepoContext, raw?: ListTasksFilter): Promise<Task[]> {
  const filter = parse(listTasksInput, raw, 'filter');
  const statuses = filter.status === undefined ? undefined : [...new Set([filter.status].flat())];
  return read(ctx, () => ctx.q.listTasks({ ...filter, statuses }));
}

/** Gives the task to another worker (or none); a new assignee starts with a clean failure counter. */
export async function assignTask(ctx: RepoContext, id: string, rawAssignee: string | null): Promise<Task> {
  const assignee = rawAssignee === null ? null : parse(assigneeInput, rawAssignee, 'assignee');
  return write(ctx, (now) => {
    const task = taskInStatus(ctx, id, ASSIGNABLE, 'reassign');
    const reset = task.assignee !== assignee ? { consecutiveFailures: 0, lastFailureError: null } : {};
    const updated = { ...task, assignee, ...reset };
    ctx.db
      .update(tasks)
      .set({ assignee, ...reset })
      .where(eq(tasks.id, id))
      .run();
    appendEvent(ctx, now, { taskId: id, kind: 'assigned', payload: { assignee, from: task.assignee } });
    return updated;
  });
}

/** Changes a task's title, body or priority (any status); an `edited` event names the fields. */
export async function editTask(ctx: RepoContext, id: string, raw: EditTaskInput): Promise<Task> {
  const edit = parse(editTaskInput, raw, 'edit');
  return write(ctx, (now) => {
    const task = found(ctx.q.taskById(id), id);
    ctx.db.update(tasks).set(edit).where(eq(tasks.id, id)).run();
    appendEvent(ctx, now, { taskId: id, kind: 'edited', payload: { fields: Object.keys(edit) } });
    return { ...task, ...edit };
  });
}

/** Gives every ready task without an assignee to `assignee`, as the original's `kanban.default_assignee` does. */
export async function assignUnassigned(ctx: RepoContext, rawAssignee: string): Promise<string[]> {
  const assignee = parse(assigneeInput, rawAssignee, 'assignee');
  const unassigned = and(eq(tasks.status, 'ready'), isNull(tasks.assignee));
  if (!(await read(ctx, () => ctx.db.select({ id: tasks.id }).from(tasks).where(unassigned).limit(1).get()))) return [];
  return write(ctx, (now) =>
    ctx.db
      .update(tasks)
      .set({ assignee })
      .where(unassigned)
      .returning({ id: tasks.id })
      .all()
      .map(({ id }) => {
        appendEvent(ctx, now, {
          taskId: id,
          kind: 'assigned',
          payload: { assignee, source: 'kanban.default_assignee' },
        });
        return id;
      }),
  );
}
