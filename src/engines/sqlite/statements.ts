/**
 * Every statement the repository runs often, built from the Drizzle schema and prepared once per
 * connection on first use. A prepared statement runs on the connection, so inside a write
 * transaction it is part of it. Each is wrapped in a function typed from the schema, because a
 * prepared query's placeholders are not.
 */
import {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  inArray,
  isNotNull,
  isNull,
  max,
  ne,
  notExists,
  or,
  sql,
  type SQL,
} from 'drizzle-orm';
import { alias, type SQLiteColumn, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { CandidateFilter, ListFilter, Store } from '../../core/port';
import { type Lane, WAITING_FOR_PARENTS } from '../../core/model';
import type { SyncDb } from './drizzle';
import {
  EVENT_INSERT,
  memoBy,
  once,
  ph,
  RELEASE_SET,
  RENEW_SET,
  RUN_INSERT,
  released,
  runEnd,
  shapes,
  TASK_INSERT,
  candidateValues,
  claimValues,
} from '../shapes';
import {
  kanbanNotifySubs,
  recipeInstanceTasks,
  taskAttachments,
  taskComments,
  taskEvents,
  taskLinks,
  taskRuns,
  tasks,
} from '../../core/schema';
import { boardRules, type Dialect } from '../../core/predicates';

const parent = alias(tasks, 'parent');

const sqlite: Dialect = {
  least: (a, b) => sql`MIN(${a}, ${b})`,
  jsonField: (column, key) => sql`(CASE WHEN json_valid(${column}) THEN json_extract(${column}, ${`$.${key}`}) END)`,
  int64: (value) => sql`${value}`,
};
const shape = shapes({ tasks, taskEvents, taskRuns, kanbanNotifySubs });
const rules = boardRules({ tasks, taskEvents, taskRuns, taskLinks, parent }, sqlite);

/**
 * The store of one connection: its statements run in whatever transaction the connection is in.
 * Each method is synchronous underneath; the promise is the port's.
 */
export function sqliteStore(db: SyncDb): Store {
  const byId = once(() =>
    db
      .select()
      .from(tasks)
      .where(eq(tasks.id, ph('id')))
      .prepare(),
  );
  const byKey = once(() =>
    db
      .select()
      .from(tasks)
      .where(and(eq(tasks.idempotencyKey, ph('key')), ne(tasks.status, 'archived')))
      .orderBy(asc(tasks.createdAt))
      .limit(1)
      .prepare(),
  );
  const insertTask = once(() =>
    db.insert(tasks).values(TASK_INSERT).onConflictDoNothing({ target: tasks.id }).returning().prepare(),
  );
  const candidates = memoBy(
    (f: CandidateFilter) => `${f.assignee !== undefined}${f.tenant !== undefined}${f.assignedOnly === true}`,
    (f: CandidateFilter) =>
      db
        .select({ task: tasks, waits: sql<number>`${rules.unfinishedParent(tasks.id)}` })
        .from(tasks)
        .where(and(rules.claimable, shape.wanted(f)))
        .orderBy(...rules.claimOrder)
        .limit(ph('limit'))
        .prepare(),
  );
  const waits = once(() =>
    db
      .select({ id: sql<string | null>`${rules.firstUnfinishedParent(ph('id'))}` })
      .from(tasks)
      .where(eq(tasks.id, ph('id')))
      .prepare(),
  );
  const gatesOpen = once(() =>
    db
      .select({ id: tasks.id })
      .from(tasks)
      .where(and(eq(tasks.id, ph('id')), rules.claimGatesOpen))
      .prepare(),
  );
  // The review pass: review tasks in claim order, the budget gate only; parents are checked per candidate.
  const reviewCandidate = once(() =>
    db
      .select({ task: tasks, waits: sql<number>`${rules.unfinishedParent(tasks.id)}` })
      .from(tasks)
      .where(rules.reviewable)
      .orderBy(...rules.claimOrder)
      .limit(1)
      .prepare(),
  );
  const demote = once(() => db.update(tasks).set({ status: 'todo' }).where(shape.unclaimedIn).prepare());
  const newestPayload = once(() =>
    db
      .select({ payload: taskEvents.payload })
      .from(taskEvents)
      .where(shape.eventsOfKind)
      .orderBy(desc(taskEvents.id))
      .limit(1)
      .prepare(),
  );
  const claimedEvent = once(() =>
    db.select({ payload: taskEvents.payload }).from(taskEvents).where(shape.claimedEvent).limit(1).prepare(),
  );
  const resumeLane = once(() =>
    db
      .select({ lane: rules.resumeStatus })
      .from(tasks)
      .where(eq(tasks.id, ph('id')))
      .prepare(),
  );
  const insertRun = once(() => db.insert(taskRuns).values(RUN_INSERT).prepare());
  const claim = once(() => db.update(tasks).set(shape.claimSet).where(shape.unclaimedIn).prepare());
  const release = once(() =>
    db
      .update(tasks)
      .set(RELEASE_SET)
      .where(eq(tasks.id, ph('id')))
      .prepare(),
  );
  const closeRun = once(() => db.update(taskRuns).set(shape.closeRunSet).where(shape.openRun).prepare());
  const insertEvent = once(() => db.insert(taskEvents).values(EVENT_INSERT).prepare());
  const promotable = (only: SQL | undefined) => and(rules.promotable, only);
  // A promoted task resumes the lane it left: review when its newest move came from review.
  const promoted = { status: sql<Lane>`${rules.resumeStatus}` };
  const lane = { id: tasks.id, status: sql<Lane>`${tasks.status}` };
  const children = () =>
    db
      .select({ id: taskLinks.childId })
      .from(taskLinks)
      .where(eq(taskLinks.parentId, ph('parent')));
  const promoteChildren = once(() =>
    db
      .update(tasks)
      .set(promoted)
      .where(promotable(inArray(tasks.id, children())))
      .returning(lane)
      .prepare(),
  );
  const promoteOne = once(() =>
    db
      .update(tasks)
      .set(promoted)
      .where(promotable(eq(tasks.id, ph('id'))))
      .returning(lane)
      .prepare(),
  );
  const promoteAll = once(() => db.update(tasks).set(promoted).where(promotable(undefined)).returning(lane).prepare());
  const anyPromotable = once(() =>
    db.select({ id: tasks.id }).from(tasks).where(promotable(undefined)).limit(1).prepare(),
  );
  const renewTask = once(() =>
    db
      .update(tasks)
      .set(RENEW_SET)
      .where(eq(tasks.id, ph('id')))
      .prepare(),
  );
  const renewRun = once(() =>
    db
      .update(taskRuns)
      .set(RENEW_SET)
      .where(eq(taskRuns.id, ph('runId')))
      .prepare(),
  );
  const expired = once(() => db.select().from(tasks).where(shape.expired).prepare());
  const unassignedReady = and(eq(tasks.status, 'ready'), isNull(tasks.assignee));
  const list = memoBy(
    (f: ListFilter) =>
      `${f.statuses?.length ?? (f.includeArchived ? 'all' : 'live')}${f.assignee !== undefined}${f.tenant !== undefined}`,
    (f: ListFilter) =>
      db
        .select()
        .from(tasks)
        .where(
          and(
            f.statuses
              ? inArray(
                  tasks.status,
                  f.statuses.map((_, i) => ph(`s${i}`)),
                )
              : f.includeArchived
                ? undefined
                : ne(tasks.status, 'archived'),
            f.assignee === undefined ? undefined : eq(tasks.assignee, ph('assignee')),
            f.tenant === undefined ? undefined : eq(tasks.tenant, ph('tenant')),
          ),
        )
        .orderBy(...rules.claimOrder)
        .limit(ph('limit'))
        .prepare(),
  );

  return {
    taskById: async (id) => byId().get({ id }),
    taskByIdempotencyKey: async (key) => byKey().get({ key }),
    taskStatuses: async (ids) =>
      db
        .select({ id: tasks.id, status: tasks.status })
        .from(tasks)
        .where(inArray(tasks.id, [...ids]))
        .all(),
    insertTask: async (row) => insertTask().get(row),
    updateTask: async (id, edit) => void db.update(tasks).set(edit).where(eq(tasks.id, id)).run(),
    candidates: async (f, now, backoff, limit) =>
      candidates(f)
        .all({ ...candidateValues(f, now, backoff), limit })
        .map((row) => ({ task: row.task, waits: Boolean(row.waits) })),
    unfinishedParent: async (id) => waits().get({ id })?.id ?? undefined,
    claimGatesOpen: async (id) => gatesOpen().get({ id }) !== undefined,
    reviewCandidate: async () => {
      const row = reviewCandidate().get();
      return row && { task: row.task, waits: Boolean(row.waits) };
    },
    demoteToTodo: async (id, from) => demote().run({ id, from }).changes === 1,
    newestPayload: async (taskId, kind) => newestPayload().get({ taskId, kind })?.payload,
    claimedFrom: async (runId) =>
      runId !== null && claimedEvent().get({ runId })?.payload?.source_status === 'review' ? 'review' : 'ready',
    resumeLane: async (id) => resumeLane().get({ id })?.lane ?? 'ready',
    insertEndedRun: async ({ outcome, endedAt, ...run }) =>
      Number(
        db
          .insert(taskRuns)
          .values({ ...run, status: outcome, outcome, startedAt: endedAt, endedAt })
          .run().lastInsertRowid,
      ),
    runStartedAt: async (runId) =>
      db.select({ startedAt: taskRuns.startedAt }).from(taskRuns).where(eq(taskRuns.id, runId)).get()?.startedAt,
    openClaim: async (opened) => {
      const { run, event } = opened;
      const runId = Number(insertRun().run(run).lastInsertRowid);
      if (claim().run({ ...claimValues(opened), runId }).changes !== 1) return undefined;
      const payload = { ...event.payload, run_id: runId };
      insertEvent().run({ taskId: run.taskId, kind: event.kind, runId, payload, createdAt: run.startedAt });
      return runId;
    },
    endAttempt: async ({ task, run, event }) => {
      release().run(released(task));
      if (run) closeRun().run(runEnd(run));
      insertEvent().run(event);
    },
    insertEvent: async (event) => void insertEvent().run(event),
    promoteChildren: async (parent) => promoteChildren().all({ parent }),
    promoteOne: async (id) => promoteOne().all({ id }),
    promoteAll: async () => promoteAll().all(),
    anyPromotable: async () => anyPromotable().get() !== undefined,
    renew: async (values) => {
      renewTask().run(values);
      if (values.runId !== null) renewRun().run(values);
    },
    expiredClaims: async (now) => expired().all({ now }),
    listTasks: async (f) =>
      list(f).all({
        ...Object.fromEntries((f.statuses ?? []).map((s, i) => [`s${i}`, s])),
        assignee: f.assignee,
        tenant: f.tenant,
        limit: f.limit ?? -1,
      }),
    unassignedReadyCount: async () => db.select({ n: count() }).from(tasks).where(unassignedReady).get()?.n ?? 0,
    assignUnassignedReady: async (assignee) =>
      db
        .update(tasks)
        .set({ assignee })
        .where(unassignedReady)
        .returning({ id: tasks.id })
        .all()
        .map(({ id }) => id),

    reaches: async (ancestor, descendant) =>
      db.all<{ id: string }>(sql`
        WITH RECURSIVE below(id) AS (
          SELECT ${taskLinks.childId} FROM ${taskLinks} WHERE ${taskLinks.parentId} = ${ancestor}
          UNION SELECT l.child_id FROM ${taskLinks} l JOIN below b ON l.parent_id = b.id)
        SELECT id FROM below WHERE id = ${descendant} LIMIT 1`).length > 0,
    insertLinks: async (links) =>
      db
        .insert(taskLinks)
        .values([...links])
        .onConflictDoNothing()
        .run().changes,
    deleteLink: async (parentId, childId) =>
      db
        .delete(taskLinks)
        .where(and(eq(taskLinks.parentId, parentId), eq(taskLinks.childId, childId)))
        .run().changes > 0,
    linkedTasks: async (id) => {
      const linked = (mine: SQLiteColumn, theirs: SQLiteColumn) =>
        db
          .select({ id: tasks.id, title: tasks.title, status: tasks.status })
          .from(taskLinks)
          .innerJoin(tasks, eq(tasks.id, theirs))
          .where(eq(mine, id))
          .orderBy(tasks.createdAt)
          .all();
      return {
        parents: linked(taskLinks.childId, taskLinks.parentId),
        children: linked(taskLinks.parentId, taskLinks.childId),
      };
    },

    insertComment: async (row) => db.insert(taskComments).values(row).returning().get(),
    comments: async (taskId) =>
      db
        .select()
        .from(taskComments)
        .where(eq(taskComments.taskId, taskId))
        .orderBy(asc(taskComments.createdAt), asc(taskComments.id))
        .all(),
    runs: async (taskId) =>
      db.select().from(taskRuns).where(eq(taskRuns.taskId, taskId)).orderBy(asc(taskRuns.id)).all(),
    events: async (filter) =>
      db
        .select()
        .from(taskEvents)
        .where(
          and(
            filter.taskId === undefined ? undefined : eq(taskEvents.taskId, filter.taskId),
            filter.afterId === undefined ? undefined : gt(taskEvents.id, filter.afterId),
            filter.kinds === undefined ? undefined : inArray(taskEvents.kind, [...filter.kinds]),
          ),
        )
        .orderBy(asc(taskEvents.id))
        .limit(filter.limit ?? -1)
        .all(),
    lastEventId: async () =>
      db
        .select({ id: max(taskEvents.id) })
        .from(taskEvents)
        .get()?.id ?? 0,
    statusCounts: async () => db.select({ status: tasks.status, n: count() }).from(tasks).groupBy(tasks.status).all(),
    assigneeCounts: async () =>
      db
        .select({ assignee: tasks.assignee, n: count() })
        .from(tasks)
        .where(ne(tasks.status, 'archived'))
        .groupBy(tasks.assignee)
        .all(),

    upsertSubscription: async ({ routing, ...row }) => {
      const s = kanbanNotifySubs;
      db.insert(s)
        .values({ ...row, lastEventId: shape.caughtUp(row.taskId) })
        .onConflictDoUpdate({
          target: [s.taskId, s.platform, s.chatId, s.threadId],
          set: {
            chatType: sql`COALESCE(${routing.chatType}, ${s.chatType})`,
            deliveryMode: sql`COALESCE(${routing.deliveryMode}, ${s.deliveryMode})`,
            userIdAlt: sql`COALESCE(NULLIF(${s.userIdAlt}, ''), ${row.userIdAlt})`,
            notifierProfile: sql`COALESCE(NULLIF(${s.notifierProfile}, ''), ${row.notifierProfile})`,
          },
        })
        .run();
      const sub = db.select().from(s).where(shape.subscriber(row)).get();
      if (!sub) throw new Error('subscription row missing right after its insert');
      return sub;
    },
    subscription: async (key) => db.select().from(kanbanNotifySubs).where(shape.subscriber(key)).get(),
    deleteSubscription: async (key) => db.delete(kanbanNotifySubs).where(shape.subscriber(key)).run().changes > 0,
    subscriptions: async (taskId) =>
      db
        .select()
        .from(kanbanNotifySubs)
        .where(taskId === undefined ? undefined : eq(kanbanNotifySubs.taskId, taskId))
        .orderBy(asc(kanbanNotifySubs.createdAt))
        .all(),
    setCursor: async (key, eventId, expected) =>
      db
        .update(kanbanNotifySubs)
        .set({ lastEventId: eventId })
        .where(
          and(shape.subscriber(key), expected === undefined ? undefined : eq(kanbanNotifySubs.lastEventId, expected)),
        )
        .run().changes > 0,
    advanceCursor: async (key, eventId) =>
      void db
        .update(kanbanNotifySubs)
        .set({ lastEventId: sql`MAX(${kanbanNotifySubs.lastEventId}, ${eventId})` })
        .where(shape.subscriber(key))
        .run(),
    inheritSubscriptions: async (childId, parentIds, now) => {
      const s = kanbanNotifySubs;
      const columns: SQLiteColumn[] = [s.taskId, s.platform, s.chatId, s.threadId, s.userId, s.userIdAlt, s.chatType];
      columns.push(
        s.notifierProfile,
        s.deliveryMode,
        s.deliveryMetadata,
        s.createdAt,
        s.lastEventId,
        s.lastPingEventId,
      );
      const names = columns.map((column) => sql.identifier(column.name));
      db.run(sql`INSERT OR IGNORE INTO ${s} (${sql.join(names, sql`, `)})
        SELECT ${childId}, ${s.platform}, ${s.chatId}, ${s.threadId}, ${s.userId}, ${s.userIdAlt}, COALESCE(${s.chatType}, 'dm'),
          ${s.notifierProfile}, COALESCE(${s.deliveryMode}, 'notify'), ${s.deliveryMetadata}, ${now}, ${shape.caughtUp(childId)}, 0
        FROM ${s} WHERE ${inArray(s.taskId, [...parentIds])}`);
    },

    brokenDown: async () =>
      db
        .select({
          id: tasks.id,
          consecutiveFailures: tasks.consecutiveFailures,
          lastFailureError: tasks.lastFailureError,
        })
        .from(tasks)
        .where(rules.brokeDown(tasks))
        .all(),
    troubledLinks: async () =>
      db
        .select({ child: taskLinks.childId, parent: taskLinks.parentId, parentStatus: parent.status })
        .from(taskLinks)
        .innerJoin(tasks, eq(tasks.id, taskLinks.childId))
        .leftJoin(parent, eq(parent.id, taskLinks.parentId))
        .where(
          and(
            inArray(tasks.status, [...WAITING_FOR_PARENTS]),
            sql`(${parent.id} IS NULL OR ${rules.brokeDown(parent)})`,
          ),
        )
        .all(),
    orphanSubscriptions: async () =>
      db
        .select({
          taskId: kanbanNotifySubs.taskId,
          platform: kanbanNotifySubs.platform,
          chatId: kanbanNotifySubs.chatId,
          threadId: kanbanNotifySubs.threadId,
        })
        .from(kanbanNotifySubs)
        .where(notExists(db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, kanbanNotifySubs.taskId))))
        .all(),
    archivedBefore: async (cutoff) => {
      const archivedAt = sql`COALESCE((SELECT MAX(${taskEvents.createdAt}) FROM ${taskEvents}
        WHERE ${taskEvents.taskId} = ${tasks.id} AND ${taskEvents.kind} = 'archived'), ${tasks.createdAt})`;
      return db
        .select({ id: tasks.id, recipe: recipeInstanceTasks.instanceId })
        .from(tasks)
        .leftJoin(recipeInstanceTasks, eq(recipeInstanceTasks.taskId, tasks.id))
        .where(and(eq(tasks.status, 'archived'), sql`${archivedAt} <= ${cutoff}`))
        .all();
    },
    recipeOf: async (taskId) =>
      db
        .select({ id: recipeInstanceTasks.instanceId })
        .from(recipeInstanceTasks)
        .where(eq(recipeInstanceTasks.taskId, taskId))
        .get()?.id,
    deleteTasks: async (all) => {
      // Bounded batches: SQLite limits how many values one statement binds.
      for (let i = 0; i < all.length; i += 500) {
        const ids = all.slice(i, i + 500);
        const remove = (table: SQLiteTable, ...columns: SQLiteColumn[]) =>
          db
            .delete(table)
            .where(or(...columns.map((column) => inArray(column, ids))))
            .run();
        remove(taskRuns, taskRuns.taskId);
        remove(taskEvents, taskEvents.taskId);
        remove(taskComments, taskComments.taskId);
        remove(kanbanNotifySubs, kanbanNotifySubs.taskId);
        remove(taskAttachments, taskAttachments.taskId);
        remove(taskLinks, taskLinks.parentId, taskLinks.childId);
        remove(tasks, tasks.id);
      }
    },
  };
}
