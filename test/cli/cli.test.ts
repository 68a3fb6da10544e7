import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { knownMigrations } from '../../src/engines/migrations';
import { EARLIEST_SHAPE, writeLegacyBoard } from '../helpers/legacy';
import { kanban, startGatewayProcess } from '../helpers/cli';
import { query, withTempDir } from '../helpers/temp';

describe('the kanban command', () => {
  it('creates, links, claims, fails, completes and shows tasks, with stable --json', async () => {
    await withTempDir(async (home) => {
      expect(kanban(home, '--json', 'migrate').json()).toMatchObject({
        applied: knownMigrations().map((m) => m.tag),
        adopted: false,
      });
      const parent = kanban(home, '--json', 'create', 'Design', '--assignee', 'Builder', '--priority', '2').json();
      const child = kanban(home, '--json', 'create', 'Build', '--parent', parent.id).json();
      expect([parent.status, parent.assignee, child.status]).toEqual(['ready', 'builder', 'todo']);
      const claim = kanban(home, '--json', 'claim').json();
      expect(claim.task.id).toBe(parent.id);
      expect(
        kanban(home, '--json', 'fail', parent.id, '--error', 'boom', '--run', String(claim.runId)).json(),
      ).toMatchObject({ failures: 1, gaveUp: false });
      const again = kanban(home, '--json', 'claim', parent.id).json();
      expect(
        kanban(home, '--json', 'complete', parent.id, '--run', String(again.runId), '--result', 'ok').json(),
      ).toMatchObject({ status: 'done', result: 'ok' });
      expect(
        kanban(home, '--json', 'list', '--status', 'ready')
          .json()
          .map((t: { id: string }) => t.id),
      ).toEqual([child.id]);
      kanban(home, 'comment', child.id, 'looks good', '--author', 'ana');
      const shown = kanban(home, '--json', 'show', child.id).json();
      expect(shown.comments[0]).toMatchObject({ author: 'ana', body: 'looks good' });
      expect(shown.events.map((e: { kind: string }) => e.kind)).toEqual(['created', 'promoted', 'commented']);
      expect(kanban(home, '--json', 'stats').json().byStatus).toMatchObject({ done: 1, ready: 1 });
      expect(kanban(home, 'board').stdout).toContain('DONE (1)');
      expect(
        kanban(home, '--json', 'events', '--task', parent.id)
          .json()
          .map((e: { kind: string }) => e.kind),
      ).toContain('crashed');
    });
  });

  it('completes a task and claims the next one of an assignee in one call with complete --claim-next', async () => {
    await withTempDir(async (home) => {
      const first = kanban(home, '--json', 'create', 'first', '--assignee', 'w', '--priority', '2').json();
      const second = kanban(home, '--json', 'create', 'second', '--assignee', 'w').json();
      kanban(home, 'create', 'not mine', '--assignee', 'x', '--priority', '9');
      const claim = kanban(home, '--json', 'claim', first.id).json();
      const both = kanban(
        home,
        '--json',
        'complete',
        first.id,
        '--run',
        String(claim.runId),
        '--claim-next',
        '--assignee',
        'w',
      ).json();
      expect(both.completed).toMatchObject({ id: first.id, status: 'done' });
      expect(both.next.task).toMatchObject({ id: second.id, status: 'running', currentRunId: both.next.runId });
      expect(kanban(home, 'complete', second.id, '--claim-next', '--assignee', 'w').stdout).toContain(
        'nothing to claim',
      );
    });
  });

  it('runs the demo, the main job, until its board settles: 4 done, 1 blocked by the breaker, 4 notifications', async () => {
    await withTempDir(async (home) => {
      const run = kanban(home, 'demo');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('summary: 4 done, 1 blocked, 4 notifications delivered');
      expect(run.stdout).toMatch(/blocked Call the flaky model — breaker: 2 failures, last: could not reach the model/);
      expect(run.stdout).not.toContain('did not settle');
    });
  });

  it.each([
    [['complete', 't_00000000'], 'NOT_FOUND'],
    [['create', '   '], 'INVALID_INPUT'],
    [['--board', '../x', 'list'], 'INVALID_BOARD'],
    [['list', '--status', 'doing'], 'Use one of'],
    [['create', 'x', '--priority', '1.5'], 'not a whole number'],
  ])('refuses %j with one line on stderr and a non-zero exit', async (args, expected) => {
    await withTempDir(async (home) => {
      const run = kanban(home, ...args);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain(expected);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(home, 'kanban', 'boards', 'x'))).toBe(false);
    });
  });

  it('manages boards', async () => {
    await withTempDir(async (home) => {
      kanban(home, 'boards', 'create', 'side');
      kanban(home, 'boards', 'switch', 'side');
      expect(kanban(home, '--json', 'status').json()).toMatchObject({ board: 'side' });
      expect(
        kanban(home, '--json', 'boards', 'list')
          .json()
          .map((b: { slug: string }) => b.slug),
      ).toEqual(['default', 'side']);
      expect(kanban(home, '--json', 'boards', 'rm', 'side').json()).toMatchObject({ action: 'archived' });
    });
  });
});

describe('kanban gateway', () => {
  /** Runs the gateway until `settled` holds (or 20 s pass), then stops it with SIGTERM as a service manager would. */
  async function gateway(
    home: string,
    worker: string,
    settled: (stderr: string) => Promise<boolean>,
    extra: string[] = [],
  ) {
    const run = startGatewayProcess(home, worker, extra);
    // Waits for the condition, however long a loaded machine takes, and fails here if it never holds.
    expect(await run.until(() => settled(run.stderr()), 90_000)).toBe(true);
    run.child.kill('SIGTERM');
    return { code: await run.exited, stderr: run.stderr() };
  }
  const booted = async (stderr: string) => stderr.includes('running');

  it('blocks a task whose worker always fails with gave_up, and completes the others', async () => {
    await withTempDir(async (home) => {
      const ok = kanban(home, '--json', 'create', 'fine', '--assignee', 'w').json();
      const bad = kanban(home, '--json', 'create', 'broken', '--assignee', 'bad').json();
      const db = join(home, 'kanban.db');
      const run = await gateway(
        home,
        'if [ "$KANBAN_ASSIGNEE" = bad ]; then echo nope >&2; exit 3; fi; echo "did $KANBAN_TASK_ID"',
        async () => {
          const open = await query(db, "SELECT COUNT(*) AS n FROM tasks WHERE status NOT IN ('done', 'blocked')");
          return open[0]?.n === 0;
        },
        ['--retry-backoff', '0'],
      );
      expect(run.code).toBe(0);
      expect(await query(db, 'SELECT status, result FROM tasks WHERE id = ?', [ok.id])).toEqual([
        { status: 'done', result: `did ${ok.id}` },
      ]);
      expect(await query(db, 'SELECT status, consecutive_failures FROM tasks WHERE id = ?', [bad.id])).toEqual([
        { status: 'blocked', consecutive_failures: 2 },
      ]);
      expect(
        await query(db, "SELECT COUNT(*) AS n FROM task_events WHERE task_id = ? AND kind = 'gave_up'", [bad.id]),
      ).toEqual([{ n: 1 }]);
    });
  });

  it('renews the lease of a worker that outlives it, so the task is not released while it runs', async () => {
    await withTempDir(async (home) => {
      const task = kanban(home, '--json', 'create', 'slow', '--assignee', 'w').json();
      const db = join(home, 'kanban.db');
      const run = await gateway(
        home,
        'sleep 5; echo finished',
        async () => (await query(db, "SELECT 1 FROM tasks WHERE status = 'done'")).length > 0,
        ['--claim-ttl', '2'],
      );
      expect(run.stderr).not.toMatch(/failed|STALE_RUN/);
      expect(await query(db, 'SELECT status, outcome FROM task_runs WHERE task_id = ?', [task.id])).toEqual([
        { status: 'done', outcome: 'completed' },
      ]);
    });
  });

  it('passes shell syntax in a title and body to the worker as text, never as a command', async () => {
    await withTempDir(async (home) => {
      const marker = join(home, 'pwned');
      kanban(home, 'create', `$(touch ${marker})`, '--body', `\`touch ${marker}\`; touch ${marker}`, '--assignee', 'w');
      await gateway(
        home,
        'printf "%s" "$KANBAN_TASK_TITLE"; cat >/dev/null',
        async () => (await query(join(home, 'kanban.db'), "SELECT 1 FROM tasks WHERE status = 'done'")).length > 0,
      );
      expect(existsSync(marker)).toBe(false);
      expect(await query(join(home, 'kanban.db'), 'SELECT result FROM tasks')).toEqual([
        { result: `$(touch ${marker})` },
      ]);
    });
  });

  it('refills a slot the moment its worker exits, without waiting for the next tick', async () => {
    await withTempDir(async (home) => {
      for (let i = 0; i < 6; i++) kanban(home, 'create', `task ${i}`, '--assignee', 'w');
      const db = join(home, 'kanban.db');
      const allDone = async () =>
        (await query(db, "SELECT COUNT(*) AS n FROM tasks WHERE status <> 'done'"))[0]?.n === 0;
      // One worker and an hour between ticks: only the first task is claimed by a tick.
      const run = await gateway(home, 'true', allDone, ['--max-workers', '1', '--tick', '3600000']);
      expect(run.code).toBe(0);
      expect(await query(db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'done'")).toEqual([{ n: 6 }]);
      expect(await query(db, "SELECT COUNT(*) AS n FROM task_runs WHERE outcome = 'completed'")).toEqual([{ n: 6 }]);
    });
  });

  it('gives ready tasks without an assignee to --default-assignee, and says how many it skips without one', async () => {
    await withTempDir(async (home) => {
      const { id } = kanban(home, '--json', 'create', 'nobody’s').json();
      const db = join(home, 'kanban.db');
      const skipped = await gateway(home, 'true', async (stderr) => stderr.includes('1 ready task'));
      expect(skipped.stderr).toContain('1 ready task on default has no assignee and will not run');
      expect(await query(db, 'SELECT status FROM tasks WHERE id = ?', [id])).toEqual([{ status: 'ready' }]);
      const done = async () => (await query(db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'done'"))[0]?.n === 1;
      const run = await gateway(home, 'echo "$KANBAN_ASSIGNEE"', done, ['--default-assignee', 'helper']);
      expect(run.code).toBe(0);
      expect(await query(db, 'SELECT assignee, result FROM tasks WHERE id = ?', [id])).toEqual([
        { assignee: 'helper', result: 'helper' },
      ]);
      const [assigned] = await query(db, "SELECT payload FROM task_events WHERE task_id = ? AND kind = 'assigned'", [
        id,
      ]);
      expect(JSON.parse(String(assigned?.payload))).toEqual({ assignee: 'helper', source: 'kanban.default_assignee' });
    });
  });

  it.each([
    ['a fresh file', async () => undefined],
    ['an old-shaped file', async (db: string) => writeLegacyBoard(db, EARLIEST_SHAPE)],
  ])('boots on %s with both loops together, logging no migration error, over 5 trials', async (_what, prepare) => {
    for (let trial = 0; trial < 5; trial++) {
      await withTempDir(async (home) => {
        await prepare(join(home, 'kanban.db'));
        const run = await gateway(home, 'true', booted);
        expect(run.code).toBe(0);
        expect(run.stderr).toContain('gateway: stopped');
        expect(run.stderr).not.toMatch(/failed|error/i);
        expect(await query(join(home, 'kanban.db'), 'SELECT COUNT(*) AS n FROM __drizzle_migrations')).toEqual([
          { n: knownMigrations().length },
        ]);
      });
    }
  });
});

describe('kanban subscribe', () => {
  it('subscribes, lists and unsubscribes a chat, and says so when there was nothing to remove', async () => {
    await withTempDir(async (home) => {
      const { id } = kanban(home, '--json', 'create', 'watched').json();
      expect(kanban(home, 'subscribe', id, '--platform', 'telegram', '--chat', '42', '--thread', '7').stdout).toContain(
        `${id} → telegram/42/7`,
      );
      expect(kanban(home, '--json', 'subscriptions').json()).toEqual([
        expect.objectContaining({ taskId: id, platform: 'telegram', chatId: '42', threadId: '7', chatType: 'dm' }),
      ]);
      expect(
        kanban(home, '--json', 'unsubscribe', id, '--platform', 'telegram', '--chat', '42', '--thread', '7').json(),
      ).toEqual({ removed: true });
      expect(kanban(home, 'unsubscribe', id, '--platform', 'telegram', '--chat', '42').stdout).toContain(
        'was not subscribed',
      );
      expect(kanban(home, 'subscriptions', id).stdout.trim()).toBe('no subscriptions');
      const missing = kanban(home, 'subscribe', 't_nope', '--platform', 'telegram', '--chat', '42');
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain('[NOT_FOUND]');
    });
  });
});

describe('the newest original’s statuses and blocks on the command line', () => {
  it('schedules, lists and draws scheduled tasks, blocks by kind, and shows blockKind and blockRecurrences in --json', async () => {
    await withTempDir(async (home) => {
      const later = kanban(home, '--json', 'create', 'later').json();
      const stuck = kanban(home, '--json', 'create', 'stuck').json();
      expect(kanban(home, 'schedule', later.id, '--reason', 'after Monday').stdout).toContain('scheduled');
      expect(
        kanban(home, '--json', 'list', '--status', 'scheduled')
          .json()
          .map((t: { id: string }) => t.id),
      ).toEqual([later.id]);
      expect(kanban(home, 'board').stdout).toContain('SCHEDULED (1)');
      expect(
        kanban(home, '--json', 'block', stuck.id, '--reason', 'which key?', '--kind', 'needs_input').json(),
      ).toMatchObject({ status: 'blocked', blockKind: 'needs_input', blockRecurrences: 1 });
      expect(kanban(home, 'show', stuck.id).stdout).toContain('block kind: needs_input (1 in a row)');
      const wrong = kanban(home, 'block', stuck.id, '--reason', 'x', '--kind', 'tired');
      expect(wrong.status).toBe(1);
      expect(kanban(home, '--json', 'unblock', later.id).json()).toMatchObject({ status: 'ready' });
    });
  });
});
