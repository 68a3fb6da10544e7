/**
 * Every statement the repository runs often, built from the Drizzle schema and prepared once per
 * connection on first use. A prepared statement runs on the connection, so inside a write
 * transaction it is part of it. Each is wrapped in a function typed from the schema, because a
 * prepared query's placeholders are not.
 */
import { and, asc, desc, eq, inArray, isNotNull, isNull, lt, ne, not, or, sql, type SQL } from 'drizzle-orm';
import type { Engine, SyncDb } from '../db/engine';
import {
  taskEvents,
  taskLinks,
  taskRuns,
  tasks,
  type NewTask,
  type RunOutcome,
  type RunStatus,
  type Task,
  type TaskStatus,
} from '../db/schema';
import { unfinishedParent, unfinishedParents } from './dependencies';
import { blockLifts, budgetLeft, claimGatesOpen, resumeStatus, retryAllowed } from './gates';
import type { Lane, RetryBackoff } from './model';

export type { RetryBackoff };

const ph = sql.placeholder;
/** A placeholder where drizzle's `set()` takes only values or SQL. */
const param = (name: string): SQL => sql`${ph(name)}`;

/** Priority first, then age: the order of `listTasks` and of claims, which `idx_tasks_claim_order` serves. */
export const CLAIM_ORDER = [sql`${tasks.priority} DESC`, asc(tasks.createdAt), asc(tasks.id)];

function once<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}

function memoBy<K, T>(keyOf: (shape: K) => string, build: (shape: K) => T): (shape: K) => T {
  const built = new Map<string, T>();
  return (shape) => {
    const key = keyOf(shape);
    let value = built.get(key);
    if (value === undefined) {
      value = build(shape);
      built.set(key, value);
    }
    return value;
  };
}

export interface CandidateFilter {
  readonly assignee?: string | undefined;
  readonly tenant?: string | undefined;
  readonly assignedOnly?: boolean | undefined;
}

export interface ListFilter {
  readonly statuses?: readonly TaskStatus[] | undefined;
  readonly includeArchived: boolean;
  readonly assignee?: string | undefined;
  readonly tenant?: string | undefined;
  readonly limit?: number | undefined;
}

/** The columns written when an attempt ends or a task changes status; everything else stays. */
export type TaskRelease = Pick<
  Task,
  | 'id'
  | 'status'
  | 'completedAt'
  | 'result'
  | 'consecutiveFailures'
  | 'lastFailureError'
  | 'blockKind'
  | 'blockRecurrences'
  | 'assignee'
>;

/** A task promoted, and the lane it landed in. */
export interface Promotion {
  readonly id: string;
  readonly status: Lane;
}

export type RunEnd = {
  readonly runId: number;
  readonly status: RunStatus;
  readonly outcome: RunOutcome;
  readonly endedAt: number;
  readonly summary: string | null;
  readonly error: string | null;
  /** Kept when null: a worker's own metadata is not wiped by the move that ends its run. */
  readonly metadata?: Record<string, unknown> | null;
};

export type NewRun = {
  readonly taskId: string;
  readonly profile: string | null;
  readonly stepKey: string | null;
  readonly claimLock: string;
  readonly claimExpires: number;
  readonly maxRuntimeSeconds: number | null;
  readonly startedAt: number;
};

export type NewEvent = {
  readonly taskId: string;
  readonly kind: string;
  readonly runId: number | null;
  readonly payload: Record<string, unknown> | null;
  readonly createdAt: number;
};

/** The columns `createTask` writes; the rest take the schema's defaults. */
export type TaskInsert = Required<
  Pick<
    NewTask,
    | 'id'
    | 'title'
    | 'body'
    | 'assignee'
    | 'status'
    | 'priority'
    | 'createdBy'
    | 'createdAt'
    | 'workspaceKind'
    | 'workspacePath'
    | 'tenant'
    | 'idempotencyKey'
    | 'maxRuntimeSeconds'
    | 'skills'
    | 'maxRetries'
    | 'modelOverride'
    | 'providerOverride'
    | 'reasoningEffort'
  >
>;

export type Statements = ReturnType<typeof statements>;

const byEngine = new WeakMap<Engine, Statements>();

/** The engine's statements: one set per connection, however many handles share it. */
export function statementsOf(engine: Engine): Statements {
  let q = byEngine.get(engine);
  if (!q) {
    q = statements(engine.db);
    byEngine.set(engine, q);
  }
  return q;
}

function statements(db: SyncDb) {
  const byId = once(() =>
    db
      .select()
      .from(tasks)
      .where(eq(tasks.id, ph('id')))
      .prepare(),
  );
  const byKey = once(() =>
    db
      .select()
      .from(tasks)
      .where(and(eq(tasks.idempotencyKey, ph('key')), ne(tasks.status, 'archived')))
      .orderBy(asc(tasks.createdAt))
      .limit(1)
      .prepare(),
  );
  const insertTask = once(() =>
    db
      .insert(tasks)
      .values({
        id: ph('id'),
        title: ph('title'),
        body: ph('body'),
        assignee: ph('assignee'),
        status: ph('status'),
        priority: ph('priority'),
        createdBy: ph('createdBy'),
        createdAt: ph('createdAt'),
        workspaceKind: ph('workspaceKind'),
        workspacePath: ph('workspacePath'),
        tenant: ph('tenant'),
        idempotencyKey: ph('idempotencyKey'),
        maxRuntimeSeconds: ph('maxRuntimeSeconds'),
        skills: ph('skills'),
        maxRetries: ph('maxRetries'),
        modelOverride: ph('modelOverride'),
        providerOverride: ph('providerOverride'),
        reasoningEffort: ph('reasoningEffort'),
      })
      .onConflictDoNothing({ target: tasks.id })
      .returning()
      .prepare(),
  );
  const candidate = memoBy(
    (f: CandidateFilter) => `${f.assignee !== undefined}${f.tenant !== undefined}${f.assignedOnly === true}`,
    (f: CandidateFilter) =>
      db
        .select({ task: tasks, waits: sql<number>`${unfinishedParent(db, tasks.id)}` })
        .from(tasks)
        .where(
          and(
            eq(tasks.status, 'ready'),
            isNull(tasks.claimLock),
            retryAllowed(db),
            claimGatesOpen(db),
            f.assignee === undefined ? undefined : eq(tasks.assignee, ph('assignee')),
            f.tenant === undefined ? undefined : eq(tasks.tenant, ph('tenant')),
            f.assignedOnly ? isNotNull(tasks.assignee) : undefined,
          ),
        )
        .orderBy(...CLAIM_ORDER)
        .limit(1)
        .prepare(),
  );
  const waits = once(() => unfinishedParents(db, ph('id')).limit(1).prepare());
  const gatesOpen = once(() =>
    db
      .select({ id: tasks.id })
      .from(tasks)
      .where(and(eq(tasks.id, ph('id')), claimGatesOpen(db)))
      .prepare(),
  );
  // The review pass: review tasks in claim order, the budget gate only; parents are checked per candidate.
  const reviewCandidate = once(() =>
    db
      .select({ task: tasks, waits: sql<number>`${unfinishedParent(db, tasks.id)}` })
      .from(tasks)
      .where(and(eq(tasks.status, 'review'), isNull(tasks.claimLock), budgetLeft()))
      .orderBy(...CLAIM_ORDER)
      .limit(1)
      .prepare(),
  );
  const demote = once(() =>
    db
      .update(tasks)
      .set({ status: 'todo' })
      .where(and(eq(tasks.id, ph('id')), eq(tasks.status, ph('from')), isNull(tasks.claimLock)))
      .prepare(),
  );
  const setStatus = once(() =>
    db
      .update(tasks)
      .set({ status: param('status') })
      .where(eq(tasks.id, ph('id')))
      .prepare(),
  );
  const newestPayload = once(() =>
    db
      .select({ payload: taskEvents.payload })
      .from(taskEvents)
      .where(and(eq(taskEvents.taskId, ph('taskId')), eq(taskEvents.kind, ph('kind'))))
      .orderBy(desc(taskEvents.id))
      .limit(1)
      .prepare(),
  );
  const claimedEvent = once(() =>
    db
      .select({ payload: taskEvents.payload })
      .from(taskEvents)
      .where(and(eq(taskEvents.runId, ph('runId')), eq(taskEvents.kind, 'claimed')))
      .limit(1)
      .prepare(),
  );
  const resumeLane = once(() =>
    db
      .select({ lane: resumeStatus(db) })
      .from(tasks)
      .where(eq(tasks.id, ph('id')))
      .prepare(),
  );
  const insertRun = once(() =>
    db
      .insert(taskRuns)
      .values({
        taskId: ph('taskId'),
        profile: ph('profile'),
        stepKey: ph('stepKey'),
        status: 'running',
        claimLock: ph('claimLock'),
        claimExpires: ph('claimExpires'),
        maxRuntimeSeconds: ph('maxRuntimeSeconds'),
        lastHeartbeatAt: ph('startedAt'),
        startedAt: ph('startedAt'),
      })
      .prepare(),
  );
  const claim = once(() =>
    db
      .update(tasks)
      .set({
        status: 'running',
        claimLock: param('claimer'),
        claimExpires: param('expires'),
        startedAt: sql`COALESCE(${tasks.startedAt}, ${ph('now')})`,
        lastHeartbeatAt: param('now'),
        currentRunId: param('runId'),
      })
      .where(and(eq(tasks.id, ph('id')), eq(tasks.status, ph('from')), isNull(tasks.claimLock)))
      .prepare(),
  );
  const release = once(() =>
    db
      .update(tasks)
      .set({
        status: param('status'),
        completedAt: param('completedAt'),
        result: param('result'),
        consecutiveFailures: param('consecutiveFailures'),
        lastFailureError: param('lastFailureError'),
        blockKind: param('blockKind'),
        blockRecurrences: param('blockRecurrences'),
        assignee: param('assignee'),
        claimLock: null,
        claimExpires: null,
        workerPid: null,
        currentRunId: null,
      })
      .where(eq(tasks.id, ph('id')))
      .prepare(),
  );
  const closeRun = once(() =>
    db
      .update(taskRuns)
      .set({
        status: param('status'),
        outcome: param('outcome'),
        endedAt: param('endedAt'),
        summary: param('summary'),
        error: param('error'),
        metadata: sql`COALESCE(${ph('metadata')}, ${taskRuns.metadata})`,
      })
      .where(and(eq(taskRuns.id, ph('runId')), isNull(taskRuns.endedAt)))
      .prepare(),
  );
  const insertEvent = once(() =>
    db
      .insert(taskEvents)
      .values({
        taskId: ph('taskId'),
        kind: ph('kind'),
        runId: ph('runId'),
        payload: ph('payload'),
        createdAt: ph('createdAt'),
      })
      .prepare(),
  );
  const promotable = (only: SQL | undefined) =>
    and(or(eq(tasks.status, 'todo'), blockLifts(db)), only, not(unfinishedParent(db, tasks.id)));
  // A promoted task resumes the lane it left: review when its newest move came from review.
  const promoted = { status: sql<Lane>`${resumeStatus(db)}` };
  const lane = { id: tasks.id, status: sql<Lane>`${tasks.status}` };
  const children = () =>
    db
      .select({ id: taskLinks.childId })
      .from(taskLinks)
      .where(eq(taskLinks.parentId, ph('parent')));
  const promoteChildren = once(() =>
    db
      .update(tasks)
      .set(promoted)
      .where(promotable(inArray(tasks.id, children())))
      .returning(lane)
      .prepare(),
  );
  const promoteOne = once(() =>
    db
      .update(tasks)
      .set(promoted)
      .where(promotable(eq(tasks.id, ph('id'))))
      .returning(lane)
      .prepare(),
  );
  const promoteAll = once(() => db.update(tasks).set(promoted).where(promotable(undefined)).returning(lane).prepare());
  const anyPromotable = once(() =>
    db.select({ id: tasks.id }).from(tasks).where(promotable(undefined)).limit(1).prepare(),
  );
  const renewTask = once(() =>
    db
      .update(tasks)
      .set({ claimExpires: param('expires'), lastHeartbeatAt: param('now') })
      .where(eq(tasks.id, ph('id')))
      .prepare(),
  );
  const renewRun = once(() =>
    db
      .update(taskRuns)
      .set({ claimExpires: param('expires'), lastHeartbeatAt: param('now') })
      .where(eq(taskRuns.id, ph('runId')))
      .prepare(),
  );
  const expired = once(() =>
    db
      .select()
      .from(tasks)
      .where(and(eq(tasks.status, 'running'), lt(tasks.claimExpires, ph('now'))))
      .prepare(),
  );
  const list = memoBy(
    (f: ListFilter) =>
      `${f.statuses?.length ?? (f.includeArchived ? 'all' : 'live')}${f.assignee !== undefined}${f.tenant !== undefined}`,
    (f: ListFilter) =>
      db
        .select()
        .from(tasks)
        .where(
          and(
            f.statuses
              ? inArray(
                  tasks.status,
                  f.statuses.map((_, i) => ph(`s${i}`)),
                )
              : f.includeArchived
                ? undefined
                : ne(tasks.status, 'archived'),
            f.assignee === undefined ? undefined : eq(tasks.assignee, ph('assignee')),
            f.tenant === undefined ? undefined : eq(tasks.tenant, ph('tenant')),
          ),
        )
        .orderBy(...CLAIM_ORDER)
        .limit(ph('limit'))
        .prepare(),
  );

  return {
    taskById: (id: string): Task | undefined => byId().get({ id }),
    taskByIdempotencyKey: (key: string): Task | undefined => byKey().get({ key }),
    /** Inserts a task unless its id is taken; undefined then. */
    insertTask: (row: TaskInsert): Task | undefined => insertTask().get(row),
    /** The next ready, unclaimed task in claim order whose retry wait is over, and whether it waits for an unfinished parent. */
    candidate: (f: CandidateFilter, now: number, backoff: RetryBackoff): { task: Task; waits: boolean } | undefined => {
      const row = candidate(f).get({
        assignee: f.assignee,
        tenant: f.tenant,
        now,
        backoffBase: backoff.baseSeconds,
        backoffMax: backoff.maxSeconds,
      });
      return row && { task: row.task, waits: Boolean(row.waits) };
    },
    /** A parent that is neither done nor archived, if any: the test of claims, promotion, completion and unblocking. */
    unfinishedParent: (id: string): string | undefined => waits().get({ id })?.id,
    /** Whether the original's claim gates (plan audit, budget) let the task be claimed. */
    claimGatesOpen: (id: string): boolean => gatesOpen().get({ id }) !== undefined,
    /** The next unclaimed review task whose budget is not spent, and whether it waits for an unfinished parent. */
    reviewCandidate: (): { task: Task; waits: boolean } | undefined => {
      const row = reviewCandidate().get();
      return row && { task: row.task, waits: Boolean(row.waits) };
    },
    /** An unclaimed task in `from` drops to todo; false when it was not. */
    demoteToTodo: (id: string, from: TaskStatus): boolean => demote().run({ id, from }).changes === 1,
    /** Sets a task's status and nothing else, for moves that hold no claim. */
    setStatus: (values: { id: string; status: TaskStatus }): void => void setStatus().run(values),
    /** The payload of the task's newest event of `kind`; undefined when it has none (null for an empty one). */
    newestPayload: (taskId: string, kind: string): Record<string, unknown> | null | undefined =>
      newestPayload().get({ taskId, kind })?.payload,
    /** The lane a run was claimed from (upstream `_retry_status_for_run`): review for a reviewer's run. */
    claimedFrom: (runId: number | null): Lane =>
      runId !== null && claimedEvent().get({ runId })?.payload?.source_status === 'review' ? 'review' : 'ready',
    /** The lane the task resumes when promoted or unblocked (see `resumeStatus`). */
    resumeLane: (id: string): Lane => resumeLane().get({ id })?.lane ?? 'ready',
    /** Inserts a running run and returns its id. */
    insertRun: (run: NewRun): number => Number(insertRun().run(run).lastInsertRowid),
    /** The compare-and-set of a claim: true when the task was still ready and unclaimed. */
    claim: (values: {
      id: string;
      from: TaskStatus;
      claimer: string;
      expires: number;
      now: number;
      runId: number;
    }): boolean => claim().run(values).changes === 1,
    release: (row: TaskRelease): void => void release().run(row),
    closeRun: (end: RunEnd): void =>
      void closeRun().run({ ...end, metadata: end.metadata ? JSON.stringify(end.metadata) : null }),
    insertEvent: (event: NewEvent): void => void insertEvent().run(event),
    promoteChildren: (parent: string): Promotion[] => promoteChildren().all({ parent }),
    promoteOne: (id: string): Promotion[] => promoteOne().all({ id }),
    promoteAll: (): Promotion[] => promoteAll().all(),
    anyPromotable: (): boolean => anyPromotable().get() !== undefined,
    renew: (values: { id: string; runId: number | null; expires: number; now: number }): void => {
      renewTask().run(values);
      if (values.runId !== null) renewRun().run(values);
    },
    expiredClaims: (now: number): Task[] => expired().all({ now }),
    listTasks: (f: ListFilter): Task[] =>
      list(f).all({
        ...Object.fromEntries((f.statuses ?? []).map((s, i) => [`s${i}`, s])),
        assignee: f.assignee,
        tenant: f.tenant,
        limit: f.limit ?? -1,
      }),
  };
}
