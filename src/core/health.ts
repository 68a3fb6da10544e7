/**
 * What is wrong with a board, and clearing out what it no longer needs: the library side of
 * `kanban diagnostics` and `kanban gc`.
 */
import { read, write, type RepoContext } from './context';
import { parse, purgeInput, type PurgeOptions } from './input';

export type { PurgeOptions };

export const DIAGNOSTIC_KINDS = [
  'lease_expired',
  'repeated_failures',
  'missing_parent',
  'parent_gave_up',
  'undeliverable_subscription',
  'dispatch_lock_orphaned',
] as const;

export interface Diagnostic {
  readonly kind: (typeof DIAGNOSTIC_KINDS)[number];
  readonly severity: 'warning' | 'error';
  /** The task it is about (for a subscription, the task it names); empty for the board as a whole. */
  readonly taskId: string;
  /** What is wrong and what to do, for a person. */
  readonly message: string;
}

/** Every problem the board has now, errors first. */
export function diagnostics(ctx: RepoContext): Promise<Diagnostic[]> {
  return read(ctx, async (tx) => {
    const now = ctx.now();
    const found: Diagnostic[] = [];
    for (const t of await tx.q.expiredClaims(now)) {
      const ago = now - (t.claimExpires ?? now);
      found.push({
        kind: 'lease_expired',
        severity: 'error',
        taskId: t.id,
        message: `running past its lease by ${ago} s (claimed by ${t.claimLock ?? 'nobody'}); a dispatcher's next tick hands it back, or \`kanban reclaim ${t.id}\``,
      });
    }
    for (const t of await tx.q.brokenDown()) {
      found.push({
        kind: 'repeated_failures',
        severity: 'error',
        taskId: t.id,
        message: `blocked after ${t.consecutiveFailures} failures in a row (last: ${t.lastFailureError ?? 'no error recorded'}); fix the cause, then \`kanban unblock ${t.id}\``,
      });
    }
    for (const l of await tx.q.troubledLinks()) {
      const missing = l.parentStatus === null;
      found.push({
        kind: missing ? 'missing_parent' : 'parent_gave_up',
        severity: missing ? 'error' : 'warning',
        taskId: l.child,
        message: missing
          ? `waits for ${l.parent}, which is not on the board, so it can never run; \`kanban unlink ${l.parent} ${l.child}\``
          : `waits for ${l.parent}, which the breaker blocked; it runs only once that parent is unblocked and done`,
      });
    }
    for (const s of await tx.q.orphanSubscriptions()) {
      found.push({
        kind: 'undeliverable_subscription',
        severity: 'warning',
        taskId: s.taskId,
        message: `${s.platform} chat ${s.chatId} is subscribed to a task that is not on the board; \`kanban unsubscribe ${s.taskId} --platform ${s.platform} --chat ${s.chatId}\``,
      });
    }
    return found.sort((a, b) => Number(a.severity === 'warning') - Number(b.severity === 'warning'));
  });
}

export interface PurgeResult {
  /** The archived tasks deleted, with everything that was theirs. */
  readonly purged: string[];
  /** Archived tasks old enough but kept, because a recipe names them (the upstream restricts their deletion). */
  readonly keptForRecipes: string[];
}

/**
 * Deletes the tasks archived more than `olderThanDays` days ago (their newest `archived` event,
 * else their creation), with their runs, events, comments, links, subscriptions and attachment
 * rows, in one commit. A task a recipe names is kept: deleting it would break the recipe's
 * foreign key. Attachment files on disk are not touched.
 */
export async function purgeArchived(ctx: RepoContext, raw: PurgeOptions): Promise<PurgeResult> {
  const { olderThanDays } = parse(purgeInput, raw, 'options');
  return write(ctx, async (tx, now) => {
    const old = await tx.q.archivedBefore(now - olderThanDays * 86_400);
    const purged = old.filter((t) => t.recipe === null).map((t) => t.id);
    const keptForRecipes = old.filter((t) => t.recipe !== null).map((t) => t.id);
    if (purged.length) await tx.q.deleteTasks(purged);
    return { purged, keptForRecipes };
  });
}
