import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_BOARD, listBoards, resolveHome } from '../boards';
import type { TaskEvent } from '../db/schema';
import { openKanban, type Kanban } from '../kanban';
import { DEFAULT_CLAIM_TTL_SECONDS } from '../repo/claims';
import { runWorker } from './worker';

/** Where the notifier delivers events; a rejected promise leaves the cursor where it was, to retry. */
export type NotificationSink = (event: TaskEvent, subscriber: { platform: string; chatId: string; threadId: string }) => Promise<void>;

export interface GatewayOptions {
  readonly home?: string;
  /** Board slugs to work; default: every board under the home. */
  readonly boards?: readonly string[];
  /** Shell command run for each claimed task. */
  readonly worker: string;
  readonly maxWorkers?: number;
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
  const workers = new Set<Promise<void>>();
  // Running workers per board, so the dispatcher can renew their leases before they expire.
  const leases = new Map<string, { kb: Kanban; runId: number; renewedAt: number }>();
  const ttl = options.claimTtlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS;
  const tickMs = options.tickMs ?? 500;

  async function loop(name: string, boards: Kanban[], tick: (kb: Kanban) => Promise<void>): Promise<void> {
    while (!stopping.signal.aborted) {
      for (const kb of boards) {
        try {
          await tick(kb);
        } catch (error) {
          log(`${name}: tick on ${kb.board ?? kb.path} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      await sleep(tickMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  async function dispatch(kb: Kanban): Promise<void> {
    for (const [taskId, lease] of leases) {
      if (lease.kb !== kb || Date.now() - lease.renewedAt < (ttl * 1000) / 3) continue;
      await kb.heartbeat(taskId, { runId: lease.runId, ttlSeconds: ttl });
      lease.renewedAt = Date.now();
    }
    await kb.releaseStaleClaims();
    await kb.promoteReady();
    while (workers.size < (options.maxWorkers ?? 2) && !stopping.signal.aborted) {
      const claim = await kb.claimNextTask({ assignedOnly: true, ttlSeconds: ttl });
      if (!claim) return;
      leases.set(claim.task.id, { kb, runId: claim.runId, renewedAt: Date.now() });
      const work: Promise<void> = runWorker(options.worker, claim.task, claim.runId, kb.path, stopping.signal)
        .then(async (outcome) => {
          if (stopping.signal.aborted && outcome.kind !== 'completed') {
            // Stopped by us, not failed: hand the task back rather than count it against the worker.
            await kb.reclaimTask(claim.task.id);
          } else if (outcome.kind === 'completed') {
            await kb.completeTask(claim.task.id, { runId: claim.runId, result: outcome.output });
          } else {
            const failure = await kb.recordFailure(claim.task.id, { runId: claim.runId, error: outcome.error, outcome: outcome.kind, limit: options.failureLimit });
            log(`dispatcher: ${claim.task.id} ${outcome.kind} (${failure.failures}/${failure.limit})${failure.gaveUp ? ', gave up' : ''}`);
          }
        })
        .catch((error: unknown) => log(`dispatcher: recording the end of ${claim.task.id} failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => {
          leases.delete(claim.task.id);
          workers.delete(work);
        });
      workers.add(work);
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
    await Promise.all(workers);
    // One last delivery pass, so events of workers that finished during the stop are not held back.
    for (const kb of notifyBoards) await notify(kb).catch(() => undefined);
    for (const kb of [...dispatchBoards, ...notifyBoards]) kb.close();
  });
  return {
    done,
    running: () => workers.size,
    async stop() {
      stopping.abort();
      await done;
    },
  };
}
