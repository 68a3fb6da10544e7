import type { Command } from 'commander';
import { appendFileSync } from 'node:fs';
import { runDemo } from '../gateway/demo';
import { DEFAULT_GRACE_MS, DEFAULT_MAX_WORKERS, DEFAULT_TICK_MS } from '../gateway/defaults';
import { startGateway, type NotificationSink } from '../gateway/gateway';
import { eventLine } from '../view/render';
import { DEFAULT_RETRY_BACKOFF } from '../core/claims';
import { connectionOptions, globals, nonNegative, positive, requireBoard, serverUrl } from './shared';

interface GatewayFlags {
  worker: string;
  maxWorkers: number;
  tick: number;
  claimTtl?: number;
  failureLimit?: number;
  grace: number;
  notifyFile?: string;
  retryBackoff?: number;
  defaultAssignee?: string;
  pollOnly?: boolean;
}

export function registerGatewayCommands(program: Command): void {
  program
    .command('gateway')
    .description('run the dispatcher and the notifier over every board (or --board, or --db) until SIGINT/SIGTERM')
    .requiredOption(
      '--worker <command>',
      'shell command run per claimed task (task id, run id and db path in its environment, the task as JSON on stdin)',
    )
    .option('--max-workers <n>', 'workers at once', positive, DEFAULT_MAX_WORKERS)
    .option(
      '--tick <ms>',
      'period of housekeeping (leases, promotion, polling for new work); a slot is refilled as soon as its worker exits',
      positive,
      DEFAULT_TICK_MS,
    )
    .option('--claim-ttl <seconds>', 'lease of each claim, renewed while the worker runs', positive)
    .option('--failure-limit <n>', 'failures before the breaker blocks a task without max_retries', positive)
    .option(
      '--grace <ms>',
      'after the first stop signal, how long workers may finish before their process groups are killed',
      positive,
      DEFAULT_GRACE_MS,
    )
    .option(
      '--retry-backoff <seconds>',
      `wait before a failed task's next attempt, doubled per failure in a row up to ${DEFAULT_RETRY_BACKOFF.maxSeconds} s; 0 retries at once`,
      nonNegative,
      DEFAULT_RETRY_BACKOFF.baseSeconds,
    )
    .option(
      '--default-assignee <worker>',
      'give ready tasks without an assignee to this worker instead of skipping them',
    )
    .option('--poll-only', 'on a server, poll at the tick only (no LISTEN), as behind a transaction-pooling proxy')
    .option('--notify-file <file>', 'append delivered events to this file as JSON lines instead of printing them')
    .action(async (f: GatewayFlags, command: Command) => {
      const url = serverUrl(command);
      // Without --board, every board is worked: the home's, or the server's.
      const named = globals(command).board !== undefined;
      const { home, board, db } = await requireBoard(command);
      const file = f.notifyFile;
      const sink: NotificationSink = async (event, sub) => {
        if (file) appendFileSync(file, `${JSON.stringify({ ...event, subscriber: sub })}\n`);
        else process.stdout.write(`notify ${sub.platform}/${sub.chatId}: ${eventLine(event)}\n`);
      };
      const gateway = await startGateway({
        ...(home && { home }),
        ...(board !== undefined && named && { boards: [board] }),
        ...(url ? { url } : db && { dbPath: db }),
        ...connectionOptions(command),
        worker: f.worker,
        maxWorkers: f.maxWorkers,
        tickMs: f.tick,
        graceMs: f.grace,
        ...(f.failureLimit !== undefined && { failureLimit: f.failureLimit }),
        ...(f.claimTtl !== undefined && { claimTtlSeconds: f.claimTtl }),
        ...(f.retryBackoff !== undefined && { retryBackoffSeconds: f.retryBackoff }),
        ...(f.defaultAssignee !== undefined && { defaultAssignee: f.defaultAssignee }),
        ...(f.pollOnly === true && { pollOnly: true }),
        sink,
      });
      process.stderr.write('gateway: dispatcher and notifier running; Ctrl-C stops\n');
      // The first signal stops claiming and lets workers finish; a second one stops them at once.
      // Either way every unfinished task is handed back before the process exits.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void gateway.stop());
      await gateway.done;
      process.stderr.write('gateway: stopped\n');
    });

  program
    .command('demo')
    .description('the main job: seed the demo board, run the gateway until it settles, print the result')
    .action(async (_f, command: Command) => {
      const { home } = globals(command);
      const { settled } = await runDemo(home ? { home } : {});
      if (!settled) process.exitCode = 1;
    });
}
