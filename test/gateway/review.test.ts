import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, kanban, startGatewayProcess } from '../helpers/cli';
import { query, withTempDir } from '../helpers/temp';

describe('the gateway works the review workflow', () => {
  it('the implementer’s worker requests review, the reviewer’s asks for changes once, then approves', async () => {
    await withTempDir(async (home) => {
      const db = join(home, 'kanban.db');
      const { id } = kanban(home, '--json', 'create', 'parser', '--assignee', 'coder').json();
      kanban(home, 'subscribe', id, '--platform', 'slack', '--chat', 'team');
      const subscribed = async () => (await query(db, 'SELECT task_id FROM kanban_notify_subs')).length === 1;
      const cli = `${process.execPath} ${CLI} --db "$KANBAN_DB"`;
      // The coder hands every attempt to review; the critic sends the first back and approves the second.
      const worker = `cat >/dev/null
        if [ "$KANBAN_ASSIGNEE" = coder ]; then
          ${cli} request-review "$KANBAN_TASK_ID" --run "$KANBAN_RUN_ID" --reviewer critic --summary "attempt $KANBAN_RUN_ID" >/dev/null
        elif [ ! -e ${home}/reviewed ]; then
          touch ${home}/reviewed
          ${cli} request-changes "$KANBAN_TASK_ID" --run "$KANBAN_RUN_ID" handle empty input >/dev/null
        fi
        echo ok`;
      const run = startGatewayProcess(home, worker);
      const done = async () => (await query(db, 'SELECT status FROM tasks WHERE id = ?', [id]))[0]?.status === 'done';
      expect(await run.until(done, 60_000)).toBe(true);
      // As the upstream's notifier: a subscription outlives its task's completion, and ends when it is archived.
      const delivered = async () =>
        Number((await query(db, 'SELECT last_event_id FROM kanban_notify_subs'))[0]?.last_event_id) > 0;
      expect(await run.until(delivered)).toBe(true);
      expect(await subscribed()).toBe(true);
      kanban(home, 'archive', id);
      expect(await run.until(async () => !(await subscribed()))).toBe(true);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      const runs = await query(db, 'SELECT profile, outcome FROM task_runs WHERE task_id = ? ORDER BY id', [id]);
      expect(runs.map((r) => [r.profile, r.outcome])).toEqual([
        ['coder', 'review_requested'],
        ['critic', 'changes_requested'],
        ['coder', 'review_requested'],
        ['critic', 'completed'],
      ]);
      expect(run.stderr().match(/ended after its worker moved the task/g)).toHaveLength(3);
      expect(run.stderr()).not.toMatch(/failed/);
    });
  });

  it('a task whose parent was linked while it ran waits in todo instead of staying running', async () => {
    await withTempDir(async (home) => {
      const db = join(home, 'kanban.db');
      const { id } = kanban(home, '--json', 'create', 'child', '--assignee', 'w').json();
      const run = startGatewayProcess(home, `cat >/dev/null; while [ ! -e ${home}/go ]; do sleep 0.05; done; echo out`);
      try {
        const status = async () => (await query(db, 'SELECT status FROM tasks WHERE id = ?', [id]))[0]?.status;
        expect(await run.until(async () => (await status()) === 'running')).toBe(true);
        // Unassigned, so the gateway never runs it.
        const parent = kanban(home, '--json', 'create', 'parent').json();
        kanban(home, 'link', parent.id, id);
        writeFileSync(join(home, 'go'), '');
        expect(await run.until(async () => (await status()) === 'todo')).toBe(true);
        expect(
          await run.until(() => run.stderr().includes('a parent is unfinished: waiting in todo to run again')),
        ).toBe(true);
        kanban(home, 'complete', parent.id);
        expect(await run.until(async () => (await status()) === 'done')).toBe(true);
      } finally {
        run.child.kill('SIGTERM');
      }
      expect(await run.exited).toBe(0);
    });
  });
});
