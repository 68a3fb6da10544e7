import { and, eq, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import { taskRuns, tasks, type Task } from '../db/schema';
import {
  appendEvent,
  CLAIM_ORDER,
  checkRun,
  closeRun,
  hasUnfinishedParent,
  NO_CLAIM,
  taskInStatus,
  write,
  type RepoContext,
  type Tx,
} from './context';
import { claimInput, claimNextInput, heartbeatInput, parse, type ClaimNextOptions, type ClaimOptions, type HeartbeatOptions } from './input';

/** Lease of a claim before the dispatcher may hand the task to someone else: 15 minutes. */
export const DEFAULT_CLAIM_TTL_SECONDS = 900;

export interface Claim {
  readonly task: Task;
  readonly runId: number;
}

interface ClaimParams {
  readonly claimer: string;
  readonly ttlSeconds: number;
}

/**
 * `ready` → `running` as one compare-and-set: the UPDATE matches only a task that is still ready
 * and unclaimed, so of any number of claimers exactly one gets the row back. A task whose parents
 * are not all done goes back to `todo` instead (`claim_rejected`).
 */
async function claimInTx(tx: Tx, now: number, id: string, params: ClaimParams): Promise<Claim | undefined> {
  if (await hasUnfinishedParent(tx, id)) {
    await tx.update(tasks).set({ status: 'todo' }).where(and(eq(tasks.id, id), eq(tasks.status, 'ready')));
    await appendEvent(tx, now, { taskId: id, kind: 'claim_rejected', payload: { reason: 'a parent is not done' } });
    return undefined;
  }
  const claimExpires = now + params.ttlSeconds;
  const [claimed] = await tx
    .update(tasks)
    .set({ status: 'running', claimLock: params.claimer, claimExpires, startedAt: sql`COALESCE(${tasks.startedAt}, ${now})`, lastHeartbeatAt: now })
    .where(and(eq(tasks.id, id), eq(tasks.status, 'ready'), isNull(tasks.claimLock)))
    .returning();
  if (!claimed) return undefined;
  const [run] = await tx
    .insert(taskRuns)
    .values({
      taskId: id,
      profile: claimed.assignee,
      status: 'running',
      claimLock: params.claimer,
      claimExpires,
      maxRuntimeSeconds: claimed.maxRuntimeSeconds,
      lastHeartbeatAt: now,
      startedAt: now,
    })
    .returning({ id: taskRuns.id });
  const runId = run?.id ?? 0;
  await tx.update(tasks).set({ currentRunId: runId }).where(eq(tasks.id, id));
  await appendEvent(tx, now, { taskId: id, kind: 'claimed', runId, payload: { claimer: params.claimer, expires: claimExpires } });
  return { task: { ...claimed, currentRunId: runId }, runId };
}

function claimParams(ctx: RepoContext, options: { claimer?: string | undefined; ttlSeconds?: number | undefined }): ClaimParams {
  return { claimer: options.claimer ?? ctx.claimer, ttlSeconds: options.ttlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS };
}

/** Claims one task; `undefined` when it was not ready (or someone else got it first). */
export async function claimTask(ctx: RepoContext, id: string, raw?: ClaimOptions): Promise<Claim | undefined> {
  const params = claimParams(ctx, parse(claimInput, raw, 'options'));
  return write(ctx, async (tx, now) => {
    const [task] = await tx.select({ status: tasks.status }).from(tasks).where(eq(tasks.id, id));
    return task?.status === 'ready' ? claimInTx(tx, now, id, params) : undefined;
  });
}

/** Claims the highest-priority ready task (optionally one worker's); `undefined` when there is none. */
export async function claimNextTask(ctx: RepoContext, raw?: ClaimNextOptions): Promise<Claim | undefined> {
  const options = parse(claimNextInput, raw, 'options');
  const params = claimParams(ctx, options);
  return write(ctx, async (tx, now) => {
    for (;;) {
      // Only the id: the claim's UPDATE … RETURNING reads the row, and building a 27-column select
      // costs more than the query itself (bench row 9).
      const [candidate] = await tx
        .select({ id: tasks.id })
        .from(tasks)
        .where(
          and(
            eq(tasks.status, 'ready'),
            isNull(tasks.claimLock),
            options.assignee === undefined ? undefined : eq(tasks.assignee, options.assignee),
            options.tenant === undefined ? undefined : eq(tasks.tenant, options.tenant),
            options.assignedOnly ? isNotNull(tasks.assignee) : undefined,
          ),
        )
        .orderBy(...CLAIM_ORDER)
        .limit(1);
      if (!candidate) return undefined;
      // A rejected candidate drops to todo, so the loop moves on to the next one.
      const claim = await claimInTx(tx, now, candidate.id, params);
      if (claim) return claim;
    }
  });
}

/** Extends a running task's lease and stamps its heartbeat. */
export async function heartbeat(ctx: RepoContext, id: string, raw?: HeartbeatOptions): Promise<Task> {
  const options = parse(heartbeatInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['running'], 'heartbeat');
    checkRun(task, options.runId);
    const claimExpires = now + (options.ttlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS);
    const [updated] = await tx.update(tasks).set({ claimExpires, lastHeartbeatAt: now }).where(eq(tasks.id, id)).returning();
    if (task.currentRunId !== null) {
      await tx.update(taskRuns).set({ claimExpires, lastHeartbeatAt: now }).where(eq(taskRuns.id, task.currentRunId));
    }
    await appendEvent(tx, now, { taskId: id, kind: 'heartbeat', runId: task.currentRunId });
    return updated ?? task;
  });
}

/** Running tasks whose lease ran out go back to `ready`; their run is closed as `reclaimed`. Not a failure. */
export async function releaseStaleClaims(ctx: RepoContext): Promise<string[]> {
  const expired = (now: number) => and(eq(tasks.status, 'running'), lt(tasks.claimExpires, now));
  // An idle tick must not take the write lock: look first, then decide again inside the transaction.
  const [any] = await ctx.db.select({ id: tasks.id }).from(tasks).where(expired(ctx.now())).limit(1);
  if (!any) return [];
  return write(ctx, async (tx, now) => {
    const stale = await tx.select().from(tasks).where(expired(now));
    for (const task of stale) {
      await closeRun(tx, now, task, { status: 'released', outcome: 'reclaimed', summary: 'claim expired' });
      await tx.update(tasks).set({ status: 'ready', ...NO_CLAIM }).where(eq(tasks.id, task.id));
      await appendEvent(tx, now, { taskId: task.id, kind: 'reclaimed', runId: task.currentRunId, payload: { reason: 'claim expired', claimer: task.claimLock } });
    }
    return stale.map((t) => t.id);
  });
}
