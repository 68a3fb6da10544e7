/**
 * The PostgreSQL twin of the SQLite store: every statement the rules run, built from the Drizzle
 * schema once per pooled client on first use and, on the hot path, prepared on the server under a
 * name (`kanban_…`, one per distinct SQL text, so a client's two stores can share the ones they
 * agree on). Tables are unqualified: each pool's `search_path` is its board's schema.
 *
 * Locking. SQLite lets one writer in at a time; PostgreSQL runs write transactions side by side at
 * READ COMMITTED, where every statement sees what was committed when it began. The store used
 * inside write transactions (`locking`) therefore takes the row locks the rules rely on:
 * - a task read to be moved is read `FOR UPDATE`, so moves of one task queue behind each other;
 * - claim candidates are read `FOR UPDATE OF tasks SKIP LOCKED`: claimers never wait on each other
 *   nor take one task twice, and a row changed meanwhile is re-checked against the filter;
 * - expired claims and a notifier's subscription row are read `FOR UPDATE`;
 * - promotion first locks its target rows in a statement of its own (in id order), then updates
 *   them in a second one: that one's fresh snapshot sees every parent whose transaction held a lock
 *   on the child before, so two parents finished at once cannot both miss their child;
 * - the cycle check before a link, and the lookup of an idempotency key, take a transaction-level
 *   advisory lock of the board's schema, so two opposite links or two creates with one key queue.
 * The store of reads takes no lock at all. Transactions that lock two tasks in opposite orders (two
 * opposite links each read parent, then child) can still deadlock: PostgreSQL then aborts one with
 * SQLSTATE 40P01, for the engine to retry.
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
  type SQL,
  sql,
} from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { alias, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import { type Lane, WAITING_FOR_PARENTS } from '../../core/model';
import type { CandidateFilter, ListFilter, Store } from '../../core/port';
import { boardRules, type Dialect } from '../../core/predicates';
import {
  kanbanNotifySubs,
  recipeInstanceTasks,
  taskAttachments,
  taskComments,
  taskEvents,
  taskLinks,
  taskRuns,
  tasks,
} from './schema';
import {
  EVENT_INSERT,
  memoBy,
  once,
  ph,
  RELEASE_SET,
  released,
  RENEW_SET,
  RUN_INSERT,
  runEnd,
  shapes,
  TASK_INSERT,
  candidateValues,
  claimValues,
} from '../shapes';

const parent = alias(tasks, 'parent');

const postgres: Dialect = {
  least: (a, b) => sql`LEAST(${a}, ${b})`,
  // On a server board only kanban-db writes payloads, and always as valid JSON.
  jsonField: (column, key) => sql`(${column}::jsonb ->> ${key})`,
  int64: (value) => sql`CAST(${value} AS bigint)`,
};
const shape = shapes({ tasks, taskEvents, taskRuns, kanbanNotifySubs });
const rules = boardRules({ tasks, taskEvents, taskRuns, taskLinks, parent }, postgres);

/** A transaction-level advisory lock on `name` (text SQL) within the board's schema, released at COMMIT or ROLLBACK. */
const advisoryLock = (name: SQL) => sql`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ${name}))`;

/**
 * The store of one pooled client: its statements run in whatever transaction the client is in,
 * which the engine opens and ends. `locking` is true for the store of write transactions (READ
 * COMMITTED), which takes the row locks described above; false for reads, which take none.
 */
export function pgStore(db: NodePgDatabase, locking: boolean): Store {
  /** The name of a prepared statement whose text depends on `locking`. */
  const named = (name: string) => `kanban_${name}${locking ? '_locked' : ''}`;

  const byId = once(() => {
    const query = db
      .select()
      .from(tasks)
      .where(eq(tasks.id, ph('id')))
      .$dynamic();
    return (locking ? query.for('update') : query).prepare(named('task_by_id'));
  });
  const byKey = once(() =>
    db
      .select()
      .from(tasks)
      .where(and(eq(tasks.idempotencyKey, ph('key')), ne(tasks.status, 'archived')))
      .orderBy(asc(tasks.createdAt))
      .limit(1)
      .prepare('kanban_task_by_key'),
  );
  const insertTask = once(() =>
    db
      .insert(tasks)
      .values(TASK_INSERT)
      .onConflictDoNothing({ target: tasks.id })
      .returning()
      .prepare('kanban_insert_task'),
  );
  /** One statement per filter shape; its name spells the shape (assignee, tenant, assigned only). */
  const candidates = memoBy(
    (f: CandidateFilter) =>
      `a${Number(f.assignee !== undefined)}t${Number(f.tenant !== undefined)}o${Number(f.assignedOnly === true)}`,
    (f: CandidateFilter, key) => {
      const query = db
        .select({ task: tasks, waits: sql<boolean>`${rules.unfinishedParent(tasks.id)}` })
        .from(tasks)
        .where(and(rules.claimable, shape.wanted(f)))
        .orderBy(...rules.claimOrder)
        .limit(ph('limit'))
        .$dynamic();
      return (locking ? query.for('update', { of: tasks, skipLocked: true }) : query).prepare(
        named(`candidate_${key}`),
      );
    },
  );
  const waits = once(() =>
    db
      .select({ id: sql<string | null>`${rules.firstUnfinishedParent(ph('id'))}` })
      .from(tasks)
      .where(eq(tasks.id, ph('id')))
      .prepare('kanban_unfinished_parent'),
  );
  const gatesOpen = once(() =>
    db
      .select({ id: tasks.id })
      .from(tasks)
      .where(and(eq(tasks.id, ph('id')), rules.claimGatesOpen))
      .prepare('kanban_claim_gates_open'),
  );
  // The review pass: review tasks in claim order, the budget gate only; parents are checked per candidate.
  const reviewCandidate = once(() => {
    const query = db
      .select({ task: tasks, waits: sql<boolean>`${rules.unfinishedParent(tasks.id)}` })
      .from(tasks)
      .where(rules.reviewable)
      .orderBy(...rules.claimOrder)
      .limit(1)
      .$dynamic();
    return (locking ? query.for('update', { of: tasks, skipLocked: true }) : query).prepare(named('review_candidate'));
  });
  const demote = once(() =>
    db.update(tasks).set({ status: 'todo' }).where(shape.unclaimedIn).prepare('kanban_demote_to_todo'),
  );
  const newestPayload = once(() =>
    db
      .select({ payload: taskEvents.payload })
      .from(taskEvents)
      .where(shape.eventsOfKind)
      .orderBy(desc(taskEvents.id))
      .limit(1)
      .prepare('kanban_newest_payload'),
  );
  const claimedEvent = once(() =>
    db
      .select({ payload: taskEvents.payload })
      .from(taskEvents)
      .where(shape.claimedEvent)
      .limit(1)
      .prepare('kanban_claimed_from'),
  );
  const resumeLane = once(() =>
    db
      .select({ lane: sql<Lane>`${rules.resumeStatus}` })
      .from(tasks)
      .where(eq(tasks.id, ph('id')))
      .prepare('kanban_resume_lane'),
  );
  const insertEvent = once(() => db.insert(taskEvents).values(EVENT_INSERT).prepare('kanban_insert_event'));
  /**
   * A claim in one statement (one round trip): the run inserted, the task's compare-and-set
   * pointing at it, and the event naming it, as data-modifying CTEs that see the run's new id.
   */
  const openClaim = once(() => {
    const run = db.$with('run').as(db.insert(taskRuns).values(RUN_INSERT).returning({ id: taskRuns.id }));
    const runId = sql`(SELECT ${run.id} FROM ${run})`;
    const moved = db.$with('moved').as(
      db
        .update(tasks)
        .set({ ...shape.claimSet, currentRunId: runId })
        .where(shape.unclaimedIn)
        .returning({ id: tasks.id }),
    );
    const event = db.$with('event').as(
      db.insert(taskEvents).values({
        taskId: ph('taskId'),
        kind: ph('kind'),
        runId,
        // jsonb sorts the keys its own way; readers parse the payload, so only its content counts.
        payload: sql`(jsonb_build_object('run_id', ${runId}) || CAST(${ph('payload')} AS jsonb))::text`,
        createdAt: ph('startedAt'),
      }),
    );
    return db
      .with(run, moved, event)
      .select({ runId: run.id, moved: sql`(SELECT count(*) FROM ${moved})`.mapWith(Number) })
      .from(run)
      .prepare('kanban_open_claim');
  });
  /** An attempt's end in one statement: the task released and the run closed as CTEs of the event's insert. */
  const release = () =>
    db.$with('released').as(
      db
        .update(tasks)
        .set(RELEASE_SET)
        .where(eq(tasks.id, ph('id')))
        .returning({ id: tasks.id }),
    );
  const endAttempt = once(() => db.with(release()).insert(taskEvents).values(EVENT_INSERT).prepare('kanban_end'));
  const endAttemptAndRun = once(() => {
    const closed = db
      .$with('closed')
      .as(db.update(taskRuns).set(shape.closeRunSet).where(shape.openRun).returning({ id: taskRuns.id }));
    return db.with(release(), closed).insert(taskEvents).values(EVENT_INSERT).prepare('kanban_end_run');
  });

  const promotable = (only: SQL | undefined) => and(rules.promotable, only);
  // A promoted task resumes the lane it left: review when its newest move came from review.
  const promoted = { status: sql<Lane>`${rules.resumeStatus}` };
  const lane = { id: tasks.id, status: sql<Lane>`${tasks.status}` };
  const children = () =>
    db
      .select({ id: taskLinks.childId })
      .from(taskLinks)
      .where(eq(taskLinks.parentId, ph('parent')));
  /** Locks the children of `parent` in id order; the promotion's UPDATE runs after it, on a fresh snapshot. */
  const lockChildren = once(() =>
    db
      .select({ id: tasks.id })
      .from(tasks)
      .where(inArray(tasks.id, children()))
      .orderBy(asc(tasks.id))
      .for('update')
      .prepare('kanban_lock_children'),
  );
  const promoteChildren = once(() =>
    db
      .update(tasks)
      .set(promoted)
      .where(promotable(inArray(tasks.id, children())))
      .returning(lane)
      .prepare('kanban_promote_children'),
  );
  const lockOne = once(() =>
    db
      .select({ id: tasks.id })
      .from(tasks)
      .where(eq(tasks.id, ph('id')))
      .for('update')
      .prepare('kanban_lock_one'),
  );
  const promoteOne = once(() =>
    db
      .update(tasks)
      .set(promoted)
      .where(promotable(eq(tasks.id, ph('id'))))
      .returning(lane)
      .prepare('kanban_promote_one'),
  );
  /** Locks what looks promotable now, skipping rows other transactions are moving (their own pass or the next one promotes them). */
  const lockPromotable = once(() =>
    db
      .select({ id: tasks.id })
      .from(tasks)
      .where(promotable(undefined))
      .orderBy(asc(tasks.id))
      .for('update', { skipLocked: true })
      .prepare('kanban_lock_promotable'),
  );
  /** The pass over the rows `lockPromotable` locked only (`ids`, a text array), so it never waits on a skipped row. */
  const promoteLocked = once(() =>
    db
      .update(tasks)
      .set(promoted)
      .where(promotable(sql`${tasks.id} = ANY(${ph('ids')})`))
      .returning(lane)
      .prepare('kanban_promote_locked'),
  );
  const promoteAll = once(() =>
    db.update(tasks).set(promoted).where(promotable(undefined)).returning(lane).prepare('kanban_promote_all'),
  );
  const anyPromotable = once(() =>
    db.select({ id: tasks.id }).from(tasks).where(promotable(undefined)).limit(1).prepare('kanban_any_promotable'),
  );
  const renewTask = once(() =>
    db
      .update(tasks)
      .set(RENEW_SET)
      .where(eq(tasks.id, ph('id')))
      .prepare('kanban_renew_task'),
  );
  const renewRun = once(() =>
    db
      .update(taskRuns)
      .set(RENEW_SET)
      .where(eq(taskRuns.id, ph('runId')))
      .prepare('kanban_renew_run'),
  );
  const expired = once(() => {
    const query = db
      .select()
      .from(tasks)
      .where(shape.expired)
      // One order for every reaper, so two lock the same rows in the same order.
      .orderBy(asc(tasks.createdAt), asc(tasks.id))
      .$dynamic();
    return (locking ? query.for('update') : query).prepare(named('expired_claims'));
  });
  const subscription = once(() => {
    const query = db
      .select()
      .from(kanbanNotifySubs)
      .where(
        shape.subscriber({
          taskId: ph('taskId'),
          platform: ph('platform'),
          chatId: ph('chatId'),
          threadId: ph('threadId'),
        }),
      )
      .$dynamic();
    return (locking ? query.for('update') : query).prepare(named('subscription'));
  });
  const unassignedReady = and(eq(tasks.status, 'ready'), isNull(tasks.assignee));
  /** One statement per filter shape: how many statuses (or all, or live), assignee, tenant, limit. */
  const list = memoBy(
    (f: ListFilter) =>
      `s${f.statuses?.length ?? (f.includeArchived ? 'all' : 'live')}a${Number(f.assignee !== undefined)}` +
      `t${Number(f.tenant !== undefined)}l${Number(f.limit !== undefined)}`,
    (f: ListFilter, shape) => {
      const query = db
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
        .$dynamic();
      return (f.limit === undefined ? query : query.limit(ph('limit'))).prepare(`kanban_list_${shape}`);
    },
  );

  return {
    taskById: async (id) => (await byId().execute({ id }))[0],
    taskByIdempotencyKey: async (key) => {
      if (locking) await db.execute(advisoryLock(sql`':key:' || CAST(${key} AS text)`));
      return (await byKey().execute({ key }))[0];
    },
    taskStatuses: async (ids) =>
      db
        .select({ id: tasks.id, status: tasks.status })
        .from(tasks)
        .where(inArray(tasks.id, [...ids])),
    insertTask: async (row) => (await insertTask().execute(row))[0],
    updateTask: async (id, edit) => void (await db.update(tasks).set(edit).where(eq(tasks.id, id))),
    candidates: async (f, now, backoff, limit) => candidates(f).execute({ ...candidateValues(f, now, backoff), limit }),
    unfinishedParent: async (id) => (await waits().execute({ id }))[0]?.id ?? undefined,
    claimGatesOpen: async (id) => (await gatesOpen().execute({ id })).length > 0,
    reviewCandidate: async () => {
      const [row] = await reviewCandidate().execute();
      return row && { task: row.task, waits: row.waits };
    },
    demoteToTodo: async (id, from) => (await demote().execute({ id, from })).rowCount === 1,
    newestPayload: async (taskId, kind) => (await newestPayload().execute({ taskId, kind }))[0]?.payload,
    claimedFrom: async (runId) =>
      runId !== null && (await claimedEvent().execute({ runId }))[0]?.payload?.source_status === 'review'
        ? 'review'
        : 'ready',
    resumeLane: async (id) => (await resumeLane().execute({ id }))[0]?.lane ?? 'ready',
    insertEndedRun: async ({ outcome, endedAt, ...run }) => {
      const [row] = await db
        .insert(taskRuns)
        .values({ ...run, status: outcome, outcome, startedAt: endedAt, endedAt })
        .returning({ id: taskRuns.id });
      if (!row) throw new Error('INSERT INTO task_runs returned no id');
      return row.id;
    },
    runStartedAt: async (runId) =>
      (await db.select({ startedAt: taskRuns.startedAt }).from(taskRuns).where(eq(taskRuns.id, runId)))[0]?.startedAt,
    openClaim: async (opened) => {
      const { run, event } = opened;
      const [row] = await openClaim().execute({
        ...run,
        ...claimValues(opened),
        kind: event.kind,
        payload: JSON.stringify(event.payload),
      });
      return row?.moved === 1 ? row.runId : undefined;
    },
    endAttempt: async ({ task, run, event }) =>
      void (await (run
        ? endAttemptAndRun().execute({ ...released(task), ...runEnd(run), ...event })
        : endAttempt().execute({ ...released(task), ...event }))),
    insertEvent: async (event) => void (await insertEvent().execute(event)),
    promoteChildren: async (parent) => {
      // A task without children (most) costs one round trip, not two.
      if (locking && (await lockChildren().execute({ parent })).length === 0) return [];
      return promoteChildren().execute({ parent });
    },
    promoteOne: async (id) => {
      if (locking) await lockOne().execute({ id });
      return promoteOne().execute({ id });
    },
    promoteAll: async () => {
      if (!locking) return promoteAll().execute();
      const ids = (await lockPromotable().execute()).map(({ id }) => id);
      return ids.length ? promoteLocked().execute({ ids }) : [];
    },
    anyPromotable: async () => (await anyPromotable().execute()).length > 0,
    renew: async (values) => {
      await renewTask().execute(values);
      if (values.runId !== null) await renewRun().execute(values);
    },
    expiredClaims: async (now) => expired().execute({ now }),
    listTasks: async (f) =>
      list(f).execute({
        ...Object.fromEntries((f.statuses ?? []).map((s, i) => [`s${i}`, s])),
        assignee: f.assignee,
        tenant: f.tenant,
        limit: f.limit,
      }),
    unassignedReadyCount: async () => (await db.select({ n: count() }).from(tasks).where(unassignedReady))[0]?.n ?? 0,
    assignUnassignedReady: async (assignee) => {
      const rows = await db
        .update(tasks)
        .set({ assignee })
        .where(unassignedReady)
        .returning({ id: tasks.id, createdAt: tasks.createdAt });
      // RETURNING has no order; oldest first, as SQLite happens to give them, so their events follow age.
      rows.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return rows.map(({ id }) => id);
    },

    reaches: async (ancestor, descendant) => {
      // Serialises every cycle check with the link that follows it: two opposite links cannot both pass.
      if (locking) await db.execute(advisoryLock(sql`':links'`));
      const found = await db.execute<{ id: string }>(sql`
        WITH RECURSIVE below(id) AS (
          SELECT ${taskLinks.childId} FROM ${taskLinks} WHERE ${taskLinks.parentId} = ${ancestor}
          UNION SELECT l.child_id FROM ${taskLinks} l JOIN below b ON l.parent_id = b.id)
        SELECT id FROM below WHERE id = ${descendant} LIMIT 1`);
      return found.rows.length > 0;
    },
    insertLinks: async (links) =>
      (
        await db
          .insert(taskLinks)
          .values([...links])
          .onConflictDoNothing()
      ).rowCount ?? 0,
    deleteLink: async (parentId, childId) =>
      ((await db.delete(taskLinks).where(and(eq(taskLinks.parentId, parentId), eq(taskLinks.childId, childId))))
        .rowCount ?? 0) > 0,
    linkedTasks: async (id) => {
      const linked = (mine: PgColumn, theirs: PgColumn) =>
        db
          .select({ id: tasks.id, title: tasks.title, status: tasks.status })
          .from(taskLinks)
          .innerJoin(tasks, eq(tasks.id, theirs))
          .where(eq(mine, id))
          .orderBy(tasks.createdAt);
      return {
        parents: await linked(taskLinks.childId, taskLinks.parentId),
        children: await linked(taskLinks.parentId, taskLinks.childId),
      };
    },

    insertComment: async (row) => {
      const [comment] = await db.insert(taskComments).values(row).returning();
      if (!comment) throw new Error('INSERT INTO task_comments returned no row');
      return comment;
    },
    comments: async (taskId) =>
      db
        .select()
        .from(taskComments)
        .where(eq(taskComments.taskId, taskId))
        .orderBy(asc(taskComments.createdAt), asc(taskComments.id)),
    runs: async (taskId) => db.select().from(taskRuns).where(eq(taskRuns.taskId, taskId)).orderBy(asc(taskRuns.id)),
    events: async (filter) => {
      const query = db
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
        .$dynamic();
      return filter.limit === undefined ? query : query.limit(filter.limit);
    },
    lastEventId: async () => (await db.select({ id: max(taskEvents.id) }).from(taskEvents))[0]?.id ?? 0,
    statusCounts: async () => db.select({ status: tasks.status, n: count() }).from(tasks).groupBy(tasks.status),
    assigneeCounts: async () =>
      db
        .select({ assignee: tasks.assignee, n: count() })
        .from(tasks)
        .where(ne(tasks.status, 'archived'))
        .groupBy(tasks.assignee),

    upsertSubscription: async ({ routing, ...row }) => {
      const s = kanbanNotifySubs;
      // RETURNING gives the row as it stands after either branch, inserted or updated.
      const [sub] = await db
        .insert(s)
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
        .returning();
      if (!sub) throw new Error('subscription row missing right after its insert');
      return sub;
    },
    subscription: async (key) =>
      (
        await subscription().execute({
          taskId: key.taskId,
          platform: key.platform,
          chatId: key.chatId,
          threadId: key.threadId,
        })
      )[0],
    deleteSubscription: async (key) =>
      ((await db.delete(kanbanNotifySubs).where(shape.subscriber(key))).rowCount ?? 0) > 0,
    subscriptions: async (taskId) =>
      db
        .select()
        .from(kanbanNotifySubs)
        .where(taskId === undefined ? undefined : eq(kanbanNotifySubs.taskId, taskId))
        .orderBy(asc(kanbanNotifySubs.createdAt)),
    setCursor: async (key, eventId, expected) =>
      ((
        await db
          .update(kanbanNotifySubs)
          .set({ lastEventId: eventId })
          .where(
            and(shape.subscriber(key), expected === undefined ? undefined : eq(kanbanNotifySubs.lastEventId, expected)),
          )
      ).rowCount ?? 0) > 0,
    advanceCursor: async (key, eventId) =>
      void (await db
        .update(kanbanNotifySubs)
        .set({ lastEventId: sql`GREATEST(${kanbanNotifySubs.lastEventId}, ${eventId})` })
        .where(shape.subscriber(key))),
    inheritSubscriptions: async (childId, parentIds, now) => {
      const s = kanbanNotifySubs;
      const columns: PgColumn[] = [s.taskId, s.platform, s.chatId, s.threadId, s.userId, s.userIdAlt, s.chatType];
      columns.push(
        s.notifierProfile,
        s.deliveryMode,
        s.deliveryMetadata,
        s.createdAt,
        s.lastEventId,
        s.lastPingEventId,
      );
      const names = columns.map((column) => sql.identifier(column.name));
      // The bound values are typed: in a SELECT list PostgreSQL would take an untyped one for text.
      await db.execute(sql`INSERT INTO ${s} (${sql.join(names, sql`, `)})
        SELECT CAST(${childId} AS text), ${s.platform}, ${s.chatId}, ${s.threadId}, ${s.userId}, ${s.userIdAlt},
          COALESCE(${s.chatType}, 'dm'), ${s.notifierProfile}, COALESCE(${s.deliveryMode}, 'notify'),
          ${s.deliveryMetadata}, CAST(${now} AS bigint), ${shape.caughtUp(childId)}, 0
        FROM ${s} WHERE ${inArray(s.taskId, [...parentIds])}
        ON CONFLICT DO NOTHING`);
    },

    brokenDown: async () =>
      db
        .select({
          id: tasks.id,
          consecutiveFailures: tasks.consecutiveFailures,
          lastFailureError: tasks.lastFailureError,
        })
        .from(tasks)
        .where(rules.brokeDown(tasks)),
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
        ),
    orphanSubscriptions: async () =>
      db
        .select({
          taskId: kanbanNotifySubs.taskId,
          platform: kanbanNotifySubs.platform,
          chatId: kanbanNotifySubs.chatId,
          threadId: kanbanNotifySubs.threadId,
        })
        .from(kanbanNotifySubs)
        .where(notExists(db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, kanbanNotifySubs.taskId)))),
    archivedBefore: async (cutoff) => {
      const archivedAt = sql`COALESCE((SELECT MAX(${taskEvents.createdAt}) FROM ${taskEvents}
        WHERE ${taskEvents.taskId} = ${tasks.id} AND ${taskEvents.kind} = 'archived'), ${tasks.createdAt})`;
      return db
        .select({ id: tasks.id, recipe: recipeInstanceTasks.instanceId })
        .from(tasks)
        .leftJoin(recipeInstanceTasks, eq(recipeInstanceTasks.taskId, tasks.id))
        .where(and(eq(tasks.status, 'archived'), sql`${archivedAt} <= ${cutoff}`));
    },
    recipeOf: async (taskId) =>
      (
        await db
          .select({ id: recipeInstanceTasks.instanceId })
          .from(recipeInstanceTasks)
          .where(eq(recipeInstanceTasks.taskId, taskId))
      )[0]?.id,
    deleteTasks: async (all) => {
      // Bounded batches, as on SQLite: one statement binds at most 65,535 values.
      for (let i = 0; i < all.length; i += 500) {
        const ids = all.slice(i, i + 500);
        const remove = (table: PgTable, ...columns: PgColumn[]) =>
          db.delete(table).where(or(...columns.map((column) => inArray(column, ids))));
        await remove(taskRuns, taskRuns.taskId);
        await remove(taskEvents, taskEvents.taskId);
        await remove(taskComments, taskComments.taskId);
        await remove(kanbanNotifySubs, kanbanNotifySubs.taskId);
        await remove(taskAttachments, taskAttachments.taskId);
        await remove(taskLinks, taskLinks.parentId, taskLinks.childId);
        await remove(tasks, tasks.id);
      }
    },
  };
}
