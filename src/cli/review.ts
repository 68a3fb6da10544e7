import { type Command, InvalidArgumentError } from 'commander';
import { taskLine } from '../view/render';
import { author, eachId, positive, print, withBoard } from './shared';

/** `--metadata` as a JSON object. */
function jsonObject(value: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return Object.fromEntries(Object.entries(parsed));
  } catch {
    // refused below
  }
  throw new InvalidArgumentError('give a JSON object, e.g. {"pr": 12}');
}

/** The review verbs and `promote`, spelled as the original's (hermes_cli/kanban.py). */
export function registerReviewCommands(program: Command): void {
  program
    .command('request-review <id>')
    .description('hand a running or ready task to a reviewer (its worker passes --run)')
    .option('--summary <text>', 'what was done')
    .option('--reviewer <profile>', 'who reviews (default: who last requested changes)')
    .option('--metadata <json>', 'a JSON object kept on the run', jsonObject)
    .option('--run <id>', 'the run id this worker holds (fencing)', positive)
    .option('--force', 'take a running task from its worker')
    .action(
      (
        id: string,
        f: { summary?: string; reviewer?: string; metadata?: Record<string, unknown>; run?: number; force?: boolean },
        command: Command,
      ) =>
        withBoard(command, async (kb) => {
          const task = await kb.requestReview(id, {
            summary: f.summary,
            reviewer: f.reviewer,
            metadata: f.metadata,
            runId: f.run,
            force: f.force === true,
          });
          print(
            command,
            task,
            (t) => `Requested review for ${t.id}${f.summary ? `: ${f.summary}` : ''} (@${t.assignee ?? '-'})`,
          );
        }),
    );

  program
    .command('request-changes <id> <reason...>')
    .description('the reviewer sends the task back to its implementer')
    .option('--run <id>', 'the reviewer’s run id (fencing)', positive)
    .action((id: string, words: string[], f: { run?: number }, command: Command) =>
      withBoard(command, async (kb) => {
        const task = await kb.requestChanges(id, { reason: words.join(' '), runId: f.run });
        print(command, task, (t) => `Requested changes for ${t.id}; routed to ${t.assignee ?? '(unassigned)'}`);
      }),
    );

  program
    .command('reopen-review <ids...>')
    .description('take tasks out of review, back to their implementers (each on its own)')
    .option('--reason <text>', 'added as the comment "CHANGES REQUESTED: <reason>"')
    .action((ids: string[], f: { reason?: string }, command: Command) =>
      withBoard(command, async (kb) =>
        eachId(
          command,
          ids,
          (id) => kb.reopenReview(id, { reason: f.reason, author: author() }),
          (t) => `Reopened ${taskLine(t)}`,
        ),
      ),
    );

  program
    .command('promote <id> [reason...]')
    .description('move todo or blocked tasks to ready once their parents are done or archived')
    .option('--ids <ids...>', 'more tasks to promote')
    .option('--dry-run', 'check only; write nothing')
    .action((id: string, words: string[], f: { ids?: string[]; dryRun?: boolean }, command: Command) =>
      withBoard(command, async (kb) => {
        const reason = words.join(' ') || undefined;
        const options = { reason, actor: author(), dryRun: f.dryRun === true };
        const dry = f.dryRun ? 'Would promote' : 'Promoted';
        const render = (t: { id: string }) => `${dry} ${t.id} -> ready${reason ? `: ${reason}` : ''}`;
        await eachId(command, [id, ...(f.ids ?? [])], (i) => kb.promoteTask(i, options), render);
      }),
    );
}
