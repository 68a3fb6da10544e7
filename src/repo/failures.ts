import type { RunStatus, Task } from '../db/schema';
import { appendEvent, checkRun, closeRun, NO_CLAIM, taskInStatus, updateTask, write, type RepoContext } from './context';
import { failureInput, parse, type FailureInput, type FailureOutcome } from './input';

/** Failures in a row before the breaker blocks a task, when neither the task nor the caller says. */
export const DEFAULT_FAILURE_LIMIT = 2;
/** `last_failure_error` keeps at most this many characters. */
export const MAX_ERROR_LENGTH = 500;

const RUN_STATUS_OF: Record<FailureOutcome, RunStatus> = {
  crashed: 'crashed',
  timed_out: 'timed_out',
  spawn_failed: 'failed',
};

export interface FailureResult {
  readonly task: Task;
  readonly failures: number;
  readonly limit: number;
  readonly gaveUp: boolean;
}

/**
 * The breaker. A failed attempt adds one to `consecutive_failures` and closes the run; below the
 * limit the task is ready for another attempt, at the limit it is blocked with a `gave_up` event.
 * The limit is the task's `max_retries`, else the caller's `limit`, else 2.
 */
export async function recordFailure(ctx: RepoContext, id: string, raw: FailureInput): Promise<FailureResult> {
  const { runId, error: fullError, outcome, limit: callerLimit } = parse(failureInput, raw, 'failure');
  const error = fullError.slice(0, MAX_ERROR_LENGTH);
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['running'], 'record a failure of');
    checkRun(task, runId);
    const failures = task.consecutiveFailures + 1;
    const limit = task.maxRetries ?? callerLimit ?? DEFAULT_FAILURE_LIMIT;
    const source = task.maxRetries !== null ? 'task' : 'dispatcher';
    const gaveUp = failures >= limit;
    await closeRun(tx, now, task, { status: RUN_STATUS_OF[outcome], outcome, error });
    const updated = await updateTask(tx, id, {
      status: gaveUp ? 'blocked' : 'ready',
      consecutiveFailures: failures,
      lastFailureError: error,
      ...NO_CLAIM,
    });
    const runIdOfTask = task.currentRunId;
    await appendEvent(tx, now, { taskId: id, kind: outcome, runId: runIdOfTask, payload: { error, failures } });
    if (gaveUp) {
      await appendEvent(tx, now, { taskId: id, kind: 'gave_up', runId: runIdOfTask, payload: { failures, limit, limitSource: source, error } });
    }
    return { task: updated, failures, limit, gaveUp };
  });
}

