import { randomBytes } from 'node:crypto';
import { KanbanError } from '../errors';
import type { z } from 'zod';
import type { Task, TaskStatus } from './schema';
import { read, write, type RepoContext, type Tx } from './context';
import { PARENT_DONE } from './model';
import { appendEvent } from './events';
import { found } from './guards';
import {
  assigneeInput,
  createTaskInput,
  editTaskInput,
  listTasksInput,
  modelOverrideInput,
  parse,
  reasoningEffortInput,
  type CreateTaskInput,
  type EditTaskInput,
  type ListTasksFilter,
  type ModelOverride,
} from './input';
import { inheritSubscriptions } from './notify';

/** `t_` + 4 random bytes in hex, as the original program makes them. */
export function newTaskId(): string {
  return `t_${randomBytes(4).toString('hex')}`;
}

/**
 * Creates a task: `triage` if asked, `blocked` if asked (a sticky block, as the upstream's
 * `initial_status`), else `ready` when every parent is done, else `todo`. With an idempotency key,
 * creating twice returns the first non-archived task with that key. The parents' subscribers are
 * subscribed to the new task from its next event on.
 */
export async function createTask(ctx: RepoContext, raw: CreateTaskInput): Promise<Task> {
  const { parents, triage, initialStatus, ...input } = parse(createTaskInput, raw, 'task');
  const uniqueParents = [...new Set(parents)];
  return write(ctx, async (tx, now) => {
    const existing = input.idempotencyKey ? await tx.q.taskByIdempotencyKey(input.idempotencyKey) : undefined;
    if (existing) return existing;
    const known = uniqueParents.length ? await tx.q.taskStatuses(uniqueParents) : [];
    const missing = uniqueParents.filter((id) => !known.some((p) => p.id === id));
    if (missing.length)
      throw new KanbanError('INVALID_INPUT', `Invalid parents: no task ${missing.join(', ')} on this board`);
    // As the original: a parent that is not done (archived included) starts the task in todo.
    const waiting: TaskStatus = known.every((p) => PARENT_DONE.includes(p.status)) ? 'ready' : 'todo';
    const status: TaskStatus = triage ? 'triage' : (initialStatus ?? waiting);
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
      modelOverride: input.modelOverride || null,
      providerOverride: input.providerOverride || null,
      reasoningEffort: input.reasoningEffort ?? null,
    };
    // A random id can collide with a task's: the insert then writes nothing, and another id is drawn.
    let task: Task | undefined;
    while (!task) task = await tx.q.insertTask({ ...row, id: tx.newTaskId() });
    const { id } = task;
    if (uniqueParents.length) await tx.q.insertLinks(uniqueParents.map((parentId) => ({ parentId, childId: id })));
    const { assignee, tenant, modelOverride, providerOverride } = row;
    const created = {
      assignee,
      status,
      parents: uniqueParents,
      tenant,
      model_override: modelOverride,
      provider_override: providerOverride,
    };
    await appendEvent(tx, now, { taskId: id, kind: 'created', payload: created });
    if (status === 'blocked') {
      const actor = row.createdBy ?? 'user';
      await appendEvent(tx, now, { taskId: id, kind: 'blocked', payload: { reason: 'initial_status', status, actor } });
    }
    await inheritSubscriptions(tx, now, id, uniqueParents);
    return task;
  });
}

export function findTask(ctx: RepoContext, id: string): Promise<Task | undefined> {
  return read(ctx, (tx) => tx.q.taskById(id));
}

export async function getTask(ctx: RepoContext, id: string): Promise<Task> {
  return found(await findTask(ctx, id), id);
}

/** Tasks by priority (highest first), then age. Archived tasks are hidden unless asked for. */
export async function listTasks(ctx: RepoContext, raw?: ListTasksFilter): Promise<Task[]> {
  const filter = parse(listTasksInput, raw, 'filter');
  const statuses = filter.status === undefined ? undefined : [...new Set([filter.status].flat())];
  return read(ctx, (tx) => tx.q.listTasks({ ...filter, statuses }));
}

/**
 * Gives the task to another worker (or none), in any status but while a worker holds it (upstream
 * `assign_task`); a new assignee starts with a clean failure counter.
 */
export async function assignTask(ctx: RepoContext, id: string, rawAssignee: string | null): Promise<Task> {
  const assignee = rawAssignee === null ? null : parse(assigneeInput, rawAssignee, 'assignee');
  return write(ctx, async (tx, now) => assignIn(tx, now, found(await tx.q.taskById(id), id), assignee));
}

/** `assignTask` inside the caller's transaction. */
export async function assignIn(tx: Tx, now: number, task: Task, assignee: string | null): Promise<Task> {
  if (task.status === 'running' && task.claimLock !== null) {
    throw new KanbanError(
      'INVALID_TRANSITION',
      `Cannot reassign task ${task.id}: a worker holds it (${task.claimLock}); wait for it to finish, or \`kanban reclaim ${task.id}\` first`,
    );
  }
  const reset = task.assignee !== assignee ? { consecutiveFailures: 0, lastFailureError: null } : {};
  await tx.q.updateTask(task.id, { assignee, ...reset });
  await appendEvent(tx, now, { taskId: task.id, kind: 'assigned', payload: { assignee, from: task.assignee } });
  return { ...task, assignee, ...reset };
}

/**
 * Sets the model a worker runs the task with, and optionally its provider (upstream
 * `set_model_override`); an empty or null model clears both. Any status but archived: it applies
 * from the next attempt.
 */
export async function setModelOverride(ctx: RepoContext, id: string, raw: ModelOverride): Promise<Task> {
  const input = parse(modelOverrideInput, raw, 'override');
  return write(ctx, async (tx, now) => setModelIn(tx, now, await overridable(tx, id), input));
}

async function setModelIn(tx: Tx, now: number, task: Task, input: z.output<typeof modelOverrideInput>): Promise<Task> {
  const modelOverride = input.modelOverride || null;
  const providerOverride = modelOverride ? input.providerOverride || null : null;
  await tx.q.updateTask(task.id, { modelOverride, providerOverride });
  const payload = { model: modelOverride, provider: providerOverride };
  await appendEvent(tx, now, { taskId: task.id, kind: 'model_override_set', payload });
  return { ...task, modelOverride, providerOverride };
}

/** Sets the task's reasoning effort (`none` turns thinking off; null inherits the profile's), any status but archived. */
export async function setReasoningEffort(ctx: RepoContext, id: string, raw: string | null): Promise<Task> {
  const effort = parse(reasoningEffortInput, raw, 'reasoningEffort');
  return write(ctx, async (tx, now) => setEffortIn(tx, now, await overridable(tx, id), effort));
}

async function setEffortIn(tx: Tx, now: number, task: Task, reasoningEffort: string | null): Promise<Task> {
  await tx.q.updateTask(task.id, { reasoningEffort });
  await appendEvent(tx, now, {
    taskId: task.id,
    kind: 'reasoning_effort_set',
    payload: { reasoning_effort: reasoningEffort },
  });
  return { ...task, reasoningEffort };
}

/** The task, unless it is archived: overrides apply to a next attempt, which an archived task has not. */
async function overridable(tx: Tx, id: string): Promise<Task> {
  const task = found(await tx.q.taskById(id), id);
  if (task.status !== 'archived') return task;
  throw new KanbanError('INVALID_TRANSITION', `Cannot change the model or effort of task ${id}: it is archived`);
}

/**
 * Edits a task in one commit: title, body and priority (an `edited` event names them), the
 * assignee (as `assignTask`), the model and provider (as `setModelOverride`) and the reasoning
 * effort (as `setReasoningEffort`). A refused field writes none of them.
 */
export async function editTask(ctx: RepoContext, id: string, raw: EditTaskInput): Promise<Task> {
  const { assignee, modelOverride, providerOverride, reasoningEffort, ...fields } = parse(editTaskInput, raw, 'edit');
  return write(ctx, async (tx, now) => {
    let task = found(await tx.q.taskById(id), id);
    const named = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key]) => key);
    if (named.length) {
      await tx.q.updateTask(id, fields);
      await appendEvent(tx, now, { taskId: id, kind: 'edited', payload: { fields: named } });
      task = found(await tx.q.taskById(id), id);
    }
    if (assignee !== undefined && assignee !== task.assignee) task = await assignIn(tx, now, task, assignee);
    if (modelOverride !== undefined) {
      task = await setModelIn(tx, now, await overridable(tx, id), { modelOverride, providerOverride });
    }
    if (reasoningEffort !== undefined) task = await setEffortIn(tx, now, await overridable(tx, id), reasoningEffort);
    return task;
  });
}

/** Ready tasks without an assignee: the ones a dispatcher that claims only assigned tasks leaves. */
export function countUnassignedReady(ctx: RepoContext): Promise<number> {
  return read(ctx, (tx) => tx.q.unassignedReadyCount());
}

/** Gives every ready task without an assignee to `assignee`, as the original's `kanban.default_assignee` does. */
export async function assignUnassigned(ctx: RepoContext, rawAssignee: string): Promise<string[]> {
  const assignee = parse(assigneeInput, rawAssignee, 'assignee');
  if ((await countUnassignedReady(ctx)) === 0) return [];
  return write(ctx, async (tx, now) => {
    const ids = await tx.q.assignUnassignedReady(assignee);
    for (const id of ids) {
      const payload = { assignee, source: 'kanban.default_assignee' };
      await appendEvent(tx, now, { taskId: id, kind: 'assigned', payload });
    }
    return ids;
  });
}
