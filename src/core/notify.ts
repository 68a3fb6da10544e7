import type { NotifySubscription, TaskEvent } from './schema';
import { read, write, type RepoContext, type Tx } from './context';
import { found } from './guards';
import { parse, subscriptionInput, subscriptionKey, type SubscriptionInput, type SubscriptionKey } from './input';

/** Event kinds the notifier claims, as the upstream notifier's `TERMINAL_KINDS` (gateway/kanban_watchers_notifier.py). */
export const NOTIFY_KINDS = [
  'completed',
  'blocked',
  'gave_up',
  'crashed',
  'timed_out',
  'status',
  'archived',
  'unblocked',
  'block_loop_detected',
  'review_requested',
  'changes_requested',
] as const;
/** Kinds whose claim only moves the cursor: the original sends nothing for them either. */
export const SILENT_KINDS: readonly string[] = ['archived', 'unblocked'];

/** Events a notifier claimed for one subscriber: the cursor moved from `from` to `to` before anything was sent. */
export interface ClaimedEvents {
  readonly from: number;
  readonly to: number;
  readonly events: TaskEvent[];
}

type Key = ReturnType<typeof subscriptionKey.parse>;

/**
 * Subscribes a chat to a task's events from now on (its cursor starts past the task's events so
 * far), as the upstream's `add_notify_sub`: chat type `dm` and delivery `notify` unless given
 * (`notify+wake` for the `api_server` platform). Subscribing again keeps the cursor; a chat type or
 * delivery mode given replaces the old one, an alternate user id or notifier profile fills only an empty one.
 */
export async function subscribe(ctx: RepoContext, raw: SubscriptionInput): Promise<NotifySubscription> {
  const { chatType, deliveryMode, userIdAlt, notifierProfile, ...input } = parse(
    subscriptionInput,
    raw,
    'subscription',
  );
  return write(ctx, async (tx, now) => {
    found(await tx.q.taskById(input.taskId), input.taskId);
    return tx.q.upsertSubscription({
      ...input,
      userId: input.userId ?? null,
      userIdAlt: userIdAlt ?? null,
      notifierProfile: notifierProfile ?? null,
      chatType: chatType ?? 'dm',
      deliveryMode: deliveryMode ?? (input.platform === 'api_server' ? 'notify+wake' : 'notify'),
      createdAt: now,
      // The upstream's `add_notify_sub` on an existing row: the cursor stays; these follow the newest call.
      routing: { chatType: chatType ?? null, deliveryMode: deliveryMode ?? null },
    });
  });
}

export async function unsubscribe(ctx: RepoContext, raw: SubscriptionKey): Promise<boolean> {
  const key = parse(subscriptionKey, raw, 'subscription');
  return write(ctx, (tx) => tx.q.deleteSubscription(key));
}

export function listSubscriptions(ctx: RepoContext, taskId?: string): Promise<NotifySubscription[]> {
  return read(ctx, (tx) => tx.q.subscriptions(taskId));
}

/** The subscriber's row and its task's events past its cursor, of `kinds`, oldest first; inside the caller's read or write. */
async function pastCursor(
  tx: Tx,
  key: Key,
  kinds: readonly string[],
): Promise<{ sub: NotifySubscription; events: TaskEvent[] } | undefined> {
  const sub = await tx.q.subscription(key);
  if (!sub) return undefined;
  return { sub, events: await tx.q.events({ taskId: sub.taskId, afterId: sub.lastEventId, kinds }) };
}

/** Events of the subscribed task past the subscriber's cursor, of the notified kinds, oldest first. */
export async function unseenEvents(
  ctx: RepoContext,
  raw: SubscriptionKey,
  kinds: readonly string[] = NOTIFY_KINDS,
): Promise<TaskEvent[]> {
  const key = parse(subscriptionKey, raw, 'subscription');
  return read(ctx, async (tx) => (await pastCursor(tx, key, kinds))?.events ?? []);
}

/**
 * Claims the subscriber's unseen events: in one write transaction the events past the cursor are
 * read and the cursor moves past them, so of any number of notifiers only one sends each event.
 * Undefined when there is nothing new. A failed send gives the range back with `rewindCursor`.
 */
export async function claimUnseenEvents(
  ctx: RepoContext,
  raw: SubscriptionKey,
  kinds: readonly string[] = NOTIFY_KINDS,
): Promise<ClaimedEvents | undefined> {
  const key = parse(subscriptionKey, raw, 'subscription');
  return write(ctx, async (tx) => {
    const unseen = await pastCursor(tx, key, kinds);
    const last = unseen?.events.at(-1);
    if (!unseen || !last) return undefined;
    await tx.q.setCursor(key, last.id);
    return { from: unseen.sub.lastEventId, to: last.id, events: unseen.events };
  });
}

/** Gives a claimed range back after a failed send: the cursor returns to `from` unless someone moved it since. */
export async function rewindCursor(
  ctx: RepoContext,
  raw: SubscriptionKey,
  claimed: Pick<ClaimedEvents, 'from' | 'to'>,
): Promise<boolean> {
  const key = parse(subscriptionKey, raw, 'subscription');
  return write(ctx, (tx) => tx.q.setCursor(key, claimed.from, claimed.to));
}

/** Moves the cursor forward to `eventId` (never back), after the events up to it were delivered. */
export async function advanceCursor(ctx: RepoContext, raw: SubscriptionKey, eventId: number): Promise<void> {
  const key = parse(subscriptionKey, raw, 'subscription');
  await write(ctx, (tx) => tx.q.advanceCursor(key, eventId));
}

/**
 * Subscribes the parents' subscribers to a child (upstream kanban_db.py `_inherit_notify_subs`),
 * inside the caller's transaction: each keeps its routing, starts past the child's events so far,
 * and a subscriber the child already has is left as it is.
 */
export async function inheritSubscriptions(
  tx: Tx,
  now: number,
  childId: string,
  parentIds: readonly string[],
): Promise<void> {
  if (parentIds.length) await tx.q.inheritSubscriptions(childId, parentIds, now);
}
