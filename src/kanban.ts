import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { DEFAULT_BOARD, boardExists, makeFolder, normalizeSlug, resolveDbPath, writeBoardMeta } from './boards';
import { epochSeconds } from './clock';
import { KanbanError } from './errors';
import { busyTimeout, type ConnectionOptions } from './engines/sqlite/connect';
import type { Engine } from './core/port';
import { pgEngine } from './engines/postgres/engine';
import { ensurePgMigrated, type PgMigrationReport } from './engines/postgres/migrate';
import { acquireBoardPool } from './engines/postgres/registry';
import type { SchemaDb } from './engines/sqlite/engine';
import { migrateOnce, type MigrationReport } from './engines/sqlite/migrate';
import { acquireEngine, fileEntry, releaseEngine } from './engines/sqlite/registry';
import type { Comment, NotifySubscription, Run, Task, TaskEvent } from './core/schema';
import * as activity from './core/activity';
import type { BoardStats } from './core/activity';
import * as claims from './core/claims';
import { DEFAULT_RETRY_BACKOFF } from './core/claims';
import type { RetryBackoff } from './core/model';
import type { Claim } from './core/claims';
import type { RepoContext } from './core/context';
import * as failures from './core/failures';
import * as flows from './core/flow';
import type { Flow, FlowOptions } from './core/flow';
import type { FailureResult } from './core/failures';
import type {
  BlockOptions,
  ClaimNextOptions,
  ClaimOptions,
  CommentInput,
  CompleteAndClaimOptions,
  CompleteOptions,
  TaskCompletion,
  CreateTaskInput,
  EditTaskInput,
  EventsFilter,
  FailureInput,
  HeartbeatOptions,
  ListTasksFilter,
  ModelOverride,
  PromoteOptions,
  ReclaimOptions,
  ReopenReviewOptions,
  RequestChangesOptions,
  RequestReviewOptions,
  ScheduleOptions,
  UnblockOptions,
  SubscriptionInput,
  SubscriptionKey,
} from './core/input';
import * as links from './core/links';
import type { LinkedTask } from './core/links';
import * as moves from './core/moves';
import type { CompleteAndClaimResult } from './core/moves';
import * as notify from './core/notify';
import * as health from './core/health';
import type { Diagnostic, PurgeOptions, PurgeResult } from './core/health';
import * as review from './core/review';
import type { ClaimedEvents } from './core/notify';
import * as taskOps from './core/tasks';

export interface OpenKanbanOptions extends ConnectionOptions {
  /**
   * A PostgreSQL server's `postgres://` (or `postgresql://`) URL: the board is a schema of that
   * database (`kanban_<board>`), made and migrated on first use. Without it, the board is a file.
   */
  readonly url?: string;
  /** Board slug; default: KANBAN_BOARD, then `<home>/kanban/current` (on a server: `default`), then `default`. */
  readonly board?: string;
  /** Root folder; default: KANBAN_HOME, then HERMES_KANBAN_HOME, then `~/.kanban`. */
  readonly home?: string;
  /** One database file, overriding any board (as KANBAN_DB does). Its folder must exist. */
  readonly dbPath?: string;
  /** Epoch seconds; pass a fake clock in tests instead of sleeping. */
  readonly now?: () => number;
  /** Written into `claim_lock`; default `host:pid`. */
  readonly claimer?: string;
  /** New task ids; default `t_` + 8 random hex digits, as the original program makes them. For tests and replays. */
  readonly newTaskId?: () => string;
  /**
   * How long a failed task waits before `claimNextTask` (and so the gateway) picks it again:
   * `min(maxSeconds, baseSeconds × 2^(failures-1))` after its last attempt ended. Default
   * `DEFAULT_RETRY_BACKOFF` (30 s doubling up to 15 min); `{ baseSeconds: 0 }` retries at once, as
   * the original does. `claimTask(id)` names its task and does not wait.
   */
  readonly retryBackoff?: { readonly baseSeconds: number; readonly maxSeconds?: number };
}

/**
 * A board: its tasks, their dependencies, attempts, comments, event log and notification cursors,
 * whatever engine keeps it. Every write is one transaction; a refused call (a `KanbanError`)
 * writes nothing. What only a file has is on `FileKanban`.
 */
export interface Kanban {
  /** The board slug, or undefined when opened by file. */
  readonly board: string | undefined;
  /** Where the board is kept, for people: its file, or its board and server (never a password). */
  readonly location: string;
  /** Gives back this handle's use of the connection; the last handle of a file closes it. Later calls are `CLOSED`. */
  close(): void;
  /**
   * Calls `listener` when a task may have become claimable (created, promoted, unblocked, handed
   * back, assigned), by any process on any host, so an idle dispatcher need not wait for its next
   * poll; returns the function that stops it. On a server this is `LISTEN`/`NOTIFY` on the board's
   * channel (a listening connection that reconnects on its own, and calls once when it does); a
   * file has no such channel, and it never calls: poll.
   */
  watchReady(listener: () => void): () => void;

  /** Creates a task: `triage` if asked, else `ready` when every parent is done, else `todo`. */
  createTask(input: CreateTaskInput): Promise<Task>;
  /** The task, or undefined when there is none with this id. */
  findTask(id: string): Promise<Task | undefined>;
  /** The task; `NOT_FOUND` when there is none with this id. */
  getTask(id: string): Promise<Task>;
  /** Tasks by priority (highest first), then age; archived ones only when asked for. */
  listTasks(filter?: ListTasksFilter): Promise<Task[]>;
  /** Gives the task to another worker (or none); a new assignee starts with a clean failure counter. */
  assignTask(id: string, assignee: string | null): Promise<Task>;
  /**
   * Edits title, body, priority, assignee, model (with provider) and reasoning effort in one commit,
   * each by its own rule; `NOT_FOUND`, `INVALID_INPUT` naming the field, or a refusal, and then nothing is written.
   */
  editTask(id: string, edit: EditTaskInput): Promise<Task>;
  /** Ready tasks without an assignee: the ones a dispatcher that claims only assigned tasks leaves. */
  countUnassignedReady(): Promise<number>;
  /** Gives every ready task without an assignee to `assignee` (the gateway's `--default-assignee`); returns their ids. */
  assignUnassigned(assignee: string): Promise<string[]>;
  /** Sets (or with a null model clears) the model and provider a worker runs the task with; not on archived tasks. */
  setModelOverride(id: string, override: ModelOverride): Promise<Task>;
  /** Sets the reasoning effort (`none`, `minimal` … `ultra`; null inherits the profile's); not on archived tasks. */
  setReasoningEffort(id: string, effort: string | null): Promise<Task>;
  /** Makes `childId` wait for `parentId`; `CYCLE` for a self-link or a cycle. */
  linkTasks(parentId: string, childId: string): Promise<void>;
  /** Removes a dependency; the child becomes ready when its remaining parents are done. */
  unlinkTasks(parentId: string, childId: string): Promise<void>;

  /**
   * Claims this task if it is ready and unclaimed and the original's claim gates (plan audit,
   * budget) let it run; undefined otherwise.
   */
  claimTask(id: string, options?: ClaimOptions): Promise<Claim | undefined>;
  /**
   * Claims the next ready task in priority order, optionally one worker's, skipping tasks in their
   * retry wait or held by a claim gate; undefined when none can run.
   */
  claimNextTask(options?: ClaimNextOptions): Promise<Claim | undefined>;
  /**
   * Claims up to `count` next tasks as `claimNextTask` would, one after another, in one
   * transaction (one commit); an empty list when none can run.
   */
  claimNextTasks(count: number, options?: ClaimNextOptions): Promise<Claim[]>;
  /**
   * Claims the next `review` task for a reviewer (the budget gate holds); a candidate whose parent
   * is unfinished drops to `todo` instead. Undefined when none.
   */
  claimReviewTask(options?: ClaimOptions): Promise<Claim | undefined>;
  /** Extends a running task's lease; `STALE_RUN` when `runId` is no longer its attempt. */
  heartbeat(id: string, options?: HeartbeatOptions): Promise<Task>;
  /** Running tasks whose lease ran out go back to `ready` (not a failure); returns their ids. */
  releaseStaleClaims(): Promise<string[]>;
  /**
   * `running`, `ready`, `blocked` or `review` (a person approving it) → `done`, once every parent is
   * done or archived; children whose parents are now all finished become ready (or return to review).
   */
  completeTask(id: string, options?: CompleteOptions): Promise<Task>;
  /**
   * Completes several tasks in one transaction, one commit for all: completions that arrive
   * together are written together. All or nothing: one refused (`STALE_RUN`,
   * `INVALID_TRANSITION`, `NOT_FOUND`) refuses the call and writes nothing.
   */
  completeTasks(completions: readonly TaskCompletion[]): Promise<Task[]>;
  /**
   * Completes a task and claims the next one matching `claimNext` in one commit, so a busy worker
   * pays one fsync per task; when either half is refused, neither is written.
   */
  completeAndClaimNext(id: string, options?: CompleteAndClaimOptions): Promise<CompleteAndClaimResult>;
  /**
   * `running` or `ready` → blocked with a reason and an optional kind: `dependency` waits in
   * `todo`; the same other kind twice in a row sends the task to `triage` (`block_recurrences`).
   */
  blockTask(id: string, options: BlockOptions): Promise<Task>;
  /**
   * `blocked` or `scheduled` → `ready` (`review` for a task blocked in review), or `todo` while a
   * parent is unfinished; the failure counter is reset.
   */
  unblockTask(id: string, options?: UnblockOptions): Promise<Task>;
  /** `todo`, `ready`, `running` or `blocked` → `scheduled`, parked until `unblockTask`; the reason says until when. */
  scheduleTask(id: string, options?: ScheduleOptions): Promise<Task>;
  /** Any status → `archived`; an open run is closed as reclaimed. */
  archiveTask(id: string): Promise<Task>;
  /**
   * Deletes a task with its runs, events, comments and subscriptions; a `deleted` event remains.
   * `REFERENCED` while a link or a recipe ties it to something else; `INVALID_TRANSITION` while it runs.
   */
  deleteTask(id: string): Promise<void>;
  /**
   * An operator hands a running task back: `ready` again (a reviewer's: `review`), failure counter
   * reset; with `assignee`, given to that worker in the same commit.
   */
  reclaimTask(id: string, options?: ReclaimOptions): Promise<Task>;
  /**
   * The promotion pass: every `todo` task, and every blocked one whose block is neither sticky nor
   * the breaker's, whose parents are all finished becomes `ready` (or `review`); returns their ids.
   */
  promoteReady(): Promise<string[]>;
  /** A person promotes a `todo` or `blocked` task to `ready` once its parents are finished; `dryRun` checks only. */
  promoteTask(id: string, options?: PromoteOptions): Promise<Task>;
  /**
   * `running` or `ready` → `review`, assigned to the reviewer; a running task's worker names its
   * run (or the call forces it). Refused while a parent is unfinished.
   */
  requestReview(id: string, options?: RequestReviewOptions): Promise<Task>;
  /** A reviewer's run sends the task back to its implementer (`ready`, or `todo`), with the reason. */
  requestChanges(id: string, options: RequestChangesOptions): Promise<Task>;
  /** `review` → back to its implementer (`ready`, or `todo`); a reason is added as a comment. */
  reopenReview(id: string, options?: ReopenReviewOptions): Promise<Task>;
  /** What is wrong with the board: expired leases, breaker blocks, parents that cannot finish, subscriptions that cannot be delivered. */
  diagnostics(): Promise<Diagnostic[]>;
  /** The last days' cumulative flow (created, started, done by each day's end) and lead and cycle times per assignee, from the event log. */
  flow(options?: FlowOptions): Promise<Flow>;
  /**
   * Deletes archived tasks archived more than `olderThanDays` ago with their runs, events, comments,
   * links, subscriptions and attachment rows; a task a recipe names is kept and reported.
   */
  purgeArchived(options: PurgeOptions): Promise<PurgeResult>;
  /** The breaker: counts a failed attempt, and blocks the task at its limit. */
  recordFailure(id: string, input: FailureInput): Promise<FailureResult>;

  /** Adds a comment to a task. */
  addComment(id: string, input: CommentInput): Promise<Comment>;
  /** A task's comments, oldest first. */
  listComments(id: string): Promise<Comment[]>;
  /** A task's attempts, oldest first. */
  listRuns(id: string): Promise<Run[]>;
  /** The event log in order, optionally filtered. */
  listEvents(filter?: EventsFilter): Promise<TaskEvent[]>;
  /** The id of the board's newest event (0 for none): where a reader of new events starts. */
  lastEventId(): Promise<number>;
  /** The task's parents and children, each with its title and status. */
  listLinks(id: string): Promise<{ parents: LinkedTask[]; children: LinkedTask[] }>;
  /** Counts per status and per assignee. */
  stats(): Promise<BoardStats>;

  /**
   * Subscribes a chat to a task's events from now on (chat type, delivery mode and routing as the
   * upstream's `add_notify_sub`); subscribing again keeps the cursor.
   */
  subscribe(input: SubscriptionInput): Promise<NotifySubscription>;
  /** Removes a subscription; false when there was none. */
  unsubscribe(key: SubscriptionKey): Promise<boolean>;
  /** Subscriptions, optionally one task's. */
  listSubscriptions(taskId?: string): Promise<NotifySubscription[]>;
  /** The subscriber's undelivered events of the notified kinds, oldest first. */
  unseenEvents(key: SubscriptionKey, kinds?: readonly string[]): Promise<TaskEvent[]>;
  /** Moves the subscriber's cursor forward to `eventId` (never back). */
  advanceCursor(key: SubscriptionKey, eventId: number): Promise<void>;
  /**
   * Claims the subscriber's unseen events by moving its cursor past them in one write, before
   * anything is sent, so several notifiers never deliver an event twice; undefined when none.
   */
  claimUnseenEvents(key: SubscriptionKey, kinds?: readonly string[]): Promise<ClaimedEvents | undefined>;
  /** After a failed send: moves the cursor back to `claimed.from` if it still stands at `claimed.to`. */
  rewindCursor(key: SubscriptionKey, claimed: Pick<ClaimedEvents, 'from' | 'to'>): Promise<boolean>;
}

/** A board kept in an SQLite file: every write is one `BEGIN IMMEDIATE` transaction. */
export interface FileKanban extends Kanban {
  /** The database file, absolute. */
  readonly path: string;
  /** What the boot step did to the file. */
  readonly migration: MigrationReport;
  /**
   * The Drizzle database with the schema (relational queries too) on this board's connection, for
   * reads the interface does not have; built on first use. Writes should go through the methods.
   */
  readonly db: SchemaDb;
}

/** The options of a board in a file: no server URL. */
export type OpenFileOptions = OpenKanbanOptions & { readonly url?: undefined };

/** A board kept on a PostgreSQL server: every write is one transaction holding the rows it relies on. */
export interface ServerKanban extends Kanban {
  /** The server and database, without credentials. */
  readonly server: string;
  /** What the boot step did to the board's schema. */
  readonly migration: PgMigrationReport;
}

/** Whether the board is kept in a file (it has a path and a Drizzle database). */
export function isFileKanban(kb: Kanban): kb is FileKanban {
  return 'path' in kb && 'db' in kb;
}

/** Whether a `--db` value or `KANBAN_DB` names a PostgreSQL server rather than a file. */
export function isServerUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/**
 * Opens a board: on a server when `url` is given, else in its file. Creates the board if needed,
 * brings it to the current schema (once per process), and returns the repository. Call `close()`
 * when done.
 */
export function openKanban(options: OpenKanbanOptions & { readonly url: string }): Promise<ServerKanban>;
export function openKanban(options?: OpenFileOptions): Promise<FileKanban>;
export function openKanban(options: OpenKanbanOptions): Promise<FileKanban | ServerKanban>;
export function openKanban(options: OpenKanbanOptions = {}): Promise<FileKanban | ServerKanban> {
  return options.url === undefined ? openFileKanban(options) : openServerKanban(options.url, options);
}

async function openServerKanban(url: string, options: OpenKanbanOptions): Promise<ServerKanban> {
  const board = normalizeSlug(options.board ?? process.env.KANBAN_BOARD);
  const backoff = retryBackoff(options.retryBackoff);
  const migration = await ensurePgMigrated(url, board);
  const { board: pool, release } = acquireBoardPool(url, board, busyTimeout(options));
  let open = true;
  const ctx = context(pgEngine(pool), options, backoff, () => open);
  const watches = new Set<() => void>();
  const close = () => {
    for (const unwatch of watches) unwatch();
    if (open) release();
    open = false;
  };
  const watchReady = (listener: () => void) => {
    const unwatch = pool.listen(listener);
    watches.add(unwatch);
    return () => {
      watches.delete(unwatch);
      unwatch();
    };
  };
  return { ...repository(ctx, board, close), watchReady, server: migration.server, migration };
}

function context(
  engine: Engine,
  options: OpenKanbanOptions,
  backoff: RetryBackoff,
  isOpen: () => boolean,
): RepoContext {
  return {
    engine,
    now: options.now ?? epochSeconds,
    claimer: options.claimer ?? `${hostname()}:${process.pid}`,
    newTaskId: options.newTaskId ?? taskOps.newTaskId,
    retryBackoff: backoff,
    isOpen,
  };
}

async function openFileKanban(options: OpenKanbanOptions): Promise<FileKanban> {
  const { path, board, home } = resolveDbPath(options);
  const now = options.now ?? epochSeconds;
  if (board === DEFAULT_BOARD) makeFolder(dirname(path));
  else if (board !== undefined && !boardExists(home, board)) writeBoardMeta(home, board, {}, now());
  const entry = fileEntry(path);
  // One connection per file per process, shared by every handle and by the boot step.
  const engine = acquireEngine(entry, options);
  let open = true;
  const close = () => {
    if (open) releaseEngine(entry, engine);
    open = false;
  };
  try {
    const migration = await migrateOnce(entry, engine, options);
    const ctx = context(engine.board(options), options, retryBackoff(options.retryBackoff), () => open);
    return {
      ...repository(ctx, board, close),
      watchReady: () => () => undefined,
      path: engine.path,
      migration,
      get db() {
        return engine.schemaDb();
      },
    };
  } catch (error) {
    close();
    throw error;
  }
}

function retryBackoff(given: OpenKanbanOptions['retryBackoff']): RetryBackoff {
  if (!given) return DEFAULT_RETRY_BACKOFF;
  const backoff = { baseSeconds: given.baseSeconds, maxSeconds: given.maxSeconds ?? DEFAULT_RETRY_BACKOFF.maxSeconds };
  if (!Object.values(backoff).every((n) => Number.isInteger(n) && n >= 0)) {
    throw new KanbanError(
      'INVALID_INPUT',
      `retryBackoff: baseSeconds and maxSeconds must be whole numbers of seconds, 0 or more (got ${JSON.stringify(given)})`,
    );
  }
  return backoff;
}

/** The board's methods over any engine: each parses its input and runs one rule. */
function repository(ctx: RepoContext, board: string | undefined, close: () => void): Omit<Kanban, 'watchReady'> {
  return {
    board,
    location: ctx.engine.where,
    close,
    createTask: (input) => taskOps.createTask(ctx, input),
    findTask: (id) => taskOps.findTask(ctx, id),
    getTask: (id) => taskOps.getTask(ctx, id),
    listTasks: (filter) => taskOps.listTasks(ctx, filter),
    assignTask: (id, assignee) => taskOps.assignTask(ctx, id, assignee),
    countUnassignedReady: () => taskOps.countUnassignedReady(ctx),
    assignUnassigned: (assignee) => taskOps.assignUnassigned(ctx, assignee),
    editTask: (id, edit) => taskOps.editTask(ctx, id, edit),
    setModelOverride: (id, override) => taskOps.setModelOverride(ctx, id, override),
    setReasoningEffort: (id, effort) => taskOps.setReasoningEffort(ctx, id, effort),
    linkTasks: (parentId, childId) => links.linkTasks(ctx, parentId, childId),
    unlinkTasks: (parentId, childId) => links.unlinkTasks(ctx, parentId, childId),
    claimTask: (id, opts) => claims.claimTask(ctx, id, opts),
    claimNextTask: (opts) => claims.claimNextTask(ctx, opts),
    claimNextTasks: (count, opts) => claims.claimNextTasks(ctx, count, opts),
    claimReviewTask: (opts) => claims.claimReviewTask(ctx, opts),
    heartbeat: (id, opts) => claims.heartbeat(ctx, id, opts),
    releaseStaleClaims: () => claims.releaseStaleClaims(ctx),
    completeTask: (id, opts) => moves.completeTask(ctx, id, opts),
    completeTasks: (completions) => moves.completeTasks(ctx, completions),
    completeAndClaimNext: (id, opts) => moves.completeAndClaimNext(ctx, id, opts),
    blockTask: (id, opts) => moves.blockTask(ctx, id, opts),
    unblockTask: (id, opts) => moves.unblockTask(ctx, id, opts),
    scheduleTask: (id, opts) => moves.scheduleTask(ctx, id, opts),
    archiveTask: (id) => moves.archiveTask(ctx, id),
    deleteTask: (id) => moves.deleteTask(ctx, id),
    reclaimTask: (id, opts) => moves.reclaimTask(ctx, id, opts),
    promoteReady: () => moves.promoteReady(ctx),
    promoteTask: (id, opts) => moves.promoteTask(ctx, id, opts),
    requestReview: (id, opts) => review.requestReview(ctx, id, opts),
    requestChanges: (id, opts) => review.requestChanges(ctx, id, opts),
    reopenReview: (id, opts) => review.reopenReview(ctx, id, opts),
    diagnostics: () => health.diagnostics(ctx),
    flow: (options) => flows.flow(ctx, options),
    purgeArchived: (opts) => health.purgeArchived(ctx, opts),
    recordFailure: (id, input) => failures.recordFailure(ctx, id, input),
    addComment: (id, input) => activity.addComment(ctx, id, input),
    listComments: (id) => activity.listComments(ctx, id),
    listRuns: (id) => activity.listRuns(ctx, id),
    listEvents: (filter) => activity.listEvents(ctx, filter),
    lastEventId: () => activity.lastEventId(ctx),
    listLinks: (id) => links.listLinks(ctx, id),
    stats: () => activity.stats(ctx),
    subscribe: (input) => notify.subscribe(ctx, input),
    unsubscribe: (key) => notify.unsubscribe(ctx, key),
    listSubscriptions: (taskId) => notify.listSubscriptions(ctx, taskId),
    unseenEvents: (key, kinds) => notify.unseenEvents(ctx, key, kinds),
    advanceCursor: (key, eventId) => notify.advanceCursor(ctx, key, eventId),
    claimUnseenEvents: (key, kinds) => notify.claimUnseenEvents(ctx, key, kinds),
    rewindCursor: (key, claimed) => notify.rewindCursor(ctx, key, claimed),
  };
}
