import type { Command } from 'commander';
import { appendFileSync } from 'node:fs';
import { runDemo } from '../gateway/demo';
import { DEFAULT_MAX_WORKERS, DEFAULT_TICK_MS } from '../gateway/defaults';
import { startGateway, type NotificationSink } from '../gateway/gateway';
import { eventLine } from '../view/render';
import { globals, integer } from './shared';

export function registerGatewayCommands(program: Command): void {
  program
    .command('gateway')
    .description('run the dispatcher and the notifier over every board until SIGINT/SIGTERM')
    .requiredOption('--worker <command>', 'shell command run per claimed task (task id, run id and db path in its environment)')
    .option('--max-workers <n>', 'workers at once', integer, DEFAULT_MAX_WORKERS)
    .option('--tick <ms>', 'period of housekeeping (leases, promotion, polling for new work); a slot is refilled as soon as its worker exits', integer, DEFAULT_TICK_MS)
    .option('--claim-ttl <seconds>', 'lease of each claim, renewed while the worker runs', integer)
    .option('--failure-limit <n>', 'failures before the breaker blocks a task without max_retries', integer)
    .option('--notify-file <file>', 'append delivered events to this file as JSON lines instead of printing them')
    .action(async (f: { worker: string; maxWorkers: number; tick: number; claimTtl?: number; failureLimit?: number; notifyFile?: string }, command: Command) => {
      const { home, board } = globals(command);
      const file = f.notifyFile;
      const sink: NotificationSink = async (event, sub) => {
        if (file) appendFileSync(file, `${JSON.stringify({ ...event, subscriber: sub })}\n`);
        else process.stdout.write(`notify ${sub.platform}/${sub.chatId}: ${eventLine(event)}\n`);
      };
      const gateway = await startGateway({
        ...(home && { home }),
        ...(board !== undefined && { boards: [board] }),
        worker: f.worker,
        maxWorkers: f.maxWorkers,
        tickMs: f.tick,
        ...(f.failureLimit !== undefined && { failureLimit: f.failureLimit }),
        ...(f.claimTtl !== undefined && { claimTtlSeconds: f.claimTtl }),
        sink,
      });
      process.stderr.write('gateway: dispatcher and notifier running; Ctrl-C stops\n');
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void gateway.stop());
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
