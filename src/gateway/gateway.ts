import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_BOARD, listBoards, resolveHome } from '../boards';
import type { TaskEvent } from '../db/schema';
import { openKanban, type Kanban } from '../kanban';
import { DEFAULT_CLAIM_TTL_SECONDS, type Claim } from '../repo/claims';
import { DEFAULT_MAX_WORKERS, DEFAULT_TICK_MS } from './defaults';
import { runWorker, type WorkerOutcome } from './worker';

/** Where the notifier delivers events; a rejected promise leaves the cursor where it was, to retry. */
export type NotificationSink = (event: TaskEvent, subscriber: { platform: string; chatId: string; threadId: string }) => Promise<void>;

export interface GatewayOptions {
  readonly home?: string;
  /** Board slugs to work; default: every board under the home. */
  readonly boards?: readonly string[];
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
  readonly sink: NotificationSink;
  readonly log?: (line: string) => void;
}

export interface Gateway {
  /** Resolves when both loops have stopped. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
  /** Workers running now. */
  running(): number;
}

const TERMINAL = new Set(['done', 'archived']);
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Boots the way the original gateway does: the dispatcher and the notifier start together and
 * each opens every board at the same moment. `openKanban` runs `ensureMigrated` as the boot step,
 * so the simultaneous first open migrates once instead of racing.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const home = resolveHome(options.home);
  const slugs = options.boards ?? listBoards(home, { includeArchived: false }).map((b) => b.slug);
  const openAll = () => Promise.all((slugs.length ? slugs : [DEFAULT_BOARD]).map((board) => openKanban({ home, board })));
  const [dispatchBoards, notifyBoards] = await Promise.all([openAll(), openAll()]);
  const stopping = new AbortController();
  const maxWorkers = options.maxWorkers ?? DEFAULT_MAX_WORKERS;
  const ttlSeconds = options.claimTtlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS;
  const claimNext = { assignedOnly: true, ttlSeconds };
  const slots = new Set<Promise<void>>();
  // Running workers, so the dispatcher can renew their leases before they expire.
  const leases = new Map<string, { kb: Kanban; runId: number; renewedAt: number }>();

  async function loop(name: string, boards: Kanban[], tick: (kb: Kanban) => Promise<void>): Promise<void> {
    while (!stopping.signal.aborted) {
      for (const kb of boards) await tick(kb).catch((error: unknown) => log(`${name}: tick on ${kb.board ?? kb.path} failed: ${message(error)}`));
      await sleep(options.tickMs ?? DEFAULT_TICK_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  /**
   * One worker slot: runs a claimed task, records how it ended and, in the same commit as a
   * completion, claims the board's next task, so a slot is refilled the moment its worker exits.
   */
  async function slot(kb: Kanban, first: Claim): Promise<void> {
    for (let claim: Claim | undefined = first; claim; ) {
      leases.set(claim.task.id, { kb, runId: claim.runId, renewedAt: Date.now() });
      const outcome = await runWorker(options.worker, claim.task, claim.runId, kb.path, stopping.signal);
      leases.delete(claim.task.id);
      claim = await settle(kb, claim, outcome).catch((error: unknown) => {
        log(`dispatcher: recording the end of ${claim?.task.id} failed: ${message(error)}`);
        return undefined;
      });
    }
  }

  /** Records a worker's outcome; returns the next task claimed for the same slot, if any. */
  async function settle(kb: Kanban, claim: Claim, outcome: WorkerOutcome): Promise<Claim | undefined> {
    const id = claim.task.id;
    const { runId } = claim;
    if (outcome.kind === 'completed') {
      if (stopping.signal.aborted) return void (await kb.completeTask(id, { runId, result: outcome.output }));
      return (await kb.completeAndClaimNext(id, { runId, result: outcome.output, claimNext })).next;
    }
    // Stopped by us, not failed: hand the task back rather than count it against the worker.
    if (stopping.signal.aborted) return void (await kb.reclaimTask(id));
    const failure = await kb.recordFailure(id, { runId, error: outcome.error, outcome: outcome.kind, limit: options.failureLimit });
    log(`dispatcher: ${id} ${outcome.kind} (${failure.failures}/${failure.limit})${failure.gaveUp ? ', gave up' : ''}`);
    return kb.claimNextTask(claimNext);
  }

  async function dispatch(kb: Kanban): Promise<void> {
    for (const [taskId, lease] of leases) {
      if (lease.kb !== kb || Date.now() - lease.renewedAt < (ttlSeconds * 1000) / 3) continue;
      await kb.heartbeat(taskId, { runId: lease.runId, ttlSeconds });
      lease.renewedAt = Date.now();
    }
    await kb.releaseStaleClaims();
    await kb.promoteReady();
    while (slots.size < maxWorkers && !stopping.signal.aborted) {
      const claim = await kb.claimNextTask(claimNext);
      if (!claim) return;
      const running: Promise<void> = slot(kb, claim).finally(() => slots.delete(running));
      slots.add(running);
    }
  }

  async function notify(kb: Kanban): Promise<void> {
    for (const sub of await kb.listSubscriptions()) {
      for (const event of await kb.unseenEvents(sub)) {
        await options.sink(event, sub);
        await kb.advanceCursor(sub, event.id);
      }
      const task = await kb.findTask(sub.taskId);
      if (!task || TERMINAL.has(task.status)) await kb.unsubscribe(sub);
    }
  }

  const done = Promise.all([loop('dispatcher', dispatchBoards, dispatch), loop('notifier', notifyBoards, notify)]).then(async () => {
    await Promise.all(slots);
    // One last delivery pass, so events of workers that finished during the stop are not held back.
    for (const kb of notifyBoards) await notify(kb).catch(() => undefined);
    for (const kb of [...dispatchBoards, ...notifyBoards]) kb.close();
  });
  return {
    done,
    running: () => slots.size,
    async stop() {
      stopping.abort();
      await done;
    },
  };
}
