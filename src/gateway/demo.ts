import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveHome } from '../boards';
import type { Task } from '../core/schema';
import { openKanban } from '../kanban';
import { boardColumns } from '../view/render';
import { startGateway } from './gateway';

export const DEMO_BOARD = 'demo';
const DEMO_TIMEOUT_MS = 60_000;
const DEMO_RETRY_BACKOFF_SECONDS = 1;
const SETTLED = new Set(['done', 'blocked', 'archived']);
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface DemoSummary {
  readonly tasks: Task[];
  readonly delivered: number;
  readonly notificationsFile: string;
  /** False when the time limit came before every task settled and every notification went out. */
  readonly settled: boolean;
}

/**
 * The package's main job: seeds the `demo` board with a small dependency chain, a task whose
 * worker always fails and a subscriber, runs the gateway until the board settles, and returns what
 * happened. Each run adds its own tasks, so running it again on the same home works.
 */
export async function runDemo(
  options: { home?: string; out?: (line: string) => void; timeoutMs?: number } = {},
): Promise<DemoSummary> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const home = resolveHome(options.home);
  const kb = await openKanban({ home, board: DEMO_BOARD });
  out(
    `board ${DEMO_BOARD} at ${kb.path} (${kb.migration.applied.length ? `migrated: ${kb.migration.applied.join(', ')}` : 'schema current'})`,
  );
  const design = await kb.createTask({ title: 'Design the feature', assignee: 'builder', priority: 3 });
  const build = await kb.createTask({
    title: 'Build the feature',
    assignee: 'builder',
    priority: 2,
    parents: [design.id],
  });
  const test = await kb.createTask({
    title: 'Test the feature',
    assignee: 'builder',
    priority: 1,
    parents: [build.id],
  });
  const docs = await kb.createTask({ title: 'Write the docs', assignee: 'writer' });
  const flaky = await kb.createTask({ title: 'Call the flaky model', assignee: 'flaky' });
  const ids = [design, build, test, docs, flaky].map((t) => t.id);
  for (const taskId of [test.id, flaky.id]) await kb.subscribe({ taskId, platform: 'console', chatId: 'demo' });
  out(`seeded ${ids.length} tasks: a chain of three, one on its own, one whose worker always fails`);

  const notificationsFile = join(home, 'demo-notifications.jsonl');
  let delivered = 0;
  const gateway = await startGateway({
    home,
    boards: [DEMO_BOARD],
    worker: `${shellQuote(process.execPath)} ${shellQuote(join(__dirname, 'demo-worker.js'))}`,
    tickMs: 100,
    // The flaky task's second attempt waits a second instead of the default 30 s, so the demo stays short.
    retryBackoffSeconds: DEMO_RETRY_BACKOFF_SECONDS,
    sink: async (event) => {
      delivered++;
      appendFileSync(notificationsFile, `${JSON.stringify(event)}\n`);
      out(`notify: ${event.taskId} ${event.kind}${event.payload ? ` ${JSON.stringify(event.payload)}` : ''}`);
    },
    log: (line) => out(line),
  });
  const deadline = Date.now() + (options.timeoutMs ?? DEMO_TIMEOUT_MS);
  let settled = false;
  while (!settled && Date.now() <= deadline) {
    await sleep(100);
    const tasks = await Promise.all(ids.map((id) => kb.getTask(id)));
    const undelivered = await Promise.all((await kb.listSubscriptions()).map((sub) => kb.unseenEvents(sub)));
    settled =
      tasks.every((t) => SETTLED.has(t.status)) && gateway.running() === 0 && undelivered.every((e) => e.length === 0);
  }
  await gateway.stop();
  const tasks = await Promise.all(ids.map((id) => kb.getTask(id)));
  kb.close();
  out('');
  out(boardColumns(tasks));
  out('');
  for (const t of tasks) {
    out(
      `${t.id} ${t.status.padEnd(7)} ${t.title}${t.status === 'blocked' ? ` — breaker: ${t.consecutiveFailures} failures, last: ${t.lastFailureError ?? ''}` : ''}`,
    );
  }
  const count = (status: Task['status']) => tasks.filter((t) => t.status === status).length;
  out(
    `summary: ${count('done')} done, ${count('blocked')} blocked, ${delivered} notifications delivered (also in ${notificationsFile})`,
  );
  if (!settled)
    out(`the board did not settle within ${(options.timeoutMs ?? DEMO_TIMEOUT_MS) / 1000} s; the gateway was stopped`);
  return { tasks, delivered, notificationsFile, settled };
}
