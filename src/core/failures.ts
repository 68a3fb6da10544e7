import type { Task } from './schema';
import { endAttempt } from './attempts';
import { write, type RepoContext, type Tx } from './context';
import { appendEvent } from './events';
import { taskInStatus } from './guards';
import { failureInput, parse, type FailureInput, type FailureOutcome } from './input';

import { DEFAULT_FAILURE_LIMIT } from './model';

export { DEFAULT_FAILURE_LIMIT };
/** `last_failure_error` keeps at most this many characters. */
export const MAX_ERROR_LENGTH = 500;

export interface FailureResult {
  readonly task: Task;
  readonly failures: number;
  readonly limit: number;
  readonly gaveUp: boolean;
}

/** The keys the newest original writes on each failure event, which its notifier reads (`limit_seconds`). */
async function failurePayload(
  tx: Tx,
  now: number,
  task: Task,
  outcome: FailureOutcome,
): Promise<Record<string, unknown>> {
  // The pid is known only when the worker's program recorded it (kanban-db's gateway does not spend a commit on it).
  const pid = task.workerPid === null ? {} : { pid: task.workerPid };
  if (outcome === 'crashed') return { ...pid, claimer: task.claimLock };
  if (outcome === 'spawn_failed') return {};
  const startedAt = task.currentRunId === null ? undefined : await tx.q.runStartedAt(task.currentRunId);
  return {
    ...pid,
    elapsed_seconds: now - (startedAt ?? task.startedAt ?? now),
    limit_seconds: task.maxRuntimeSeconds ?? 0,
  };
}

/**
 * The breaker. A failed attempt adds one to `consecutive_failures` and closes the run; below the
 * limit the task is ready for another attempt (a reviewer's run: back in review), at the limit it
 * is blocked with a `gave_up` event. Both events carry that `retry_status`, as the upstream's.
 * The limit is the task's `max_retries`, else the caller's `limit`, else 2.
 */
export async function recordFailure(ctx: RepoContext, id: string, raw: FailureInput): Promise<FailureResult> {
  const { runId, error: fullError, outcome, limit: callerLimit } = parse(failureInput, raw, 'failure');
  const error = fullError.slice(0, MAX_ERROR_LENGTH);
  return write(ctx, async (tx, now) => {
    const task = await taskInStatus(tx, id, ['running'], 'record a failure of', runId);
    const failures = task.consecutiveFailures + 1;
    const limit = task.maxRetries ?? callerLimit ?? DEFAULT_FAILURE_LIMIT;
    const gaveUp = failures >= limit;
    const retry = await tx.q.claimedFrom(task.currentRunId);
    const updated = await endAttempt(tx, now, task, {
      set: { status: gaveUp ? 'blocked' : retry, consecutiveFailures: failures, lastFailureError: error },
      run: { status: outcome, outcome, error },
      event: {
        kind: outcome,
        payload: { ...(await failurePayload(tx, now, task, outcome)), error, failures, retry_status: retry },
      },
    });
    if (gaveUp) {
      const limitSource = task.maxRetries !== null ? 'task' : 'dispatcher';
      const payload = {
        failures,
        effective_limit: limit,
        limit_source: limitSource,
        error,
        trigger_outcome: outcome,
        retry_status: retry,
      };
      await appendEvent(tx, now, { taskId: id, kind: 'gave_up', runId: task.currentRunId, payload });
    }
    return { task: updated, failures, limit, gaveUp };
  });
}
