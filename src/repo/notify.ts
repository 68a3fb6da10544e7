import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { kanbanNotifySubs, taskEvents, type NotifySubscription, type TaskEvent } from '../db/schema';
import { read, write, type RepoContext } from './context';
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

const keyOf = (key: ReturnType<typeof subscriptionKey.parse>) =>
  and(
    eq(kanbanNotifySubs.taskId, key.taskId),
    eq(kanbanNotifySubs.platform, key.platform),
    eq(kanbanNotifySubs.chatId, key.chatId),
    eq(kanbanNotifySubs.threadId, key.threadId),
  );

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
  const s = kanbanNotifySubs;
  return write(ctx, (now) => {
    found(ctx.q.taskById(input.taskId), input.taskId);
    const caughtUp = sql`(SELECT COALESCE(MAX(${taskEvents.id}), 0) FROM ${taskEvents} WHERE ${taskEvents.taskId} = ${input.taskId})`;
    ctx.db
      .insert(s)
      .values({
        ...input,
        userIdAlt: userIdAlt ?? null,
        notifierProfile: notifierProfile ?? null,
        chatType: chatType ?? 'dm',
        deliveryMode: deliveryMode ?? (input.platform === 'api_server' ? 'notify+wake' : 'notify'),
        createdAt: now,
        lastEventId: caughtUp,
      })
      .onConflictDoUpdate({
        target: [s.taskId, s.platform, s.chatId, s.threadId],
        set: {
          // The upstream's `add_notify_sub` on an existing row: the cursor stays; these follow the newest call.
          chatType: sql`COALESCE(${chatType ?? null}, ${s.chatType})`,
          deliveryMode: sql`COALESCE(${deliveryMode ?? null}, ${s.deliveryMode})`,
          userIdAlt: sql`COALESCE(NULLIF(${s.userIdAlt}, ''), ${userIdAlt ?? null})`,
          notifierProfile: sql`COALESCE(NULLIF(${s.notifierProfile}, ''), ${notifierProfile ?? null})`,
        },
      })
      .run();
    const sub = ctx.db.select().from(kanbanNotifySubs).where(keyOf(input)).get();
    if (!sub) throw new Error('subscription row missing right after its insert');
    return sub;
  });
}

export async function unsubscribe(ctx: RepoContext, raw: SubscriptionKey): Promise<boolean> {
  const key = parse(subscriptionKey, raw, 'subscription');
  return write(ctx, () => ctx.db.delete(kanbanNotifySubs).where(keyOf(key)).run().changes > 0);
}

export function listSubscriptions(ctx: RepoContext, taskId?: string): Promise<NotifySubscription[]> {
  const query = ctx.db
    .select()
    .from(kanbanNotifySubs)
    .where(taskId === undefined ? undefined : eq(kanbanNotifySubs.taskId, taskId))
    .orderBy(asc(kanbanNotifySubs.createdAt));
  return read(ctx, () => query.all());
}

/** The subscriber's row and its task's events past its cursor, of `kinds`, oldest first; inside the caller's read or write. */
function pastCursor(
  ctx: RepoContext,
  key: ReturnType<typeof subscriptionKey.parse>,
  kinds: readonly string[],
): { sub: NotifySubscription; events: TaskEvent[] } | undefined {
  const sub = ctx.db.select().from(kanbanNotifySubs).where(keyOf(key)).get();
  if (!sub) return undefined;
  const events = ctx.db
    .select()
    .from(taskEvents)
    .where(
      and(eq(taskEvents.taskId, sub.taskId), gt(taskEvents.id, sub.lastEventId), inArray(taskEvents.kind, [...kinds])),
    )
    .orderBy(asc(taskEvents.id))
    .all();
  return { sub, events };
}

/** Events of the subscribed task past the subscriber's cursor, of the notified kinds, oldest first. */
export async function unseenEvents(
  ctx: RepoContext,
  raw: SubscriptionKey,
  kinds: readonly string[] = NOTIFY_KINDS,
): Promise<TaskEvent[]> {
  const key = parse(subscriptionKey, raw, 'subscription');
  return read(ctx, () => pastCursor(ctx, key, kinds)?.events ?? []);
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
  return write(ctx, () => {
    const unseen = pastCursor(ctx, key, kinds);
    const last = unseen?.events.at(-1);
    if (!unseen || !last) return undefined;
    ctx.db.update(kanbanNotifySubs).set({ lastEventId: last.id }).where(keyOf(key)).run();
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
  return write(
    ctx,
    () =>
      ctx.db
        .update(kanbanNotifySubs)
        .set({ lastEventId: claimed.from })
        .where(and(keyOf(key), eq(kanbanNotifySubs.lastEventId, claimed.to)))
        .run().changes > 0,
  );
}

/** Moves the cursor forward to `eventId` (never back), after the events up to it were delivered. */
export async function advanceCursor(ctx: RepoContext, raw: SubscriptionKey, eventId: number): Promise<void> {
  const key = parse(subscriptionKey, raw, 'subscription');
  await write(ctx, () => {
    ctx.db
      .update(kanbanNotifySubs)
      .set({ lastEventId: sql`MAX(${kanbanNotifySubs.lastEventId}, ${eventId})` })
      .where(keyOf(key))
      .run();
  });
}

/**
 * Subscribes the parents' subscribers to a child (upstream kanban_db.py `_inherit_notify_subs`),
 * inside the caller's transaction: each keeps its routing, starts past the child's events so far,
 * and a subscriber the child already has is left as it is.
 */
export function inheritSubscriptions(
  ctx: RepoContext,
  now: number,
  childId: string,
  parentIds: readonly string[],
): void {
  if (parentIds.length === 0) return;
  const s = kanbanNotifySubs;
  const caughtUp = sql`(SELECT COALESCE(MAX(${taskEvents.id}), 0) FROM ${taskEvents} WHERE ${taskEvents.taskId} = ${childId})`;
  const columns: SQLiteColumn[] = [s.taskId, s.platform, s.chatId, s.threadId, s.userId, s.userIdAlt, s.chatType];
  columns.push(s.notifierProfile, s.deliveryMode, s.deliveryMetadata, s.createdAt, s.lastEventId, s.lastPingEventId);
  const names = columns.map((column) => sql.identifier(column.name));
  ctx.db.run(sql`INSERT OR IGNORE INTO ${s} (${sql.join(names, sql`, `)})
    SELECT ${childId}, ${s.platform}, ${s.chatId}, ${s.threadId}, ${s.userId}, ${s.userIdAlt}, COALESCE(${s.chatType}, 'dm'),
      ${s.notifierProfile}, COALESCE(${s.deliveryMode}, 'notify'), ${s.deliveryMetadata}, ${now}, ${caughtUp}, 0
    FROM ${s} WHERE ${inArray(s.taskId, [...parentIds])}`);
}
