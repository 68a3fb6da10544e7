/**
 * The storage port: every read and write the rules ask of a board, declared once. An engine
 * (SQLite file, PostgreSQL server) implements `Store` with its own statements and runs each rule
 * in one transaction through `Engine`; the rules never see SQL, a connection or a dialect.
 */
import type {
  Comment,
  NewTask,
  NotifySubscription,
  Run,
  RunOutcome,
  RunStatus,
  Task,
  TaskEvent,
  TaskStatus,
} from './schema';
import type { DeliveryMode, Lane, RetryBackoff } from './model';

export interface CandidateFilter {
  readonly assignee?: string | undefined;
  readonly tenant?: string | undefined;
  readonly assignedOnly?: boolean | undefined;
}

export interface ListFilter {
  readonly statuses?: readonly TaskStatus[] | undefined;
  readonly includeArchived: boolean;
  readonly assignee?: string | undefined;
  readonly tenant?: string | undefined;
  readonly limit?: number | undefined;
}

export interface EventFilter {
  readonly taskId?: string | undefined;
  readonly afterId?: number | undefined;
  readonly kinds?: readonly string[] | undefined;
  readonly limit?: number | undefined;
}

/** The columns written when an attempt ends or a task changes status; everything else stays. */
export type TaskRelease = Pick<
  Task,
  | 'id'
  | 'status'
  | 'completedAt'
  | 'result'
  | 'consecutiveFailures'
  | 'lastFailureError'
  | 'blockKind'
  | 'blockRecurrences'
  | 'assignee'
>;

/** The columns a person's edits and assignments change. */
export type TaskEdit = Partial<
  Pick<
    Task,
    | 'title'
    | 'body'
    | 'priority'
    | 'status'
    | 'assignee'
    | 'consecutiveFailures'
    | 'lastFailureError'
    | 'modelOverride'
    | 'providerOverride'
    | 'reasoningEffort'
  >
>;

/** A task promoted, and the lane it landed in. */
export interface Promotion {
  readonly id: string;
  readonly status: Lane;
}

export type RunEnd = {
  readonly runId: number;
  readonly status: RunStatus;
  readonly outcome: RunOutcome;
  readonly endedAt: number;
  readonly summary: string | null;
  readonly error: string | null;
  /** Kept when null: a worker's own metadata is not wiped by the move that ends its run. */
  readonly metadata?: Record<string, unknown> | null;
};

export type NewRun = {
  readonly taskId: string;
  readonly profile: string | null;
  readonly stepKey: string | null;
  readonly claimLock: string;
  readonly claimExpires: number;
  readonly maxRuntimeSeconds: number | null;
  readonly startedAt: number;
};

/** What a claim writes: see `Store.openClaim`. */
export interface OpenClaim {
  readonly run: NewRun;
  readonly from: TaskStatus;
  readonly event: { readonly kind: string; readonly payload: Record<string, unknown> };
}

/** What the end of an attempt writes: see `Store.endAttempt`. */
export interface AttemptWrite {
  readonly task: TaskRelease;
  readonly run: RunEnd | undefined;
  readonly event: NewEvent;
}

/** A run that started and ended at once, whose status is its outcome. */
export type EndedRun = {
  readonly taskId: string;
  readonly profile: string | null;
  readonly stepKey: string | null;
  readonly outcome: RunOutcome;
  readonly endedAt: number;
  readonly summary: string | null;
  readonly error: string | null;
  readonly metadata: Record<string, unknown> | null;
};

export type NewEvent = {
  readonly taskId: string;
  readonly kind: string;
  readonly runId: number | null;
  readonly payload: Record<string, unknown> | null;
  readonly createdAt: number;
};

/** The columns `createTask` writes; the rest take the schema's defaults. */
export type TaskInsert = Required<
  Pick<
    NewTask,
    | 'id'
    | 'title'
    | 'body'
    | 'assignee'
    | 'status'
    | 'priority'
    | 'createdBy'
    | 'createdAt'
    | 'workspaceKind'
    | 'workspacePath'
    | 'tenant'
    | 'idempotencyKey'
    | 'maxRuntimeSeconds'
    | 'skills'
    | 'maxRetries'
    | 'modelOverride'
    | 'providerOverride'
    | 'reasoningEffort'
  >
>;

/** One subscriber of one task: the key of `kanban_notify_subs`. */
export interface SubscriberKey {
  readonly taskId: string;
  readonly platform: string;
  readonly chatId: string;
  readonly threadId: string;
}

/** A new subscription; on an existing one the cursor stays and `routing` follows `add_notify_sub`. */
export interface NewSubscription extends SubscriberKey {
  readonly userId: string | null;
  readonly userIdAlt: string | null;
  readonly notifierProfile: string | null;
  readonly chatType: string;
  readonly deliveryMode: DeliveryMode;
  readonly createdAt: number;
  /** What a second subscribe replaces: given values win, null keeps the old. */
  readonly routing: { readonly chatType: string | null; readonly deliveryMode: DeliveryMode | null };
}

export interface LinkedTask {
  readonly id: string;
  readonly title: string;
  readonly status: TaskStatus;
}

/** A dependency whose child waits on a parent that is missing (status null) or stopped by the breaker. */
export interface TroubledLink {
  readonly child: string;
  readonly parent: string;
  readonly parentStatus: TaskStatus | null;
}

/**
 * Every operation a rule may ask of the board, inside the engine's transaction (or read). Each
 * engine writes these as its own statements; their meaning is the same on both.
 */
export interface Store {
  taskById(id: string): Promise<Task | undefined>;
  taskByIdempotencyKey(key: string): Promise<Task | undefined>;
  /** The statuses of those of `ids` that exist. */
  taskStatuses(ids: readonly string[]): Promise<{ id: string; status: TaskStatus }[]>;
  /** Inserts a task unless its id is taken; undefined then. */
  insertTask(row: TaskInsert): Promise<Task | undefined>;
  /** Writes the given columns of one task. */
  updateTask(id: string, edit: TaskEdit): Promise<void>;
  /**
   * The next `limit` ready, unclaimed tasks in claim order whose retry wait is over and whose gates
   * are open, each with whether it waits for an unfinished parent. On a server they are locked, and
   * rows other claimers hold are skipped.
   */
  candidates(
    filter: CandidateFilter,
    now: number,
    backoff: RetryBackoff,
    limit: number,
  ): Promise<{ task: Task; waits: boolean }[]>;
  /** A parent that is neither done nor archived, if any. */
  unfinishedParent(id: string): Promise<string | undefined>;
  /** Whether the original's claim gates (plan audit, budget) let the task be claimed. */
  claimGatesOpen(id: string): Promise<boolean>;
  /** The next unclaimed review task whose budget is not spent, and whether it waits for an unfinished parent. */
  reviewCandidate(): Promise<{ task: Task; waits: boolean } | undefined>;
  /** An unclaimed task in `from` drops to todo; false when it was not. */
  demoteToTodo(id: string, from: TaskStatus): Promise<boolean>;
  /** The payload of the task's newest event of `kind`; undefined when it has none (null for an empty one). */
  newestPayload(taskId: string, kind: string): Promise<Record<string, unknown> | null | undefined>;
  /** The lane a run was claimed from (upstream `_retry_status_for_run`): review for a reviewer's run. */
  claimedFrom(runId: number | null): Promise<Lane>;
  /** The lane the task resumes when promoted or unblocked. */
  resumeLane(id: string): Promise<Lane>;
  /** Inserts a zero-length run and returns its id. */
  insertEndedRun(run: EndedRun): Promise<number>;
  /** When the run started; undefined for no such run. */
  runStartedAt(runId: number): Promise<number | undefined>;
  /**
   * A claim, written as one: opens `run`, moves its task to running under it (a compare-and-set:
   * the task must still be unclaimed in `from`) and appends the claim's event, whose payload gains
   * the run's id as `run_id`. The run's id; undefined when the compare-and-set failed, and then the
   * caller must roll its transaction back.
   */
  openClaim(claim: OpenClaim): Promise<number | undefined>;
  /** An attempt's end, written as one: the task's new columns with its claim cleared, its open run closed (if any), its event. */
  endAttempt(end: AttemptWrite): Promise<void>;
  insertEvent(event: NewEvent): Promise<void>;
  /** Promotes the children of `parent` whose parents are all finished. */
  promoteChildren(parent: string): Promise<Promotion[]>;
  /** Promotes one task if its parents are all finished. */
  promoteOne(id: string): Promise<Promotion[]>;
  /** The promotion pass over the whole board. */
  promoteAll(): Promise<Promotion[]>;
  anyPromotable(): Promise<boolean>;
  /** Extends a lease on the task and its run. */
  renew(values: { id: string; runId: number | null; expires: number; now: number }): Promise<void>;
  /** Running tasks whose lease ended before `now`. */
  expiredClaims(now: number): Promise<Task[]>;
  listTasks(filter: ListFilter): Promise<Task[]>;
  /** Ready tasks without an assignee. */
  unassignedReadyCount(): Promise<number>;
  /** Gives every ready task without an assignee to `assignee`; returns their ids. */
  assignUnassignedReady(assignee: string): Promise<string[]>;

  /** True when `descendant` can be reached from `ancestor` by following child links. */
  reaches(ancestor: string, descendant: string): Promise<boolean>;
  /** Adds links; returns how many were new. */
  insertLinks(links: readonly { parentId: string; childId: string }[]): Promise<number>;
  deleteLink(parentId: string, childId: string): Promise<boolean>;
  linkedTasks(id: string): Promise<{ parents: LinkedTask[]; children: LinkedTask[] }>;

  insertComment(row: { taskId: string; author: string; body: string; createdAt: number }): Promise<Comment>;
  comments(taskId: string): Promise<Comment[]>;
  runs(taskId: string): Promise<Run[]>;
  events(filter: EventFilter): Promise<TaskEvent[]>;
  lastEventId(): Promise<number>;
  statusCounts(): Promise<{ status: TaskStatus; n: number }[]>;
  /** Non-archived tasks per assignee. */
  assigneeCounts(): Promise<{ assignee: string | null; n: number }[]>;

  /** Inserts a subscription starting past the task's events so far, or updates its routing. */
  upsertSubscription(row: NewSubscription): Promise<NotifySubscription>;
  subscription(key: SubscriberKey): Promise<NotifySubscription | undefined>;
  deleteSubscription(key: SubscriberKey): Promise<boolean>;
  subscriptions(taskId: string | undefined): Promise<NotifySubscription[]>;
  /** Sets the cursor; with `expected`, only if it stands there. */
  setCursor(key: SubscriberKey, eventId: number, expected?: number): Promise<boolean>;
  /** Moves the cursor forward to `eventId`, never back. */
  advanceCursor(key: SubscriberKey, eventId: number): Promise<void>;
  /** Copies the parents' subscribers to the child, caught up to its events; existing ones stay. */
  inheritSubscriptions(childId: string, parentIds: readonly string[], now: number): Promise<void>;

  /** Blocked tasks the breaker stopped. */
  brokenDown(): Promise<Pick<Task, 'id' | 'consecutiveFailures' | 'lastFailureError'>[]>;
  /** Links whose waiting child has a missing parent or one the breaker stopped. */
  troubledLinks(): Promise<TroubledLink[]>;
  /** Subscriptions to tasks not on the board. */
  orphanSubscriptions(): Promise<SubscriberKey[]>;
  /** Archived tasks archived (else created) at or before `cutoff`, with the recipe instance naming each, if any. */
  archivedBefore(cutoff: number): Promise<{ id: string; recipe: string | null }[]>;
  /** The recipe instance that names the task, if any. */
  recipeOf(taskId: string): Promise<string | undefined>;
  /** Deletes tasks with their runs, events, comments, links, subscriptions and attachment rows. */
  deleteTasks(ids: readonly string[]): Promise<void>;
}

/** How an engine runs the rules: one transaction per call, retried whole where the engine must. */
export interface Engine {
  /** The board for messages: a file path, or a server and board (never a password). */
  readonly where: string;
  /** Runs `fn` as one write transaction; a throw rolls it back whole. */
  write<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  /** Runs reads; on a server, one snapshot. */
  read<T>(fn: (store: Store) => Promise<T>): Promise<T>;
}
