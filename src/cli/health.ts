import type { Command } from 'commander';
import type { Run } from '../core/schema';
import { dispatchLockHolder, dispatchLockPath } from '../gateway/dispatch-lock';
import type { Diagnostic } from '../core/health';
import { isFileKanban } from '../kanban';
import { printable } from '../view/text';
import { nonNegative, oneOf, print, withBoard } from './shared';

const SEVERITIES = ['warning', 'error'] as const;

/** A run's length as the original's `runs` prints it: seconds, minutes, then hours. */
function elapsed(run: Run, now: number): string {
  const s = Math.max(0, (run.endedAt ?? now) - run.startedAt);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : `${(s / 3600).toFixed(1)}h`;
}

function runLines(runs: readonly Run[], now: number): string {
  const started = (at: number) => new Date(at * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const header = `${'#'.padEnd(3)}  ${'OUTCOME'.padEnd(12)}  ${'PROFILE'.padEnd(16)}  ${'ELAPSED'.padStart(8)}  STARTED`;
  const rows = runs.flatMap((r, i) => {
    const outcome = r.outcome ?? (r.endedAt === null ? '(running)' : r.status);
    const line = `${String(i + 1).padEnd(3)}  ${outcome.padEnd(12)}  ${printable(r.profile ?? '-').padEnd(16)}  ${elapsed(r, now).padStart(8)}  ${started(r.startedAt)}`;
    const summary = r.summary?.split('\n')[0];
    return [
      line,
      ...(summary ? [`     → ${printable(summary).slice(0, 100)}`] : []),
      ...(r.error ? [`     ✖ ${printable(r.error).slice(0, 100)}`] : []),
    ];
  });
  return [header, ...rows].join('\n');
}

/** The dispatch lock of a board file, when a process that is gone took it and another still holds it. */
function orphanedLock(path: string): Diagnostic | undefined {
  const holder = dispatchLockHolder(path);
  if (!holder || holder.alive) return undefined;
  return {
    kind: 'dispatch_lock_orphaned',
    severity: 'error',
    taskId: '',
    message: `${dispatchLockPath(path)} is held, but pid ${holder.pid}, which took it, is gone: a process that inherited it keeps every dispatcher off this board; find it with \`fuser ${dispatchLockPath(path)}\` and stop it`,
  };
}

/** `runs`, `diagnostics` and `gc`. */
export function registerHealthCommands(program: Command): void {
  program
    .command('runs <id>')
    .description('a task’s attempts, oldest first')
    .action((id: string, _f, command: Command) =>
      withBoard(command, async (kb) => {
        const task = await kb.getTask(id);
        const runs = await kb.listRuns(task.id);
        const now = Math.floor(Date.now() / 1000);
        print(command, runs, (list) => (list.length ? runLines(list, now) : `(no runs yet for ${task.id})`));
      }),
    );

  program
    .command('diagnostics')
    .alias('diag')
    .description('what is wrong with the board: expired leases, breaker blocks, parents that cannot finish, …')
    .option('--severity <level>', 'only this level and above: warning or error', oneOf(SEVERITIES))
    .option('--task <id>', 'only this task')
    .action((f: { severity?: (typeof SEVERITIES)[number]; task?: string }, command: Command) =>
      withBoard(command, async (kb) => {
        if (f.task !== undefined) await kb.getTask(f.task);
        // The dispatch lock is a file's: a server board has many dispatchers and no such lock.
        const lock = isFileKanban(kb) ? orphanedLock(kb.path) : undefined;
        const all = [...(lock ? [lock] : []), ...(await kb.diagnostics())];
        const shown = all.filter(
          (d) => (f.severity !== 'error' || d.severity === 'error') && (f.task === undefined || d.taskId === f.task),
        );
        print(command, shown, (list) =>
          list.length === 0
            ? 'No active diagnostics on this board.'
            : [
                `${list.length} active diagnostic(s):`,
                ...list.map(
                  (d) => `  [${d.severity}] ${d.kind}${d.taskId ? ` ${d.taskId}` : ''}: ${printable(d.message)}`,
                ),
              ].join('\n'),
        );
      }),
    );

  program
    .command('gc')
    .description('delete archived tasks older than --days, with their runs, events and comments')
    .option('--days <n>', 'how long an archived task is kept', nonNegative, 30)
    .action((f: { days: number }, command: Command) =>
      withBoard(command, async (kb) => {
        const result = await kb.purgeArchived({ olderThanDays: f.days });
        print(command, result, (r) =>
          [
            `GC complete: ${r.purged.length} archived task(s) removed`,
            ...(r.keptForRecipes.length ? [`kept, because a recipe names them: ${r.keptForRecipes.join(', ')}`] : []),
          ].join('\n'),
        );
      }),
    );
}
