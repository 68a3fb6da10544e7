import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { DEFAULT_BOARD, boardExists, resolveDbPath, writeBoardMeta } from './boards';
import { openClient, type ConnectionOptions } from './db/connect';
import { epochSeconds } from './clock';
import { migrateOnce, type MigrationReport } from './db/migrate';
import { fileEntry } from './db/registry';
import * as schema from './db/schema';
import { preparedReads, type RepoContext } from './repo/context';
import * as activity from './repo/activity';
import * as claims from './repo/claims';
import * as failures from './repo/failures';
import * as links from './repo/links';
import * as moves from './repo/moves';
import * as notify from './repo/notify';
import * as taskOps from './repo/tasks';
import { newTaskId } from './repo/tasks';
import type {
  BlockOptions,
  ClaimNextOptions,
  ClaimOptions,
  CommentInput,
  CompleteOptions,
  CreateTaskInput,
  EventsFilter,
  FailureInput,
  HeartbeatOptions,
  ListTasksFilter,
  SubscriptionInput,
  SubscriptionKey,
} from './repo/input';

export interface OpenKanbanOptions extends ConnectionOptions {
  /** Board slug; default: KANBAN_BOARD, then `<home>/kanban/current`, then `default`. */
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
}

export type Kanban = ReturnType<typeof repository>;

/**
 * Opens a board: resolves its file, creates the board's folder if needed, brings the file to the
 * current schema (once per process), and returns the repository. Call `close()` when done.
 */
export async function openKanban(options: OpenKanbanOptions = {}): Promise<Kanban> {
  const { path, board, home } = resolveDbPath(options);
  const now = options.now ?? epochSeconds;
  if (board === DEFAULT_BOARD) mkdirSync(dirname(path), { recursive: true });
  else if (board !== undefined && !boardExists(home, board)) writeBoardMeta(home, board, {}, now());
  const entry = fileEntry(path);
  // One client for the boot step and the repository: a second connection would cost a boot its own open.
  const client = openClient(entry.file.url, options);
  const migration = await migrateOnce(entry, options, client).catch((error: unknown) => {
    client.close();
    throw error;
  });
  const db = drizzle(client);
  const ctx: RepoContext = {
    db,
    reads: preparedReads(db),
    lock: entry.lock,
    path: entry.file.key,
    now,
    claimer: options.claimer ?? `${hostname()}:${process.pid}`,
    newTaskId: options.newTaskId ?? newTaskId,
  };
  let withSchema: LibSQLDatabase<typeof schema> | undefined;
  const schemaDb = () => (withSchema ??= drizzle(client, { schema }));
  return repository(ctx, board, migration, schemaDb, () => client.close());
}

function repository(ctx: RepoContext, board: string | undefined, migration: MigrationReport, schemaDb: () => LibSQLDatabase<typeof schema>, close: () => void) {
  return {
    /** The database file, absolute. */
    path: ctx.path,
    /** The board slug, or undefined when opened by file. */
    board,
    migration,
    /**
     * The Drizzle database with the schema (relational queries too), for reads this API does not
     * have; made on first use. Writes should go through the methods.
     */
    get db() {
      return schemaDb();
    },
    close,
    createTask: (input: CreateTaskInput) => taskOps.createTask(ctx, input),
    findTask: (id: string) => taskOps.findTask(ctx, id),
    getTask: (id: string) => taskOps.getTask(ctx, id),
    listTasks: (filter?: ListTasksFilter) => taskOps.listTasks(ctx, filter),
    assignTask: (id: string, assignee: string | null) => taskOps.assignTask(ctx, id, assignee),
    linkTasks: (parentId: string, childId: string) => links.linkTasks(ctx, parentId, childId),
    unlinkTasks: (parentId: string, childId: string) => links.unlinkTasks(ctx, parentId, childId),
    claimTask: (id: string, opts?: ClaimOptions) => claims.claimTask(ctx, id, opts),
    claimNextTask: (opts?: ClaimNextOptions) => claims.claimNextTask(ctx, opts),
    heartbeat: (id: string, opts?: HeartbeatOptions) => claims.heartbeat(ctx, id, opts),
    releaseStaleClaims: () => claims.releaseStaleClaims(ctx),
    completeTask: (id: string, opts?: CompleteOptions) => moves.completeTask(ctx, id, opts),
    blockTask: (id: string, opts: BlockOptions) => moves.blockTask(ctx, id, opts),
    unblockTask: (id: string) => moves.unblockTask(ctx, id),
    archiveTask: (id: string) => moves.archiveTask(ctx, id),
    reclaimTask: (id: string) => moves.reclaimTask(ctx, id),
    promoteReady: () => moves.promoteReady(ctx),
    recordFailure: (id: string, input: FailureInput) => failures.recordFailure(ctx, id, input),
    addComment: (id: string, input: CommentInput) => activity.addComment(ctx, id, input),
    listComments: (id: string) => activity.listComments(ctx, id),
    listRuns: (id: string) => activity.listRuns(ctx, id),
    listEvents: (filter?: EventsFilter) => activity.listEvents(ctx, filter),
    stats: () => activity.stats(ctx),
    subscribe: (input: SubscriptionInput) => notify.subscribe(ctx, input),
    unsubscribe: (key: SubscriptionKey) => notify.unsubscribe(ctx, key),
    listSubscriptions: (taskId?: string) => notify.listSubscriptions(ctx, taskId),
    unseenEvents: (key: SubscriptionKey, kinds?: readonly string[]) => notify.unseenEvents(ctx, key, kinds),
    advanceCursor: (key: SubscriptionKey, eventId: number) => notify.advanceCursor(ctx, key, eventId),
  };
}
