import type { Task } from './schema';
import { endAttempt } from './attempts';
import { read, write, type RepoContext, type Tx } from './context';
import { appendEvent } from './events';
import { taskInStatus } from './guards';
import {
  claimCountInput,
  claimInput,
  claimNextInput,
  heartbeatInput,
  parse,
  type ClaimNextOptions,
  type ClaimOptions,
  type HeartbeatOptions,
} from './input';
import { DEFAULT_CLAIM_TTL_SECONDS, DEFAULT_RETRY_BACKOFF } from './model';
import type { CandidateFilter } from './port';
import type { z } from 'zod';

export { DEFAULT_CLAIM_TTL_SECONDS, DEFAULT_RETRY_BACKOFF };

export interface Claim {
  readonly task: Task;
  readonly runId: number;
}

interface ClaimParams {
  readonly claimer: string;
  readonly ttlSeconds: number;
}

export type ClaimNextParams = ClaimParams & CandidateFilter;

export function claimParams(ctx: RepoContext, options: z.output<typeof claimNextInput>): ClaimNextParams {
  return {
    ...options,
    claimer: options.claimer ?? ctx.claimer,
    ttlSeconds: options.ttlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS,
  };
}

/**
 * `ready` → `running` for a task read in this transaction: a run is opened, one compare-and-set
 * moves the task and points it at the run, and the `claimed` event names the run. The row was read
 * under the write lock (SQLite) or its row lock (PostgreSQL), so no other writer can have changed
 * it since: the compare-and-set failing means a broken invariant, and the throw rolls it all back.
 */
async function claimRow(
  tx: Tx,
  now: number,
  task: Task,
  params: ClaimParams,
  from: 'ready' | 'review' = 'ready',
): Promise<Claim> {
  const expires = now + params.ttlSeconds;
  const source = from === 'review' ? { source_status: 'review' } : {};
  const runId = await tx.q.openClaim({
    run: {
      taskId: task.id,
      profile: task.assignee,
      stepKey: task.currentStepKey,
      claimLock: params.claimer,
      claimExpires: expires,
      maxRuntimeSeconds: task.maxRuntimeSeconds,
      startedAt: now,
    },
    from,
    event: { kind: 'claimed', payload: { lock: params.claimer, expires, ...source } },
  });
  if (runId === undefined) throw new Error(`Task ${task.id} changed inside the write transaction that claimed it`);
  const claimed: Task = {
    ...task,
    status: 'running',
    claimLock: params.claimer,
    claimExpires: expires,
    startedAt: task.startedAt ?? now,
    lastHeartbeatAt: now,
    currentRunId: runId,
  };
  return { task: claimed, runId };
}

/** A ready task whose parents are not all finished goes back to `todo` instead of running. */
async function rejectClaim(tx: Tx, now: number, id: string): Promise<void> {
  await tx.q.demoteToTodo(id, 'ready');
  await appendEvent(tx, now, { taskId: id, kind: 'claim_rejected', payload: { reason: 'parents_not_done' } });
}

/** Up to `count` of the next claimable tasks in claim order, claimed inside the caller's transaction. */
async function claimUpTo(tx: Tx, now: number, params: ClaimNextParams, count: number): Promise<Claim[]> {
  const claims: Claim[] = [];
  for (;;) {
    const wanted = count - claims.length;
    if (wanted === 0) return claims;
    const found = await tx.q.candidates(params, now, tx.retryBackoff, wanted);
    for (const { task, waits } of found) {
      // A rejected candidate drops to todo, so the next pass finds the one after it.
      if (waits) await rejectClaim(tx, now, task.id);
      else claims.push(await claimRow(tx, now, task, params));
    }
    if (found.length < wanted) return claims;
  }
}

/** The next claimable task in claim order, claimed inside the caller's transaction. */
export async function claimNextIn(tx: Tx, now: number, params: ClaimNextParams): Promise<Claim | undefined> {
  return (await claimUpTo(tx, now, params, 1))[0];
}

/**
 * Claims one task; `undefined` when it was not ready, someone else got it first, or the original's
 * claim gates (plan audit, budget) hold it. It does not wait out a retry backoff: it names its task.
 */
export async function claimTask(ctx: RepoContext, id: string, raw?: ClaimOptions): Promise<Claim | undefined> {
  const params = claimParams(ctx, parse(claimInput, raw, 'options'));
  return write(ctx, async (tx, now) => {
    const task = await tx.q.taskById(id);
    if (task?.status !== 'ready' || task.claimLock !== null || !(await tx.q.claimGatesOpen(id))) return undefined;
    if (!(await tx.q.unfinishedParent(id))) return claimRow(tx, now, task, params);
    await rejectClaim(tx, now, id);
    return undefined;
  });
}

/** Claims the highest-priority ready task (optionally one worker's); `undefined` when there is none. */
export async function claimNextTask(ctx: RepoContext, raw?: ClaimNextOptions): Promise<Claim | undefined> {
  const params = claimParams(ctx, parse(claimNextInput, raw, 'options'));
  return write(ctx, (tx, now) => claimNextIn(tx, now, params));
}

/**
 * Claims up to `count` of the next tasks in claim order in one transaction (one commit, and one
 * read of candidates, for all of them): a gateway with several free slots fills them with one
 * call. Fewer, or none, when fewer can run.
 */
export async function claimNextTasks(ctx: RepoContext, rawCount: number, raw?: ClaimNextOptions): Promise<Claim[]> {
  const count = parse(claimCountInput, rawCount, 'count');
  const params = claimParams(ctx, parse(claimNextInput, raw, 'options'));
  return write(ctx, (tx, now) => claimUpTo(tx, now, params, count));
}

/**
 * The review pass (upstream kanban_db.py `claim_review_task`): claims the next `review` task, a
 * worker's result awaiting a reviewer, unless its budget is spent. A candidate whose parent is
 * unfinished again (reopened) drops to `todo` with a `dependency_wait` event instead, and will
 * come back to review when promoted.
 */
export async function claimReviewTask(ctx: RepoContext, raw?: ClaimOptions): Promise<Claim | undefined> {
  const params = claimParams(ctx, parse(claimInput, raw, 'options'));
  return write(ctx, async (tx, now) => {
    for (;;) {
      const candidate = await tx.q.reviewCandidate();
      if (!candidate) return undefined;
      if (!candidate.waits) return claimRow(tx, now, candidate.task, params, 'review');
      await tx.q.demoteToTodo(candidate.task.id, 'review');
      const payload = { reason: 'parent_reopened', source_status: 'review' };
      await appendEvent(tx, now, { taskId: candidate.task.id, kind: 'dependency_wait', payload });
    }
  });
}

/** Extends a running task's lease and stamps its heartbeat. */
export async function heartbeat(ctx: RepoContext, id: string, raw?: HeartbeatOptions): Promise<Task> {
  const options = parse(heartbeatInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['running'], 'heartbeat', options.runId);
    const expires = now + (options.ttlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS);
    await tx.q.renew({ id, runId: task.currentRunId, expires, now });
    await appendEvent(tx, now, { taskId: id, kind: 'heartbeat', runId: task.currentRunId });
    return { ...task, claimExpires: expires, lastHeartbeatAt: now };
  });
}

/**
 * Running tasks whose lease ran out go back to `ready` (a reviewer's to `review`); their run is
 * closed as `reclaimed`. Not a failure.
 */
export async function releaseStaleClaims(ctx: RepoContext): Promise<string[]> {
  // An idle tick must not take the write lock: look first, then decide again inside the transaction.
  if ((await read(ctx, async (tx) => (await tx.q.expiredClaims(ctx.now())).length)) === 0) return [];
  return write(ctx, async (tx, now) => {
    const released: string[] = [];
    for (const task of await tx.q.expiredClaims(now)) {
      const retry = await tx.q.claimedFrom(task.currentRunId);
      await endAttempt(tx, now, task, {
        set: { status: retry },
        run: { status: 'reclaimed', outcome: 'reclaimed', summary: 'claim expired' },
        event: {
          kind: 'reclaimed',
          payload: {
            stale_lock: task.claimLock,
            worker_pid: task.workerPid,
            claim_expires: task.claimExpires,
            last_heartbeat_at: task.lastHeartbeatAt,
            now,
            retry_status: retry,
          },
        },
      });
      released.push(task.id);
    }
    return released;
  });
}
