import type { Tx } from './context';
import type { Promotion } from './port';

export interface EventInput {
  readonly taskId: string;
  readonly kind: string;
  readonly runId?: number | null;
  readonly payload?: Record<string, unknown> | null;
}

/** Appends one row to the task's event log, inside the caller's transaction. */
export function appendEvent(tx: Tx, now: number, event: EventInput): Promise<void> {
  return tx.q.insertEvent({
    taskId: event.taskId,
    kind: event.kind,
    runId: event.runId ?? null,
    payload: event.payload ?? null,
    createdAt: now,
  });
}

/** A `promoted` event for each task promotion moved, saying `{status: "review"}` when it went back to review; returns their ids. */
export async function recordPromotions(tx: Tx, now: number, promoted: readonly Promotion[]): Promise<string[]> {
  for (const { id, status } of promoted) {
    await appendEvent(tx, now, { taskId: id, kind: 'promoted', payload: status === 'review' ? { status } : null });
  }
  return promoted.map(({ id }) => id);
}

/** An event's summary: the first line of `text`, at most 400 characters, or null (the upstream's payload rule). */
export function summaryLine(text: string | null | undefined): string | null {
  return text?.trim().split('\n')[0]?.slice(0, 400) || null;
}
