import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dispatchLockPath } from '../../src/gateway/dispatch-lock';
import { UPSTREAM_RECIPE_TABLES } from '../helpers/legacy';
import { kanban } from '../helpers/cli';
import { execScript, query, withTempDir } from '../helpers/temp';

const create = (home: string, ...args: string[]) => kanban(home, '--json', 'create', ...args).json();

describe('the original’s verbs', () => {
  it('assign, reassign, edit, set-model and set-effort, with --json', async () => {
    await withTempDir(async (home) => {
      const task = create(home, 'write docs', '--assignee', 'writer');
      expect(kanban(home, 'assign', task.id, 'Editor').stdout).toBe(`Assigned ${task.id} to editor\n`);
      expect(kanban(home, '--json', 'assign', task.id, 'none').json()).toMatchObject({ assignee: null });
      expect(kanban(home, '--json', 'edit', task.id, '--priority', '5').json()).toMatchObject({
        priority: 5,
        title: 'write docs',
      });
      const edited = kanban(
        home,
        '--json',
        'edit',
        task.id,
        '--title',
        'write the docs',
        '--assignee',
        'writer',
        '--model',
        'big',
        '--provider',
        'acme',
        '--reasoning-effort',
        'high',
      );
      expect(edited.json()).toMatchObject({
        title: 'write the docs',
        assignee: 'writer',
        modelOverride: 'big',
        providerOverride: 'acme',
        reasoningEffort: 'high',
      });
      // A refused field writes none of the others.
      const refused = kanban(home, 'edit', task.id, '--title', 'other', '--reasoning-effort', 'extreme');
      expect([refused.status, refused.stderr]).toEqual([1, expect.stringContaining('INVALID_INPUT')]);
      expect(kanban(home, '--json', 'show', task.id).json().task.title).toBe('write the docs');
      expect(kanban(home, 'set-model', task.id).stdout).toBe(
        `Cleared model override on ${task.id} (worker uses its profile default)\n`,
      );
      expect(kanban(home, '--json', 'set-effort', task.id, 'inherit').json()).toMatchObject({ reasoningEffort: null });
      // A running task is its worker's: assign is refused; reassign --reclaim takes it back first.
      kanban(home, 'claim', task.id);
      expect(kanban(home, 'assign', task.id, 'other').status).toBe(1);
      const moved = kanban(home, '--json', 'reassign', task.id, 'other', '--reclaim', '--reason', 'stuck').json();
      expect(moved).toMatchObject({ status: 'ready', assignee: 'other', reclaimed: true });
    });
  });

  it('request-review, request-changes and reopen-review; runs lists the attempts', async () => {
    await withTempDir(async (home) => {
      const task = create(home, 'parser', '--assignee', 'coder');
      const work = kanban(home, '--json', 'claim', task.id).json();
      const review = kanban(
        home,
        '--json',
        'request-review',
        task.id,
        '--run',
        String(work.runId),
        '--reviewer',
        'critic',
        '--summary',
        'done',
        '--metadata',
        '{"pr":12}',
      );
      expect(review.json()).toMatchObject({ status: 'review', assignee: 'critic' });
      expect(kanban(home, 'request-review', task.id, '--metadata', '[1]').status).toBe(1);
      const reviewer = kanban(home, '--json', 'claim', task.id);
      expect(reviewer.json()).toBeNull(); // a review task is claimed by the review pass, not as a ready task
      await execScript(join(home, 'kanban.db'), `UPDATE tasks SET status = 'review' WHERE id = '${task.id}'`);
      expect(kanban(home, '--json', 'reopen-review', task.id, '--reason', 'wrong branch').json()).toMatchObject({
        status: 'ready',
        assignee: 'coder',
      });
      const runs = kanban(home, '--json', 'runs', task.id).json();
      expect(runs).toEqual([
        expect.objectContaining({ outcome: 'review_requested', status: 'review', metadata: { pr: 12 } }),
      ]);
      expect(kanban(home, 'runs', task.id).stdout).toMatch(
        /^#\s+OUTCOME\s+PROFILE\s+ELAPSED\s+STARTED\n1\s+review_requested\s+coder /,
      );
      expect(kanban(home, 'request-changes', task.id, 'not', 'reviewed').status).toBe(1);
      expect(kanban(home, 'runs', 't_missing').status).toBe(1);
    });
  });

  it('complete, unblock and archive take several ids, each on its own', async () => {
    await withTempDir(async (home) => {
      const a = create(home, 'a');
      const b = create(home, 'b');
      const run = kanban(home, '--json', 'complete', a.id, 't_missing', b.id);
      expect(run.status).toBe(1);
      expect(run.json()).toEqual([
        { id: a.id, ok: true, value: expect.objectContaining({ status: 'done' }) },
        { id: 't_missing', ok: false, error: { code: 'NOT_FOUND', message: expect.any(String) } },
        { id: b.id, ok: true, value: expect.objectContaining({ status: 'done' }) },
      ]);
      const text = kanban(home, 'archive', a.id, b.id);
      expect([text.status, text.stdout.split('\n').filter(Boolean).length]).toEqual([0, 2]);
      expect(kanban(home, 'complete', a.id, b.id, '--summary', 'x').status).toBe(1);
      const c = create(home, 'c', '--initial-status', 'blocked');
      const unblocked = kanban(home, '--json', 'unblock', c.id, '--reason', 'the key arrived');
      expect(unblocked.json()).toMatchObject({ status: 'ready' });
      expect(kanban(home, '--json', 'show', c.id).json().comments).toEqual([
        expect.objectContaining({ body: 'UNBLOCK: the key arrived' }),
      ]);
    });
  });

  it('delete removes unlinked tasks and refuses a linked one with REFERENCED, exit code 1', async () => {
    await withTempDir(async (home) => {
      const parent = create(home, 'parent');
      create(home, 'child', '--parent', parent.id);
      const lone = create(home, 'lone');
      expect(kanban(home, 'delete', lone.id)).toMatchObject({ status: 0, stdout: `deleted ${lone.id}\n` });
      const refused = kanban(home, 'delete', parent.id);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/REFERENCED/);
      expect(
        kanban(home, '--json', 'list')
          .json()
          .map((t: { title: string }) => t.title)
          .sort(),
      ).toEqual(['child', 'parent']);
    });
  });

  it('promote, with --dry-run', async () => {
    await withTempDir(async (home) => {
      const parent = create(home, 'parent');
      const child = create(home, 'child', '--parent', parent.id);
      const early = kanban(home, 'promote', child.id);
      expect([early.status, early.stderr]).toEqual([1, expect.stringContaining(parent.id)]);
      kanban(home, 'complete', parent.id);
      await execScript(join(home, 'kanban.db'), `UPDATE tasks SET status = 'todo' WHERE id = '${child.id}'`);
      expect(kanban(home, 'promote', child.id, 'ready', 'now', '--dry-run').stdout).toBe(
        `Would promote ${child.id} -> ready: ready now\n`,
      );
      expect(kanban(home, '--json', 'show', child.id).json().task.status).toBe('todo');
      expect(kanban(home, 'promote', child.id).stdout).toBe(`Promoted ${child.id} -> ready\n`);
    });
  });

  it('diagnostics names expired leases, breaker blocks, missing parents, lost subscriptions and an orphaned dispatch lock', async () => {
    await withTempDir(async (home) => {
      const db = join(home, 'kanban.db');
      expect(kanban(home, 'diagnostics').stdout).toBe('No active diagnostics on this board.\n');
      const stale = create(home, 'stale');
      kanban(home, 'claim', stale.id, '--ttl', '1');
      const broken = create(home, 'broken', '--max-retries', '1');
      kanban(home, 'claim', broken.id);
      kanban(home, 'fail', broken.id, '--error', 'boom');
      const orphan = create(home, 'orphan');
      await execScript(
        db,
        `INSERT INTO task_links VALUES ('t_gone', '${orphan.id}');
         INSERT INTO kanban_notify_subs (task_id, platform, chat_id, created_at) VALUES ('t_gone', 'slack', 'c', 1);
         UPDATE tasks SET claim_expires = 1 WHERE id = '${stale.id}';`,
      );
      // A lock whose taker (flock) exits while a process it started keeps the descriptor open.
      const holder = spawn('flock', [dispatchLockPath(db), 'sh', '-c', 'sleep 60 & echo $!'], { stdio: 'pipe' });
      let inheritor = '';
      holder.stdout.on('data', (chunk: Buffer) => (inheritor += chunk.toString()));
      await new Promise((resolve) => holder.on('exit', resolve));
      const kinds = kanban(home, '--json', 'diagnostics')
        .json()
        .map((d: { kind: string }) => d.kind);
      expect(kinds.sort()).toEqual([
        'dispatch_lock_orphaned',
        'lease_expired',
        'missing_parent',
        'repeated_failures',
        'undeliverable_subscription',
      ]);
      const errors = kanban(home, '--json', 'diagnostics', '--severity', 'error', '--task', orphan.id).json();
      expect(errors).toEqual([expect.objectContaining({ kind: 'missing_parent', taskId: orphan.id })]);
      process.kill(Number(inheritor.trim()));
    });
  });

  it('gc purges old archived tasks with everything theirs, and keeps a task a recipe names', async () => {
    await withTempDir(async (home) => {
      const db = join(home, 'kanban.db');
      const old = create(home, 'old');
      const recipe = create(home, 'recipe member');
      const fresh = create(home, 'fresh');
      kanban(home, 'comment', old.id, 'note');
      kanban(home, 'archive', old.id, recipe.id, fresh.id);
      await execScript(
        db,
        `${UPSTREAM_RECIPE_TABLES}
         INSERT INTO recipe_instances (id, idempotency_key, recipe_id, schema_version, definition_digest, request_digest,
           definition_json, inputs_json, bindings_json, effective_plan_json, created_at)
           VALUES ('ri_1', 'k', 'r', 1, 'd', 'r', '{}', '{}', '{}', '{}', 1);
         INSERT INTO recipe_instance_tasks VALUES ('ri_1', 'n', '${recipe.id}');
         UPDATE task_events SET created_at = created_at - 40 * 86400 WHERE task_id IN ('${old.id}', '${recipe.id}');`,
      );
      expect(kanban(home, '--json', 'gc', '--days', '30').json()).toEqual({
        purged: [old.id],
        keptForRecipes: [recipe.id],
      });
      const left = async (table: string) =>
        (await query(db, `SELECT COUNT(*) AS n FROM ${table} WHERE task_id = ?`, [old.id]))[0]?.n;
      expect([await left('task_events'), await left('task_comments'), await left('task_runs')]).toEqual([0, 0, 0]);
      expect((await query(db, 'SELECT id FROM tasks ORDER BY id')).map((r) => r.id).sort()).toEqual(
        [recipe.id, fresh.id].sort(),
      );
    });
  });

  it('boards show and boards rename, keeping the keys of board.json it does not know', async () => {
    await withTempDir(async (home) => {
      kanban(home, 'boards', 'create', 'ops');
      const meta = join(home, 'kanban', 'boards', 'ops', 'board.json');
      writeFileSync(meta, JSON.stringify({ name: 'Ops', default_workdir: '/srv/ops' }));
      expect(kanban(home, 'boards', 'rename', 'ops', 'Operations').stdout).toBe(
        "Board 'ops' renamed to 'Operations'.\n",
      );
      expect(JSON.parse(readFileSync(meta, 'utf8'))).toMatchObject({ name: 'Operations', default_workdir: '/srv/ops' });
      expect(kanban(home, 'boards', 'rename', 'nope', 'x').status).toBe(1);
      kanban(home, '--board', 'ops', 'create', 'a task');
      expect(kanban(home, '--board', 'ops', '--json', 'boards', 'show').json()).toMatchObject({
        slug: 'ops',
        name: 'Operations',
        stats: { total: 1 },
      });
      expect(kanban(home, 'boards', 'show').stdout).toMatch(/^Current board: default\n/);
    });
  });
});
