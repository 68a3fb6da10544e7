import type { RunOutcome, RunStatus, Task } from './schema';
import type { Tx } from './context';
import type { TaskRelease } from './port';

/** The columns that describe a claim; cleared whenever a task stops running. */
export const NO_CLAIM = { claimLock: null, claimExpires: null, workerPid: null, currentRunId: null } as const;

export interface AttemptEnd {
  /** The task's new status and any other column the move changes. */
  readonly set: Partial<Omit<TaskRelease, 'id'>> & Pick<TaskRelease, 'status'>;
  /**
   * How the open run, if any, is closed. With `synthesize`, a task without an open run gets a
   * zero-length run with this outcome instead, as the newest original records blocks and schedules.
   */
  readonly run: {
    status: RunStatus;
    outcome: RunOutcome;
    summary?: string | null;
    error?: string | null;
    metadata?: Record<string, unknown> | null;
    synthesize?: boolean;
  };
  readonly event: { kind: string; payload?: Record<string, unknown> | null };
}

/**
 * The end of a task's attempt, whatever ended it: the task takes its new status with the claim
 * cleared, its open run is closed, and one event records it, all in the caller's transaction.
 * Returns the task as it now is, built from the row the caller read.
 */
export async function endAttempt(tx: Tx, now: number, task: Task, end: AttemptEnd): Promise<Task> {
  const next: Task = { ...task, ...end.set, ...NO_CLAIM };
  const { synthesize, ...run } = end.run;
  const closed = {
    ...run,
    endedAt: now,
    summary: run.summary ?? null,
    error: run.error ?? null,
    metadata: run.metadata ?? null,
  };
  const open = task.currentRunId;
  let runId = open;
  if (open === null && synthesize) {
    const { outcome, endedAt, summary, error, metadata } = closed;
    runId = await tx.q.insertEndedRun({
      taskId: task.id,
      profile: task.assignee,
      stepKey: task.currentStepKey,
      outcome,
      endedAt,
      summary,
      error,
      metadata,
    });
  }
  await tx.q.endAttempt({
    task: next,
    run: open === null ? undefined : { ...closed, runId: open },
    event: { taskId: task.id, kind: end.event.kind, runId, payload: end.event.payload ?? null, createdAt: now },
  });
  return next;
}
