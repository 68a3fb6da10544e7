import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_BOARD, listBoards, resolveHome } from '../boards';
import { and, count as sqlCount, eq, isNull } from 'drizzle-orm';
import { tasks, type TaskEvent } from '../db/schema';
import { isKanbanError } from '../errors';
import { openKanban, type Kanban, type OpenKanbanOptions } from '../kanban';
import { DEFAULT_CLAIM_TTL_SECONDS, type Claim } from '../repo/claims';
import { SILENT_KINDS } from '../repo/notify';
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

const TERMINAL = new Set(['done', 'archived']);
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
  const open = (board?: string): Promise<Kanban> => {
    const target: OpenKanbanOptions = options.dbPath
      ? { dbPath: options.dbPath }
      : { home, board: board ?? DEFAULT_BOARD };
    return openKanban({ ...target, ...connection });
  };
  const discover = () =>
    options.dbPath || options.boards ? [] : listBoards(home, { includeArchived: false }).map((b) => b.slug);
  const slugs = options.dbPath ? [undefined] : (options.boards ?? discover());
  const openAll = () => Promise.all((slugs.length ? slugs : [DEFAULT_BOARD]).map(open));
  const [dispatchBoards, notifyBoards] = await Promise.all([openAll(), openAll()]);
  log(`gateway: working ${dispatchBoards.map((kb) => `${kb.board ?? 'file'} (${kb.path})`).join(', ')}`);

  const stopping = new AbortController();
  let killing = false;
  const maxWorkers = options.maxWorkers ?? DEFAULT_MAX_WORKERS;
  const ttlSeconds = options.claimTtlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS;
  const claimNext = { assignedOnly: true, ttlSeconds };
  const slots = new Set<Promise<void>>();
  // Running workers, so the dispatcher can renew their leases and stop them.
  const running = new Map<string, { kb: Kanban; claim: Claim; worker: RunningWorker; renewedAt: number }>();
  const unassigned = new Map<Kanban, number>();
  const locks = new Map<Kanban, DispatchLock>();

  async function loop(name: string, boards: Kanban[], tick: (kb: Kanban) => Promise<void>): Promise<void> {
    while (!stopping.signal.aborted) {
      for (const kb of boards)
        await tick(kb).catch((error: unknown) =>
          log(`${name}: tick on ${kb.board ?? kb.path} failed: ${message(error)}`),
        );
      await sleep(options.tickMs ?? DEFAULT_TICK_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  /**
   * Writes until it lands: another process holding the file's lock only delays an outcome, it
   * never drops it, since a dropped outcome would leave the task running until its lease ends.
   */
  async function persist<T>(what: string, write: () => Promise<T>): Promise<T> {
    for (let said = false; ; said = true) {
      try {
        return await write();
      } catch (error) {
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
  async function slot(kb: Kanban, first: Claim): Promise<void> {
    for (let claim: Claim | undefined = first; claim; ) {
      const current: Claim = claim;
      const worker = startWorker(options.worker, current.task, current.runId, kb.path);
      running.set(current.task.id, { kb, claim: current, worker, renewedAt: Date.now() });
      if (killing) worker.signal('SIGKILL');
      const outcome = await worker.outcome;
      claim = await persist(`recording the end of ${current.task.id}`, () =>
        settle(kb, current, outcome, mayDispatch(kb)),
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
    if (outcome.kind === 'completed') {
      const next = !refill
        ? void (await kb.completeTask(task.id, { runId, result: outcome.output }))
        : (await kb.completeAndClaimNext(task.id, { runId, result: outcome.output, claimNext })).next;
      log(`gateway: ${where} completed`);
      return next;
    }
    if (outcome.kind === 'stopped') {
      // Stopped by us, not failed: hand the task back rather than count it against the worker.
      await kb.reclaimTask(task.id);
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
  function mayDispatch(kb: Kanban): boolean {
    return locks.get(kb)?.state !== 'contended';
  }

  /** Takes the board's dispatch lock if it is free, and keeps it until the gateway stops. */
  async function lockBoard(kb: Kanban): Promise<boolean> {
    const before = locks.get(kb);
    if (before && before.state !== 'contended') return true;
    const now = await tryDispatchLock(kb.path);
    locks.set(kb, now);
    const name = kb.board ?? kb.path;
    if (now.state === 'contended' && !before)
      log(
        `gateway: another dispatcher holds ${name}'s dispatch lock (${kb.path}.dispatch.lock); not dispatching it until that lock is free`,
      );
    if (now.state === 'held' && before) log(`gateway: ${name}'s dispatch lock is free again; dispatching it`);
    if (now.state === 'unavailable')
      log(`gateway: cannot use ${name}'s dispatch lock (${now.reason}); dispatching without it`);
    return now.state !== 'contended';
  }

  async function dispatch(kb: Kanban): Promise<void> {
    for (const [taskId, lease] of running) {
      if (lease.kb !== kb || Date.now() - lease.renewedAt < (ttlSeconds * 1000) / 3) continue;
      await kb.heartbeat(taskId, { runId: lease.claim.runId, ttlSeconds });
      lease.renewedAt = Date.now();
    }
    if (stopping.signal.aborted || !(await lockBoard(kb))) return;
    await kb.releaseStaleClaims();
    await kb.promoteReady();
    if (options.defaultAssignee) await kb.assignUnassigned(options.defaultAssignee);
    else await reportUnassigned(kb);
    // Ready tasks first, then review tasks, as the newest original's dispatcher: one cap for both.
    for (const next of [() => kb.claimNextTask(claimNext), () => kb.claimReviewTask({ ttlSeconds })]) {
      while (slots.size < maxWorkers && !stopping.signal.aborted) {
        const claim = await next();
        if (!claim) break;
        const busy: Promise<void> = slot(kb, claim).finally(() => slots.delete(busy));
        slots.add(busy);
      }
    }
  }

  /** Says when the number of ready tasks the gateway will not run, for want of an assignee, changes. */
  async function reportUnassigned(kb: Kanban): Promise<void> {
    const count =
      kb.db
        .select({ n: sqlCount() })
        .from(tasks)
        .where(and(eq(tasks.status, 'ready'), isNull(tasks.assignee)))
        .get()?.n ?? 0;
    if (count === (unassigned.get(kb) ?? 0)) return;
    unassigned.set(kb, count);
    log(
      `gateway: ${count} ready task${count === 1 ? '' : 's'} on ${kb.board ?? kb.path} ha${count === 1 ? 's' : 've'} no assignee and will not run (\`kanban assign\` one)`,
    );
  }

  /** Boards created after the start are worked too, when the gateway works every board. */
  async function adoptNewBoards(): Promise<void> {
    const known = new Set(dispatchBoards.map((kb) => kb.board));
    for (const slug of discover().filter((s) => !known.has(s))) {
      dispatchBoards.push(await open(slug));
      notifyBoards.push(await open(slug));
      log(`gateway: now working board ${slug}`);
    }
  }

  /**
   * Claims each subscriber's new events before sending them, as the newest original does, so any
   * number of notifiers deliver each event once; a failed send gives the whole claimed range back.
   */
  async function notify(kb: Kanban): Promise<void> {
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
      if (!task || TERMINAL.has(task.status)) await kb.unsubscribe(sub);
    }
  }

  const dispatcher = loop('dispatcher', dispatchBoards, async (kb) => {
    if (kb === dispatchBoards[0]) await adoptNewBoards();
    await dispatch(kb);
  });
  const done = Promise.all([dispatcher, loop('notifier', notifyBoards, notify)]).then(async () => {
    await Promise.all(slots);
    // One last delivery pass, so events of workers that finished during the stop are not held back.
    for (const kb of notifyBoards) await notify(kb).catch(() => undefined);
    for (const kb of [...dispatchBoards, ...notifyBoards]) kb.close();
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
