import type { RunOutcome, RunStatus, Task } from '../db/schema';
import type { RepoContext } from './context';
import { appendEvent } from './events';
import type { TaskRelease } from './statements';

/** The columns that describe a claim; cleared whenever a task stops running. */
export const NO_CLAIM = { claimLock: null, claimExpires: null, workerPid: null, currentRunId: null } as const;

export interface AttemptEnd {
  /** The task's new status and any other column the move changes. */
  readonly set: Partial<Omit<TaskRelease, 'id'>> & Pick<TaskRelease, 'status'>;
  /** How the open run, if any, is closed. */
  readonly run: { status: RunStatus; outcome: RunOutcome; summary?: string | null; error?: string | null };
  readonly event: { kind: string; payload?: Record<string, unknown> | null };
}

/**
 * The end of a task's attempt, whatever ended it: the task takes its new status with the claim
 * cleared, its open run is closed, and one event records it, all in the caller's transaction.
 * Returns the task as it now is, built from the row the caller read.
 */
export function endAttempt(ctx: RepoContext, now: number, task: Task, end: AttemptEnd): Task {
  const next: Task = { ...task, ...end.set, ...NO_CLAIM };
  ctx.q.release(next);
  if (task.currentRunId !== null) {
    ctx.q.closeRun({ ...end.run, runId: task.currentRunId, endedAt: now, summary: end.run.summary ?? null, error: end.run.error ?? null });
  }
  appendEvent(ctx, now, { taskId: task.id, kind: end.event.kind, runId: task.currentRunId, payload: end.event.payload ?? null });
  return next;
}
