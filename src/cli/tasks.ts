import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { boardColumns, DEFAULT_BOARD_WIDTH, eventLine, statsText, taskDetail, taskLine } from '../view/render';
import { printable } from '../view/text';
import { BLOCK_KINDS, TASK_STATUSES, type BlockKind, type TaskStatus } from '../core/schema';
import { FAILURE_OUTCOMES, type FailureOutcome } from '../core/input';
import { InvalidArgumentError } from 'commander';
import {
  author,
  collect,
  eachId,
  globals,
  integer,
  manyOf,
  nonNegative,
  oneOf,
  positive,
  print,
  withBoard,
} from './shared';

interface CreateFlags {
  body?: string;
  assignee?: string;
  priority?: number;
  parent?: string[];
  triage?: boolean;
  tenant?: string;
  key?: string;
  maxRetries?: number;
  maxRuntime?: number;
  skill?: string[];
  model?: string;
  provider?: string;
  createdBy?: string;
  initialStatus?: 'blocked';
}

export function registerTaskCommands(program: Command): void {
  program
    .command('create <title>')
    .description('create a task')
    .option('--body <text>')
    .option('--assignee <profile>')
    .option('--priority <n>', 'higher runs first', integer)
    .option('--parent <id>', 'a task this one waits for (repeatable)', collect)
    .option('--triage', 'put it in triage')
    .option('--tenant <name>')
    .option('--key <idempotency-key>', 'creating twice with one key returns the first task')
    .option('--max-retries <n>', 'failures before the breaker blocks it', positive)
    .option('--max-runtime <seconds>', 'the worker is stopped after this long', positive)
    .option('--skill <name>', 'a skill for the worker (repeatable)', collect)
    .option('--model <name>', 'the model its worker runs')
    .option('--provider <name>', 'where that model runs (needs --model)')
    .option('--created-by <name>')
    .option(
      '--initial-status <status>',
      'blocked: create it blocked until `kanban unblock`',
      oneOf(['blocked'] as const),
    )
    .action((title: string, f: CreateFlags, command: Command) =>
      withBoard(command, async (kb) => {
        const task = await kb.createTask({
          title,
          body: f.body,
          assignee: f.assignee,
          priority: f.priority,
          parents: f.parent,
          triage: f.triage,
          tenant: f.tenant,
          idempotencyKey: f.key,
          maxRetries: f.maxRetries,
          maxRuntimeSeconds: f.maxRuntime,
          skills: f.skill,
          modelOverride: f.model,
          providerOverride: f.provider,
          createdBy: f.createdBy,
          initialStatus: f.initialStatus,
        });
        print(command, task, taskLine);
      }),
    );

  program
    .command('list')
    .description('list tasks by priority')
    .option('--status <status>', 'only this status (repeatable)', manyOf(TASK_STATUSES))
    .option('--assignee <profile>')
    .option('--tenant <name>')
    .option('--all', 'include archived tasks')
    .option('--limit <n>', 'at most this many', positive)
    .action(
      (
        f: { status?: TaskStatus[]; assignee?: string; tenant?: string; all?: boolean; limit?: number },
        command: Command,
      ) =>
        withBoard(command, async (kb) => {
          const tasks = await kb.listTasks({
            status: f.status,
            assignee: f.assignee,
            tenant: f.tenant,
            includeArchived: f.all === true,
            limit: f.limit,
          });
          print(command, tasks, (list) => list.map(taskLine).join('\n') || '(no tasks)');
        }),
    );

  program
    .command('show <id>')
    .description('a task with its comments, runs and events')
    .action((id: string, _f, command: Command) =>
      withBoard(command, async (kb) => {
        const task = await kb.getTask(id);
        const [comments, runs, events] = [
          await kb.listComments(id),
          await kb.listRuns(id),
          await kb.listEvents({ taskId: id }),
        ];
        print(command, { task, comments, runs, events }, (s) =>
          [
            taskDetail(s.task),
            'comments:',
            ...s.comments.map((c) => `  ${printable(c.author)}: ${printable(c.body)}`),
            'runs:',
            ...s.runs.map((r) =>
              `  #${r.id} ${r.status} ${r.outcome ?? ''} ${printable(r.error ?? r.summary ?? '')}`.trimEnd(),
            ),
            'events:',
            ...s.events.map((e) => `  ${eventLine(e)}`),
          ].join('\n'),
        );
      }),
    );

  for (const [name, unlink] of [
    ['link', false],
    ['unlink', true],
  ] as const) {
    program
      .command(`${name} <parent> <child>`)
      .description(unlink ? 'remove a dependency' : 'make <child> wait for <parent>')
      .action((parent: string, child: string, _f, command: Command) =>
        withBoard(command, async (kb) => {
          await (unlink ? kb.unlinkTasks(parent, child) : kb.linkTasks(parent, child));
          print(
            command,
            { parent, child, linked: !unlink },
            () => `${unlink ? 'unlinked' : 'linked'} ${parent} → ${child}`,
          );
        }),
      );
  }

  program
    .command('claim [id]')
    .description('claim a task (or the next ready one)')
    .option('--assignee <profile>', 'the next task of this worker')
    .option('--ttl <seconds>', 'lease length', positive)
    .action((id: string | undefined, f: { assignee?: string; ttl?: number }, command: Command) =>
      withBoard(command, async (kb) => {
        if (id) await kb.getTask(id); // a missing task is NOT_FOUND, not "nothing to claim"
        const claim = id
          ? await kb.claimTask(id, { ttlSeconds: f.ttl })
          : await kb.claimNextTask({ assignee: f.assignee, ttlSeconds: f.ttl });
        print(command, claim ?? null, (c) => (c ? `claimed ${taskLine(c.task)} run=${c.runId}` : 'nothing to claim'));
      }),
    );

  const runOption = (c: Command) => c.option('--run <id>', 'the run id this worker holds (fencing)', positive);
  runOption(program.command('heartbeat <id>').option('--ttl <seconds>', 'lease length', positive)).action(
    (id: string, f: { run?: number; ttl?: number }, command: Command) =>
      withBoard(command, async (kb) =>
        print(command, await kb.heartbeat(id, { runId: f.run, ttlSeconds: f.ttl }), taskLine),
      ),
  );
  runOption(
    program
      .command('complete <ids...>')
      .description('complete tasks (each on its own; the exit code is 1 if any is refused)')
      .option('--result <text>')
      .option('--summary <text>')
      .option('--claim-next', 'in the same commit, claim the next ready task (of --assignee, when given)')
      .option('--assignee <profile>', 'with --claim-next: the next task of this worker'),
  ).action(
    (
      ids: string[],
      f: { run?: number; result?: string; summary?: string; claimNext?: boolean; assignee?: string },
      command: Command,
    ) =>
      withBoard(command, async (kb) => {
        const [id] = ids;
        const completion = { runId: f.run, result: f.result, summary: f.summary };
        if (ids.length > 1 && (f.run ?? f.result ?? f.summary ?? f.claimNext) !== undefined) {
          throw new InvalidArgumentError('--run, --result, --summary and --claim-next name one task; give one id');
        }
        if (!f.claimNext || id === undefined)
          return eachId(command, ids, (i) => kb.completeTask(i, completion), taskLine);
        const both = await kb.completeAndClaimNext(id, { ...completion, claimNext: { assignee: f.assignee } });
        print(
          command,
          both,
          (r) =>
            `${taskLine(r.completed)}\n${r.next ? `claimed ${taskLine(r.next.task)} run=${r.next.runId}` : 'nothing to claim'}`,
        );
      }),
  );
  runOption(
    program
      .command('block <id>')
      .requiredOption('--reason <text>')
      .option(
        '--kind <kind>',
        `why: ${BLOCK_KINDS.join(', ')} (dependency waits in todo; the same kind twice goes to triage)`,
        oneOf(BLOCK_KINDS),
      ),
  ).action((id: string, f: { run?: number; reason: string; kind?: BlockKind }, command: Command) =>
    withBoard(command, async (kb) =>
      print(command, await kb.blockTask(id, { runId: f.run, reason: f.reason, kind: f.kind }), taskLine),
    ),
  );
  runOption(
    program
      .command('schedule <id>')
      .description('park a task until `kanban unblock` (the reason says until when)')
      .option('--reason <text>'),
  ).action((id: string, f: { run?: number; reason?: string }, command: Command) =>
    withBoard(command, async (kb) =>
      print(command, await kb.scheduleTask(id, { runId: f.run, reason: f.reason }), taskLine),
    ),
  );
  runOption(
    program
      .command('fail <id>')
      .description('record a failed attempt (the breaker blocks the task at its limit)')
      .requiredOption('--error <text>')
      .option('--outcome <kind>', 'crashed, timed_out or spawn_failed', oneOf(FAILURE_OUTCOMES), 'crashed' as const)
      .option('--limit <n>', 'failures before giving up, unless the task sets max_retries', positive),
  ).action(
    (id: string, f: { run?: number; error: string; outcome: FailureOutcome; limit?: number }, command: Command) =>
      withBoard(command, async (kb) => {
        const result = await kb.recordFailure(id, { runId: f.run, error: f.error, outcome: f.outcome, limit: f.limit });
        print(
          command,
          result,
          (r) =>
            `${taskLine(r.task)}\n${r.gaveUp ? `gave up after ${r.failures} failures` : `failure ${r.failures} of ${r.limit}`}`,
        );
      }),
  );
  program
    .command('unblock <ids...>')
    .description('unblock blocked or scheduled tasks (each on its own)')
    .option('--reason <text>', 'added as the comment "UNBLOCK: <reason>", in the same commit')
    .action((ids: string[], f: { reason?: string }, command: Command) =>
      withBoard(command, async (kb) =>
        eachId(command, ids, (id) => kb.unblockTask(id, { reason: f.reason, author: author() }), taskLine),
      ),
    );
  program
    .command('archive <ids...>')
    .description('archive tasks (each on its own)')
    .action((ids: string[], _f, command: Command) =>
      withBoard(command, async (kb) => eachId(command, ids, (id) => kb.archiveTask(id), taskLine)),
    );
  program
    .command('delete <ids...>')
    .description(
      'delete tasks with their runs, events and comments (each on its own); a linked or running task is refused',
    )
    .action((ids: string[], _f, command: Command) =>
      withBoard(command, async (kb) =>
        eachId(
          command,
          ids,
          async (id) => {
            await kb.deleteTask(id);
            return { id, deleted: true };
          },
          (row) => `deleted ${row.id}`,
        ),
      ),
    );
  program
    .command('reclaim <id>')
    .description('take a running task back from its worker')
    .option('--reason <text>')
    .action((id: string, f: { reason?: string }, command: Command) =>
      withBoard(command, async (kb) => print(command, await kb.reclaimTask(id, { reason: f.reason }), taskLine)),
    );

  program
    .command('comment <id> <body>')
    .option('--author <name>', 'who says it', author())
    .action((id: string, body: string, f: { author: string }, command: Command) =>
      withBoard(command, async (kb) =>
        print(command, await kb.addComment(id, { author: f.author, body }), (c) => `comment #${c.id} on ${c.taskId}`),
      ),
    );

  program
    .command('events')
    .description('the event log')
    .option('--task <id>')
    .option('--after <id>', 'events after this id', nonNegative)
    .option('--limit <n>', 'at most this many', positive)
    .option('--follow', 'keep printing new events (one JSON line each with --json)')
    .option('--interval <ms>', 'poll interval with --follow', positive, 500)
    .action(
      (f: { task?: string; after?: number; limit?: number; follow?: boolean; interval: number }, command: Command) =>
        withBoard(command, async (kb) => {
          const json = globals(command).json === true;
          if (!f.follow)
            return print(command, await kb.listEvents({ taskId: f.task, afterId: f.after, limit: f.limit }), (list) =>
              list.map(eventLine).join('\n'),
            );
          const stop = new AbortController();
          process.once('SIGINT', () => stop.abort());
          for (let after = f.after ?? 0; !stop.signal.aborted; ) {
            for (const event of await kb.listEvents({ taskId: f.task, afterId: after })) {
              process.stdout.write(`${json ? JSON.stringify(event) : eventLine(event)}\n`);
              after = event.id;
            }
            await sleep(f.interval, undefined, { signal: stop.signal }).catch(() => undefined);
          }
        }),
    );

  program
    .command('stats')
    .action((_f, command: Command) => withBoard(command, async (kb) => print(command, await kb.stats(), statsText)));

  program
    .command('board')
    .description('the board drawn as columns, one per status')
    .option(
      '--width <n>',
      `width of the whole board in terminal columns (default: the terminal's, else ${DEFAULT_BOARD_WIDTH})`,
      positive,
    )
    .action((f: { width?: number }, command: Command) =>
      withBoard(command, async (kb) =>
        print(command, await kb.listTasks(), (t) =>
          boardColumns(t, f.width ?? process.stdout.columns ?? DEFAULT_BOARD_WIDTH),
        ),
      ),
    );
}
