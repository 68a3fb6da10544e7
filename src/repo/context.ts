import type { Mutex } from 'async-mutex';
import { and, asc, desc, eq, inArray, isNull, ne, notExists, sql } from 'drizzle-orm';
import type { LibSQLDatabase } from 'drizzle-orm/libsql';
import { classifyDatabaseError, KanbanError } from '../errors';
import { taskEvents, taskLinks, taskRuns, tasks, type NewTask, type RunOutcome, type RunStatus, type Task, type TaskStatus } from '../db/schema';

/**
 * The repository's database: the query builder without drizzle's relational layer, whose set-up
 * would cost every boot more than a millisecond (bench row 2). `Kanban.db` adds it for callers.
 */
export type Db = LibSQLDatabase;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type Reader = Db | Tx;

const prepareTaskById = (db: Db) => db.select().from(tasks).where(eq(tasks.id, sql.placeholder('id'))).prepare();

/**
 * Reads the repository runs often, prepared on first use: a prepared drizzle query skips building
 * its SQL on every call, which costs more than a lookup by primary key (bench row 7.2), and
 * preparing lazily keeps the cost out of a boot that never reads (bench row 2).
 * Only for reads outside a transaction: a prepared query runs on the client, not on a `tx`.
 */
export function preparedReads(db: Db) {
  let taskById: ReturnType<typeof prepareTaskById> | undefined;
  return {
    taskById: () => (taskById ??= prepareTaskById(db)),
  };
}

/** What every repository operation needs: the database, this process's lock on the file, a clock. */
export interface RepoContext {
  readonly db: Db;
  readonly reads: ReturnType<typeof preparedReads>;
  readonly lock: Mutex;
  readonly path: string;
  /** Epoch seconds. */
  readonly now: () => number;
  /** Written into `claim_lock`, `host:pid` style. */
  readonly claimer: string;
  readonly newTaskId: () => string;
}

/**
 * One write transaction (`BEGIN IMMEDIATE`), queued behind this process's other writers to the
 * same file. A refusal thrown inside rolls everything back, so a refused call writes nothing.
 */
export async function write<T>(ctx: RepoContext, fn: (tx: Tx, now: number) => Promise<T>): Promise<T> {
  try {
    return await ctx.lock.runExclusive(() => ctx.db.transaction((tx) => fn(tx, ctx.now())));
  } catch (error) {
    throw classifyDatabaseError(error, ctx.path);
  }
}

export async function findTaskIn(db: Reader, id: string): Promise<Task | undefined> {
  const [task] = await db.select().from(tasks).where(eq(tasks.id, id));
  return task;
}

export async function getTaskIn(db: Reader, id: string): Promise<Task> {
  return found(await findTaskIn(db, id), id);
}

export function found(task: Task | undefined, id: string): Task {
  if (!task) throw new KanbanError('NOT_FOUND', `No task ${id} on this board; \`kanban list\` shows the task ids`);
  return task;
}

/** Gets a task and refuses unless it is in one of `from`: the guard of every move. */
export async function taskInStatus(tx: Tx, id: string, from: readonly TaskStatus[], move: string): Promise<Task> {
  const task = await getTaskIn(tx, id);
  if (!from.includes(task.status)) {
    throw new KanbanError('INVALID_TRANSITION', `Cannot ${move} task ${id}: it is ${task.status}, and only a ${from.join(' or ')} task can be`);
  }
  return task;
}

/** Updates one task inside a transaction that has already read it, and returns the new row. */
export async function updateTask(tx: Tx, id: string, set: Partial<NewTask>): Promise<Task> {
  const [updated] = await tx.update(tasks).set(set).where(eq(tasks.id, id)).returning();
  if (!updated) throw new KanbanError('NOT_FOUND', `Task ${id} disappeared while it was being changed`);
  return updated;
}

/** Fencing: a caller holding an old attempt's run id must not act on a newer attempt. */
export function checkRun(task: Task, runId: number | undefined): void {
  if (runId !== undefined && task.currentRunId !== runId) {
    throw new KanbanError(
      'STALE_RUN',
      `Run ${runId} is no longer the current attempt of task ${task.id} (current: ${task.currentRunId ?? 'none'}); this worker's claim was released`,
    );
  }
}

export interface EventInput {
  readonly taskId: string;
  readonly kind: string;
  readonly runId?: number | null;
  readonly payload?: Record<string, unknown> | null;
}

export async function appendEvent(tx: Tx, now: number, event: EventInput): Promise<void> {
  await tx.insert(taskEvents).values({ taskId: event.taskId, kind: event.kind, runId: event.runId ?? null, payload: event.payload ?? null, createdAt: now });
}

/** Closes the task's open run, if any, with a status and outcome. */
export async function closeRun(
  tx: Tx,
  now: number,
  task: Task,
  close: { status: RunStatus; outcome: RunOutcome; summary?: string | null; error?: string | null },
): Promise<void> {
  if (task.currentRunId === null) return;
  await tx
    .update(taskRuns)
    .set({ status: close.status, outcome: close.outcome, endedAt: now, summary: close.summary ?? null, error: close.error ?? null })
    .where(and(eq(taskRuns.id, task.currentRunId), isNull(taskRuns.endedAt)));
}

/** Priority first, then age: the order of `listTasks` and of claims, which `idx_tasks_claim_order` serves. */
export const CLAIM_ORDER = [desc(tasks.priority), asc(tasks.createdAt), asc(tasks.id)];

/** The columns that describe a claim; cleared whenever a task stops running. */
export const NO_CLAIM = { claimLock: null, claimExpires: null, workerPid: null, currentRunId: null } as const;

/** True when `id` has a parent that is not done. */
export async function hasUnfinishedParent(db: Reader, id: string): Promise<boolean> {
  const [row] = await db
    .select({ parent: taskLinks.parentId })
    .from(taskLinks)
    .innerJoin(tasks, eq(tasks.id, taskLinks.parentId))
    .where(and(eq(taskLinks.childId, id), ne(tasks.status, 'done')))
    .limit(1);
  return row !== undefined;
}

/**
 * `todo` → `ready` for every task (of `ids`, when given) whose parents are all done, with a
 * `promoted` event each. Returns the promoted ids.
 */
export async function promoteEligible(tx: Tx, now: number, ids?: readonly string[]): Promise<string[]> {
  if (ids?.length === 0) return [];
  const promoted = await tx.update(tasks).set({ status: 'ready' }).where(promotable(tx, ids)).returning({ id: tasks.id });
  for (const { id } of promoted) await appendEvent(tx, now, { taskId: id, kind: 'promoted' });
  return promoted.map((p) => p.id);
}

/** `todo` tasks (of `ids`, when given) that have no unfinished parent. */
function promotable(db: Reader, ids?: readonly string[]) {
  const unfinishedParent = db
    .select({ one: sql`1` })
    .from(taskLinks)
    .innerJoin(sql`${tasks} AS parent`, sql`parent.id = ${taskLinks.parentId}`)
    .where(and(sql`${taskLinks.childId} = ${tasks.id}`, sql`parent.status <> 'done'`));
  return and(eq(tasks.status, 'todo'), notExists(unfinishedParent), ids ? inArray(tasks.id, [...ids]) : undefined);
}

export function eligibleForPromotion(db: Reader): Promise<{ id: string }[]> {
  return db.select({ id: tasks.id }).from(tasks).where(promotable(db)).limit(1);
}

export async function childrenOf(db: Reader, id: string): Promise<string[]> {
  const rows = await db.select({ id: taskLinks.childId }).from(taskLinks).where(eq(taskLinks.parentId, id));
  return rows.map((r) => r.id);
}
