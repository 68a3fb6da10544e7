import type { RepoContext } from './context';

export interface EventInput {
  readonly taskId: string;
  readonly kind: string;
  readonly runId?: number | null;
  readonly payload?: Record<string, unknown> | null;
}

/** Appends one row to the task's event log, inside the caller's transaction. */
export function appendEvent(ctx: RepoContext, now: number, event: EventInput): void {
  ctx.q.insertEvent({
    taskId: event.taskId,
    kind: event.kind,
    runId: event.runId ?? null,
    payload: event.payload ?? null,
    createdAt: now,
  });
}

/** A `promoted` event for each task that promotion moved to `ready`. */
export function recordPromotions(ctx: RepoContext, now: number, ids: readonly string[]): string[] {
  for (const taskId of ids) appendEvent(ctx, now, { taskId, kind: 'promoted' });
  return [...ids];
}
