import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_BOARD, listBoards, resolveHome } from '../boards';
import type { TaskEvent } from '../core/schema';
import { currentServerBoard, listServerBoards } from '../engines/postgres/boards';
import { isKanbanError } from '../errors';
import { isFileKanban, type Kanban, openKanban, type OpenKanbanOptions } from '../kanban';
import { DEFAULT_CLAIM_TTL_SECONDS, type Claim } from '../core/claims';
import { SILENT_KINDS } from '../core/notify';
import { DEFAULT_GRACE_MS, DEFAULT_MAX_WORKERS, DEFAULT_TICK_MS, RECORD_RETRY_MS } from './defaults';
import { tryDispatchLock, type DispatchLock } from './dispatch-lock';
import { startWorker, type RunningWorker, type WorkerOutcome } from './worker';

/** Where the notifier delivers events; a rejected promise leaves the cursor where it was, to retry. */
export type NotificationSink = (
  event: TaskEvent,
  subscriber: { platform: string; chatId: string; threadId: string },
) => Promise<void>;

export interface GatewayOptions {
  readonly home?: string;
  /** Board slugs to work; default: every board under the home, and boards created later. */
  readonly boards?: readonly string[];
  /** One database file instead of boards (as `--db` and KANBAN_DB). */
  readonly dbPath?: string;
  /**
   * A PostgreSQL server's URL instead of files: its boards (`boards`, else every board there) are
   * worked alongside any number of gateways on other hosts; no dispatch lock applies.
   */
  readonly url?: string;
  /** Shell command run for each claimed task. */
  readonly worker: string;
  /** Workers at once; default `DEFAULT_MAX_WORKERS`. */
  readonly maxWorkers?: number;
  /** Period of housekeeping and of looking for new work; default `DEFAULT_TICK_MS`. */
  readonly tickMs?: number;
  /** Lease of each claim; the dispatcher renews it for its running workers every third of it. */
  readonly claimTtlSeconds?: number;
  /** The dispatcher's breaker limit for tasks without max_retries. */
  readonly failureLimit?: number;
  /** How long workers may finish after the first stop; default `DEFAULT_GRACE_MS`. */
  readonly graceMs?: number;
  /** How long one call waits for another process's lock. */
  readonly busyTimeoutMs?: number;
  /** Seconds a failed task waits before its next attempt, doubling per failure in a row; 0 retries at once. */
  readonly retryBackoffSeconds?: number;
  /**
   * On a server, do not listen for wake-ups (`LISTEN`): poll at the tick only, as behind a
   * transaction-pooling proxy that drops notifications.
   */
  readonly pollOnly?: boolean;
  /** Ready tasks without an assignee are given to this worker instead of being skipped. */
  readonly defaultAssignee?: string;
  readonly sink: NotificationSink;
  readonly log?: (line: string) => void;
}

export interface Gateway {
  /** Resolves when both loops have stopped, every worker has ended and every outcome is recorded. */
  readonly done: Promise<void>;
  /**
   * The first call stops claiming and lets running workers finish within the grace period, then
   * kills their process groups; a second call kills them at once. Unfinished tasks are handed back.
   */
  stop(): Promise<void>;
  /** Workers running now. */
  running(): number;
}

/** One board the gateway works: the dispatcher's and the notifier's handles, replaced when reopened. */
interface Board {
  readonly slug: string | undefined;
  /** The slug, or the file when the gateway works one file. */
  readonly name: string;
  /** What workers get as KANBAN_DB (and KANBAN_BOARD on a server): the file, or the server's URL. */
  readonly db: string;
  /** The file whose dispatch lock one dispatcher at a time holds; none on a server. */
  readonly lockPath: string | undefined;
  dispatch: Kanban;
  notify: Kanban;
  /** A damaged connection: reopened on the next tick. */
  broken: boolean;
  /** The loops that said it is damaged and have not worked it since: each says so once, and once when it works again. */
  readonly said: Set<string>;
}
/** A running worker's claim, which the dispatcher renews; `lost` once the board says another attempt holds the task. */
interface Lease {
  readonly board: Board;
  readonly claim: Claim;
  readonly worker: RunningWorker;
  renewedAt: number;
  lost: boolean;
}
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const firstLine = (text: string) => text.trim().split('\n')[0] ?? '';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Boots the way the original gateway does: the dispatcher and the notifier start together and
 * each opens every board at the same moment. `openKanban` runs `ensureMigrated` as the boot step,
 * so the simultaneous first open migrates once instead of racing.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const home = resolveHome(options.home);
  const connection: OpenKanbanOptions = {
    ...(options.busyTimeoutMs !== undefined && { busyTimeoutMs: options.busyTimeoutMs }),
    ...(options.retryBackoffSeconds !== undefined && { retryBackoff: { baseSeconds: options.retryBackoffSeconds } }),
  };
  const { url } = options;
  const open = (slug: string | undefined): Promise<Kanban> => {
    if (url) return openKanban({ url, board: slug, ...connection });
    return openKanban({ ...(options.dbPath ? { dbPath: options.dbPath } : { home, board: slug }), ...connection });
  };
  /** The dispatcher's and the notifier's handles of one board, opened at the same moment, as the original boots. */
  const openBoard = async (slug: string | undefined): Promise<Board> => {
    const opened = await Promise.allSettled([open(slug), open(slug)]);
    const [dispatch, notify] = opened.map((o) => (o.status === 'fulfilled' ? o.value : undefined));
    if (!dispatch || !notify) {
      // One handle opened and the other did not: give the first back before failing.
      dispatch?.close();
      notify?.close();
      throw opened.find((o) => o.status === 'rejected')?.reason;
    }
    const file = isFileKanban(dispatch) ? dispatch.path : undefined;
    return {
      slug,
      name: dispatch.board ?? dispatch.location,
      db: url ?? file ?? dispatch.location,
      lockPath: file,
      dispatch,
      notify,
      broken: false,
      said: new Set<string>(),
    };
  };
  const discover = async () => {
    if (options.dbPath || options.boards) return [];
    const found = url ? await listServerBoards(url) : listBoards(home, { includeArchived: false });
    return found.map((b) => b.slug);
  };
  const slugs = options.dbPath ? [undefined] : (options.boards ?? (await discover()));
  const first = url ? await currentServerBoard(url) : DEFAULT_BOARD;
  const boards = await Promise.all((slugs.length ? slugs : [first]).map(openBoard));
  log(`gateway: working ${boards.map((b) => `${b.slug ?? 'file'} (${b.dispatch.location})`).join(', ')}`);

  const stopping = new AbortController();
  let killing = false;
  const maxWorkers = options.maxWorkers ?? DEFAULT_MAX_WORKERS;
  const ttlSeconds = options.claimTtlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS;
  const claimNext = { assignedOnly: true, ttlSeconds };
  const slots = new Set<Promise<void>>();
  // Running workers, so the dispatcher can renew their leases and stop them.
  const running = new Map<string, Lease>();
  const unassigned = new Map<Board, number>();
  const locks = new Map<Board, DispatchLock>();

  /**
   * After `CORRUPT` or `IO_ERROR` the connection may keep failing although the file is sound again
   * (another program repaired or replaced it): the board's handles are closed and opened afresh on
   * the next tick (and every tick after, until it works), said once when it breaks and once when
   * it works again.
   */
  function broke(board: Board, error: unknown, loop = 'recording'): boolean {
    if (!isKanbanError(error, 'CORRUPT') && !isKanbanError(error, 'IO_ERROR')) return false;
    if (!board.said.has(loop)) {
      log(`gateway: ${board.name}: ${message(error)}; reopening its connection on the next tick`);
    }
    board.broken = true;
    board.said.add(loop);
    return true;
  }

  async function reopen(board: Board): Promise<void> {
    if (!board.broken) return;
    board.dispatch.close();
    board.notify.close();
    const fresh = await openBoard(board.slug);
    Object.assign(board, { dispatch: fresh.dispatch, notify: fresh.notify, broken: false });
    unwatch.get(board)?.();
    watch(board);
  }

  function worked(board: Board, loop: string): void {
    if (board.said.delete(loop)) log(`gateway: ${board.name}: reopened; working it again`);
  }

  /** Aborted to cut the dispatcher's wait short: a task may have become claimable. */
  let nudged = new AbortController();
  const unwatch = new Map<Board, () => void>();
  /** Wakes the dispatcher when the board says a task may be claimable (on a server; files never say). */
  function watch(board: Board): void {
    if (!options.pollOnly)
      unwatch.set(
        board,
        board.dispatch.watchReady(() => nudged.abort()),
      );
  }
  for (const board of boards) watch(board);

  async function loop(name: string, tick: (board: Board) => Promise<void>, wakes = false): Promise<void> {
    while (!stopping.signal.aborted) {
      for (const board of boards) {
        await reopen(board)
          .then(() => tick(board))
          .then(() => worked(board, name))
          .catch(
            (error: unknown) =>
              broke(board, error, name) || log(`${name}: tick on ${board.name} failed: ${message(error)}`),
          );
      }
      const signal = wakes ? AbortSignal.any([stopping.signal, nudged.signal]) : stopping.signal;
      await sleep(options.tickMs ?? DEFAULT_TICK_MS, undefined, { signal }).catch(() => undefined);
      if (wakes && nudged.signal.aborted) nudged = new AbortController();
    }
  }

  /**
   * Writes until it lands: another process holding the file's lock (or a row's) only delays an
   * outcome, a damaged connection is reopened (a handle closed by that reopen is retried on the new
   * one), and a server's lost connection is tried again on a new one; none drops it, since a
   * dropped outcome would leave the task running until its lease ends.
   * Once the gateway stops, a board that stays damaged is given up: its lease hands the task back.
   */
  async function persist<T>(what: string, board: Board, write: (kb: Kanban) => Promise<T>): Promise<T> {
    for (let said = false; ; said = true) {
      try {
        await reopen(board);
        return await write(board.dispatch);
      } catch (error) {
        if (isKanbanError(error, 'CLOSED') || (broke(board, error) && !stopping.signal.aborted)) {
          await sleep(RECORD_RETRY_MS);
          continue;
        }
        if (isKanbanError(error, 'CONNECTION_LOST') || isKanbanError(error, 'CANNOT_OPEN')) {
          if (!said) log(`gateway: ${what}: ${message(error)}; retrying until the server answers`);
          await sleep(RECORD_RETRY_MS);
          continue;
        }
        if (!isKanbanError(error, 'BUSY')) throw error;
        if (!said) log(`gateway: ${what}: the board is locked by another process; retrying until it is free`);
        await sleep(RECORD_RETRY_MS);
      }
    }
  }

  /**
   * One worker slot: runs a claimed task, records how it ended and, in the same commit as a
   * completion, claims the board's next task, so a slot is refilled the moment its worker exits.
   */
  async function slot(board: Board, first: Claim): Promise<void> {
    for (let claim: Claim | undefined = first; claim; ) {
      const current: Claim = claim;
      const worker = startWorker(options.worker, current.task, current.runId, board.db, url ? board.slug : undefined);
      running.set(current.task.id, { board, claim: current, worker, renewedAt: Date.now(), lost: false });
      if (killing) worker.signal('SIGKILL');
      const outcome = await worker.outcome;
      claim = await persist(`recording the end of ${current.task.id}`, board, (kb) =>
        settle(kb, current, outcome, mayDispatch(board)),
      )
        .catch(
          (error: unknown) => void log(`gateway: recording the end of ${current.task.id} failed: ${message(error)}`),
        )
        .finally(() => running.delete(current.task.id));
    }
  }

  /** Records a worker's outcome; returns the next task claimed for the same slot, if any. */
  async function settle(kb: Kanban, claim: Claim, outcome: WorkerOutcome, refill: boolean): Promise<Claim | undefined> {
    const { task, runId } = claim;
    const where = `${task.id} (run ${runId}, ${seconds(outcome.ms)})`;
    refill &&= !stopping.signal.aborted;
    try {
      return await record(kb, claim, outcome, where, refill);
    } catch (error) {
      // A worker may move its own task before it exits (request a review, block it, complete it):
      // its run is then no longer the task's, and there is nothing left to record.
      if (!isKanbanError(error, 'STALE_RUN') && !isKanbanError(error, 'INVALID_TRANSITION')) throw error;
      const now = await kb.findTask(task.id);
      if (now?.currentRunId === runId && outcome.kind === 'completed') {
        // Still ours but not completable: a parent was linked (or reopened) while it ran. It waits
        // for that parent in todo and runs again, rather than staying running until its lease ends.
        const reason = `finished while a parent was unfinished (${error.message}); it runs again once its parents are done`;
        await kb.blockTask(task.id, { runId, reason, kind: 'dependency' });
        log(`gateway: ${where} finished, but a parent is unfinished: waiting in todo to run again`);
        return refill ? kb.claimNextTask(claimNext) : undefined;
      }
      if (now?.currentRunId === runId) throw error;
      const ours = (await kb.listRuns(task.id)).find((run) => run.id === runId);
      log(
        ours?.outcome === 'reclaimed'
          ? `gateway: ${where} ended after its lease ran out and the task was handed back; its late outcome is refused (${error.code}: ${error.message})`
          : `gateway: ${where} ended after its worker moved the task (now ${now?.status ?? 'gone'})`,
      );
      return refill ? kb.claimNextTask(claimNext) : undefined;
    }
  }

  async function record(
    kb: Kanban,
    { task, runId }: Claim,
    outcome: WorkerOutcome,
    where: string,
    refill: boolean,
  ): Promise<Claim | undefined> {
    if (outcome.kind === 'completed') {
      const next = !refill
        ? void (await kb.completeTask(task.id, { runId, result: outcome.output }))
        : (await kb.completeAndClaimNext(task.id, { runId, result: outcome.output, claimNext })).next;
      log(`gateway: ${where} completed`);
      return next;
    }
    if (outcome.kind === 'stopped') {
      // Stopped by us, not failed: hand the task back rather than count it against the worker.
      await kb.reclaimTask(task.id, { reason: 'gateway stopping', runId });
      log(`gateway: ${where} stopped and handed back`);
      return undefined;
    }
    const failure = await kb.recordFailure(task.id, {
      runId,
      error: outcome.error,
      outcome: outcome.kind,
      limit: options.failureLimit,
    });
    const breaker = failure.gaveUp
      ? `gave up after ${failure.failures} failures`
      : `failure ${failure.failures} of ${failure.limit}`;
    log(`gateway: ${where} ${outcome.kind}, ${breaker}: ${firstLine(outcome.error)}`);
    return refill ? kb.claimNextTask(claimNext) : undefined;
  }

  /** Whether this gateway dispatches the board: it holds the board's dispatch lock, or no such lock can exist there. */
  function mayDispatch(board: Board): boolean {
    return locks.get(board)?.state !== 'contended';
  }

  /** Takes the board's dispatch lock if it is free, and keeps it until the gateway stops. */
  async function lockBoard(board: Board): Promise<boolean> {
    // On a server many dispatchers are the point: claims skip each other's rows instead.
    if (board.lockPath === undefined) return true;
    const before = locks.get(board);
    if (before && before.state !== 'contended') return true;
    const now = await tryDispatchLock(board.lockPath);
    locks.set(board, now);
    const { name } = board;
    if (now.state === 'contended' && !before)
      log(
        `gateway: another dispatcher holds ${name}'s dispatch lock (${board.lockPath}.dispatch.lock); not dispatching it until that lock is free`,
      );
    if (now.state === 'held' && before) log(`gateway: ${name}'s dispatch lock is free again; dispatching it`);
    if (now.state === 'unavailable')
      log(`gateway: cannot use ${name}'s dispatch lock (${now.reason}); dispatching without it`);
    return now.state !== 'contended';
  }

  async function dispatch(board: Board): Promise<void> {
    const kb = board.dispatch;
    for (const lease of running.values())
      if (lease.board === board && !lease.lost && Date.now() - lease.renewedAt >= (ttlSeconds * 1000) / 3)
        await renew(kb, lease);
    if (stopping.signal.aborted || !(await lockBoard(board))) return;
    await kb.releaseStaleClaims();
    await kb.promoteReady();
    if (options.defaultAssignee) await kb.assignUnassigned(options.defaultAssignee);
    else await reportUnassigned(board);
    // Ready tasks first, then review tasks, as the original's dispatcher: one cap for both. The free
    // slots take their ready tasks in one claim, one commit.
    const free = maxWorkers - slots.size;
    if (free > 0 && !stopping.signal.aborted)
      for (const claim of await kb.claimNextTasks(free, claimNext)) fill(board, claim);
    while (slots.size < maxWorkers && !stopping.signal.aborted) {
      const claim = await kb.claimReviewTask({ ttlSeconds });
      if (!claim) break;
      fill(board, claim);
    }
  }

  /**
   * Extends a running worker's lease. A lease the board no longer honours (it ran out while this
   * host could not reach the board, and another gateway took the task, or the task was moved) is
   * lost: its worker is stopped, since the task is another attempt's now, and its outcome will be
   * refused as `STALE_RUN`.
   */
  async function renew(kb: Kanban, lease: Lease): Promise<void> {
    const { task, runId } = lease.claim;
    try {
      await kb.heartbeat(task.id, { runId, ttlSeconds });
      lease.renewedAt = Date.now();
    } catch (error) {
      if (!isKanbanError(error, 'STALE_RUN') && !isKanbanError(error, 'INVALID_TRANSITION')) throw error;
      lease.lost = true;
      lease.worker.signal('SIGTERM');
      log(`gateway: lost the lease of ${task.id} (run ${runId}): ${message(error)}; stopping its worker`);
    }
  }

  /** A new worker slot for a claimed task. */
  function fill(board: Board, claim: Claim): void {
    const busy: Promise<void> = slot(board, claim).finally(() => slots.delete(busy));
    slots.add(busy);
  }

  /** Says when the number of ready tasks the gateway will not run, for want of an assignee, changes. */
  async function reportUnassigned(board: Board): Promise<void> {
    const count = await board.dispatch.countUnassignedReady();
    if (count === (unassigned.get(board) ?? 0)) return;
    unassigned.set(board, count);
    const what = `${count} ready task${count === 1 ? '' : 's'}`;
    log(
      `gateway: ${what} on ${board.name} ha${count === 1 ? 's' : 've'} no assignee and will not run (\`kanban assign <id> <profile>\`, or --default-assignee)`,
    );
  }

  /** Boards created after the start are worked too, when the gateway works every board. */
  async function adoptNewBoards(): Promise<void> {
    const known = new Set(boards.map((b) => b.slug));
    for (const slug of (await discover()).filter((s) => !known.has(s))) {
      const board = await openBoard(slug);
      boards.push(board);
      watch(board);
      log(`gateway: now working board ${slug}`);
    }
  }

  /**
   * Claims each subscriber's new events before sending them, as the original does, so any number
   * of notifiers deliver each event once; a failed send gives the whole claimed range back. A
   * subscription ends when its task is archived (or gone), as the upstream's notifier ends it.
   */
  async function notify(board: Board): Promise<void> {
    const kb = board.notify;
    for (const sub of await kb.listSubscriptions()) {
      const claimed = await kb.claimUnseenEvents(sub);
      try {
        for (const event of claimed?.events ?? [])
          if (!SILENT_KINDS.includes(event.kind)) await options.sink(event, sub);
      } catch (error) {
        if (claimed) await kb.rewindCursor(sub, claimed);
        throw error;
      }
      const task = await kb.findTask(sub.taskId);
      if (!task || task.status === 'archived') await kb.unsubscribe(sub);
    }
  }

  const dispatcher = loop(
    'dispatcher',
    async (board) => {
      if (board === boards[0]) await adoptNewBoards();
      await dispatch(board);
    },
    true,
  );
  const done = Promise.all([dispatcher, loop('notifier', notify)]).then(async () => {
    await Promise.all(slots);
    // One last delivery pass, so events of workers that finished during the stop are not held back.
    for (const board of boards) await notify(board).catch(() => undefined);
    for (const stop of unwatch.values()) stop();
    for (const board of boards) {
      board.dispatch.close();
      board.notify.close();
    }
    for (const lock of locks.values()) if (lock.state === 'held') lock.release();
  });

  function killAll(): void {
    killing = true;
    for (const { worker } of running.values()) worker.signal('SIGKILL');
  }

  return {
    done,
    running: () => slots.size,
    async stop() {
      if (stopping.signal.aborted) killAll();
      else {
        stopping.abort();
        if (running.size > 0) {
          log(
            `gateway: stopping; waiting up to ${seconds(options.graceMs ?? DEFAULT_GRACE_MS)} for ${[...running.keys()].join(', ')} (signal again to stop them now)`,
          );
        }
        const grace = setTimeout(killAll, options.graceMs ?? DEFAULT_GRACE_MS);
        void done.finally(() => clearTimeout(grace));
      }
      await done;
    },
  };
}
