// The demonstration's worker: succeeds for every assignee but "flaky", which fails every time.
const title = process.env.KANBAN_TASK_TITLE ?? '';
if (process.env.KANBAN_ASSIGNEE === 'flaky') {
  process.stderr.write(`could not reach the model for "${title}"\n`);
  process.exit(1);
}
process.stdout.write(`finished "${title}"\n`);
