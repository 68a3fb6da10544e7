/**
 * What the two engines' statements share: drizzle's query builders are the same on SQLite and
 * PostgreSQL, but typed per dialect, so each engine builds its own statements; the parts that
 * do not depend on the dialect (the columns a statement writes, its placeholders, its filters) are
 * written here once, over either schema's tables.
 */
import { type Column, and, eq, isNotNull, isNull, lt, type Placeholder, type SQL, sql, type Table } from 'drizzle-orm';
import type { RetryBackoff } from '../core/model';
import type { CandidateFilter, OpenClaim, RunEnd, SubscriberKey, TaskRelease } from '../core/port';

export const ph = sql.placeholder;
/** A placeholder where drizzle's `set()` takes only values or SQL. */
export const param = (name: string): SQL => sql`${ph(name)}`;

/** A statement built on first use, then reused. */
export function once<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}

/** One statement per shape of its filter (`key` names the shape), each built on first use. */
export function memoBy<K, T>(keyOf: (shape: K) => string, build: (shape: K, key: string) => T): (shape: K) => T {
  const built = new Map<string, T>();
  return (shape) => {
    const key = keyOf(shape);
    let value = built.get(key);
    if (value === undefined) {
      value = build(shape, key);
      built.set(key, value);
    }
    return value;
  };
}

type Columns<K extends string> = Record<K, Column>;

/** The columns the shared shapes name, of either engine's schema. */
export interface ShapeTables {
  readonly tasks: Columns<'id' | 'status' | 'claimLock' | 'claimExpires' | 'startedAt' | 'assignee' | 'tenant'>;
  readonly taskRuns: Columns<'id' | 'endedAt' | 'metadata'>;
  readonly taskEvents: Table & Columns<'id' | 'taskId' | 'kind' | 'runId'>;
  readonly kanbanNotifySubs: Columns<'taskId' | 'platform' | 'chatId' | 'threadId'>;
}

/** Every column `createTask` writes, as placeholders named after the columns. */
export const TASK_INSERT = {
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
};

/** A claim's run: running from `startedAt` under the claimer's lease. */
export const RUN_INSERT = {
  taskId: ph('taskId'),
  profile: ph('profile'),
  stepKey: ph('stepKey'),
  status: 'running',
  claimLock: ph('claimLock'),
  claimExpires: ph('claimExpires'),
  maxRuntimeSeconds: ph('maxRuntimeSeconds'),
  lastHeartbeatAt: ph('startedAt'),
  startedAt: ph('startedAt'),
} as const;

export const EVENT_INSERT = {
  taskId: ph('taskId'),
  kind: ph('kind'),
  runId: ph('runId'),
  payload: ph('payload'),
  createdAt: ph('createdAt'),
};

/** An attempt's end on its task: the move's columns, and the claim cleared. */
export const RELEASE_SET = {
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
};

/** The values of `closeRunSet` and `openRun` for a run's end; its metadata goes as JSON text, since COALESCE takes it raw. */
export function runEnd({ status, metadata, ...end }: RunEnd) {
  return { ...end, runStatus: status, metadata: metadata ? JSON.stringify(metadata) : null };
}

/** The values of a claim's compare-and-set (`unclaimedIn` and `claimSet` but its run id), from what `openClaim` is given. */
export function claimValues({ run, from }: OpenClaim) {
  return { id: run.taskId, from, claimer: run.claimLock, expires: run.claimExpires, now: run.startedAt };
}

/** The values of `RELEASE_SET` and its task's id. */
export function released(task: TaskRelease) {
  const { id, status, completedAt, result, consecutiveFailures, lastFailureError, blockKind, blockRecurrences } = task;
  return {
    id,
    status,
    completedAt,
    result,
    consecutiveFailures,
    lastFailureError,
    blockKind,
    blockRecurrences,
    assignee: task.assignee,
  };
}

/** The values of a candidates statement: the claimer's filter, the clock and the retry wait. */
export function candidateValues(f: CandidateFilter, now: number, backoff: RetryBackoff) {
  return {
    assignee: f.assignee,
    tenant: f.tenant,
    now,
    backoffBase: backoff.baseSeconds,
    backoffMax: backoff.maxSeconds,
  };
}

/** A lease extended, on the task and on its run. */
export const RENEW_SET = { claimExpires: param('expires'), lastHeartbeatAt: param('now') };

/** The shapes that name columns, over one engine's tables. */
export function shapes(t: ShapeTables) {
  return {
    /** What a claimer asks for besides a claimable task: its worker, its tenant, or any assigned task. */
    wanted: (f: CandidateFilter) =>
      and(
        f.assignee === undefined ? undefined : eq(t.tasks.assignee, ph('assignee')),
        f.tenant === undefined ? undefined : eq(t.tasks.tenant, ph('tenant')),
        f.assignedOnly ? isNotNull(t.tasks.assignee) : undefined,
      ),
    /** The compare-and-set of a claim and of a demotion: the task `id`, still in `from` and unclaimed. */
    unclaimedIn: and(eq(t.tasks.id, ph('id')), eq(t.tasks.status, ph('from')), isNull(t.tasks.claimLock)),
    claimSet: {
      status: 'running',
      claimLock: param('claimer'),
      claimExpires: param('expires'),
      startedAt: sql`COALESCE(${t.tasks.startedAt}, ${ph('now')})`,
      lastHeartbeatAt: param('now'),
      currentRunId: param('runId'),
    } as const,
    /** A run's end (its status is `runStatus`, apart from its task's); a worker's own metadata is kept when the move gives none. */
    closeRunSet: {
      status: param('runStatus'),
      outcome: param('outcome'),
      endedAt: param('endedAt'),
      summary: param('summary'),
      error: param('error'),
      metadata: sql`COALESCE(${ph('metadata')}, ${t.taskRuns.metadata})`,
    },
    openRun: and(eq(t.taskRuns.id, ph('runId')), isNull(t.taskRuns.endedAt)),
    /** Running tasks whose lease ended before `now`. */
    expired: and(eq(t.tasks.status, 'running'), lt(t.tasks.claimExpires, ph('now'))),
    /** The task's events of `kind`. */
    eventsOfKind: and(eq(t.taskEvents.taskId, ph('taskId')), eq(t.taskEvents.kind, ph('kind'))),
    /** The `claimed` event of run `runId`. */
    claimedEvent: and(eq(t.taskEvents.runId, ph('runId')), eq(t.taskEvents.kind, 'claimed')),
    /** One subscriber, given by values or by placeholders. */
    subscriber: (key: Record<keyof SubscriberKey, string | Placeholder>) =>
      and(
        eq(t.kanbanNotifySubs.taskId, key.taskId),
        eq(t.kanbanNotifySubs.platform, key.platform),
        eq(t.kanbanNotifySubs.chatId, key.chatId),
        eq(t.kanbanNotifySubs.threadId, key.threadId),
      ),
    /** A subscription cursor caught up to the task's newest event. */
    caughtUp: (taskId: string) =>
      sql`(SELECT COALESCE(MAX(${t.taskEvents.id}), 0) FROM ${t.taskEvents} WHERE ${t.taskEvents.taskId} = ${taskId})`,
  };
}
