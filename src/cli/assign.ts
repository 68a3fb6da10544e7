import type { Command } from 'commander';
import { REASONING_EFFORTS } from '../core/input';
import { taskLine } from '../view/render';
import { integer, print, profileOrNone, withBoard } from './shared';

const who = (assignee: string | null) => assignee ?? '(unassigned)';

interface EditFlags {
  title?: string;
  body?: string;
  priority?: number;
  assignee?: string;
  model?: string;
  provider?: string;
  reasoningEffort?: string;
}

/** `assign`, `reassign`, `edit` and `set-model`, spelled as the original's (hermes_cli/kanban.py). */
export function registerAssignCommands(program: Command): void {
  program
    .command('assign <id> <profile>')
    .description('give a task to a worker profile; `none` unassigns (refused while a worker holds it)')
    .action((id: string, profile: string, _f, command: Command) =>
      withBoard(command, async (kb) => {
        const task = await kb.assignTask(id, profileOrNone(profile));
        print(command, task, (t) => `Assigned ${t.id} to ${who(t.assignee)}`);
      }),
    );

  program
    .command('reassign <id> <profile>')
    .description('give a task to another profile; with --reclaim, take it back from its worker first')
    .option('--reclaim', 'hand a running task back first')
    .option('--reason <text>', 'why, recorded with the reclaim')
    .action((id: string, profile: string, f: { reclaim?: boolean; reason?: string }, command: Command) =>
      withBoard(command, async (kb) => {
        const assignee = profileOrNone(profile);
        const reclaimed = f.reclaim === true && (await kb.getTask(id)).status === 'running';
        // One commit: a refused assignee leaves the task with its worker.
        const task = reclaimed
          ? await kb.reclaimTask(id, { reason: f.reason ?? 'reassign', assignee })
          : await kb.assignTask(id, assignee);
        print(
          command,
          { ...task, reclaimed },
          (t) => `Reassigned ${t.id} to ${who(t.assignee)}${reclaimed ? ' (claim reclaimed)' : ''}`,
        );
      }),
    );

  program
    .command('edit <id>')
    .description('change a task’s title, body, priority, assignee, model or reasoning effort, in one commit')
    .option('--title <text>')
    .option('--body <text>')
    .option('--priority <n>', 'higher runs first', integer)
    .option('--assignee <profile>', '`none` unassigns')
    .option('--model <name>', '`none` clears the model and its provider')
    .option('--provider <name>', 'where the model runs (with --model)')
    .option('--reasoning-effort <level>', `${REASONING_EFFORTS.join(', ')}, or inherit (the profile's)`)
    .action((id: string, f: EditFlags, command: Command) =>
      withBoard(command, async (kb) => {
        const task = await kb.editTask(id, {
          ...(f.title !== undefined && { title: f.title }),
          ...(f.body !== undefined && { body: f.body }),
          ...(f.priority !== undefined && { priority: f.priority }),
          ...(f.assignee !== undefined && { assignee: profileOrNone(f.assignee) }),
          ...(f.model !== undefined && { modelOverride: profileOrNone(f.model) }),
          ...(f.provider !== undefined && { providerOverride: f.provider }),
          ...(f.reasoningEffort !== undefined && {
            reasoningEffort: f.reasoningEffort === 'inherit' ? null : f.reasoningEffort,
          }),
        });
        print(command, task, (t) => `Edited ${taskLine(t)}`);
      }),
    );

  program
    .command('set-model <id> [model]')
    .description('the model a worker runs the task with from its next attempt; no model (or none) clears it')
    .option('--provider <name>', 'where the model runs')
    .action((id: string, model: string | undefined, f: { provider?: string }, command: Command) =>
      withBoard(command, async (kb) => {
        const modelOverride = model === undefined ? null : profileOrNone(model);
        const task = await kb.setModelOverride(id, { modelOverride, providerOverride: f.provider });
        print(command, task, (t) =>
          t.modelOverride
            ? `Set model override on ${t.id}: ${t.providerOverride ? `${t.providerOverride}:` : ''}${t.modelOverride} (applies on next dispatch)`
            : `Cleared model override on ${t.id} (worker uses its profile default)`,
        );
      }),
    );

  program
    .command('set-effort <id> <level>')
    .description(`the reasoning effort of the task's worker: ${REASONING_EFFORTS.join(', ')}, or inherit`)
    .action((id: string, level: string, _f, command: Command) =>
      withBoard(command, async (kb) => {
        const task = await kb.setReasoningEffort(id, level === 'inherit' ? null : level);
        print(command, task, (t) => `Set reasoning effort on ${t.id}: ${t.reasoningEffort ?? 'inherit'}`);
      }),
    );
}
