import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { alive, kanban, startGatewayProcess } from '../helpers/cli';
import { query, withTempDir } from '../helpers/temp';

/** Runs a Python script to its end, as another program sharing the board would. */
function python(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`python3 exited ${code}: ${stderr}`))));
  });
}

/** Points the claim-order index at the pages `rootpage` names, from another process, as a damage or its repair. */
const pointIndexAt = (db: string, rootpage: string) =>
  python(`import sqlite3
c = sqlite3.connect(${JSON.stringify(db)}, isolation_level=None)
version = c.execute("PRAGMA schema_version").fetchone()[0]
c.execute("PRAGMA writable_schema = ON")
c.execute("UPDATE sqlite_master SET rootpage = (${rootpage}) WHERE name = 'idx_tasks_claim_order'")
c.execute(f"PRAGMA schema_version = {version + 1}")`);

const count = async (db: string, where: string) =>
  Number((await query(db, `SELECT COUNT(*) AS n FROM tasks WHERE ${where}`))[0]?.n);
/** A worker that records its shell's pid and a grandchild's, then waits for the grandchild. */
const PIDS_WORKER = (dir: string, seconds: number) =>
  `sleep ${seconds} & echo "$$ $!" > ${dir}/pids-$KANBAN_TASK_ID; wait`;
const pidsOf = (dir: string, id: string) =>
  readFileSync(join(dir, `pids-${id}`), 'utf8')
    .trim()
    .split(' ')
    .map(Number);

describe('the gateway under faults', () => {
  it('records a finished worker’s result after another process held the write lock past the busy timeout', async () => {
    await withTempDir(async (home) => {
      const ids = [1, 2].map((i) => kanban(home, '--json', 'create', `task ${i}`, '--assignee', 'w').json().id);
      const db = join(home, 'kanban.db');
      const run = startGatewayProcess(home, 'cat >/dev/null; sleep 1; echo ok', ['--busy-timeout', '200']);
      expect(await run.until(async () => (await count(db, "status = 'running'")) === 2)).toBe(true);
      // Python's sqlite3 holds the write lock for 3 s while both workers finish.
      const holder = spawn('python3', [
        '-c',
        `import sqlite3,time; c=sqlite3.connect(${JSON.stringify(db)}, isolation_level=None); c.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(3)`,
      ]);
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      expect(await run.until(async () => (await count(db, "status = 'done'")) === 2)).toBe(true);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.stderr()).toContain('locked by another process');
      for (const id of ids)
        expect(await query(db, 'SELECT status, outcome FROM task_runs WHERE task_id = ?', [id])).toEqual([
          { status: 'done', outcome: 'completed' },
        ]);
    });
  });

  it('on SIGTERM waits out the grace period, then kills each worker’s whole process group and hands the tasks back', async () => {
    await withTempDir(async (home) => {
      const ids = [1, 2].map((i) => kanban(home, '--json', 'create', `task ${i}`, '--assignee', 'w').json().id);
      const db = join(home, 'kanban.db');
      const run = startGatewayProcess(home, PIDS_WORKER(home, 60), ['--grace', '500']);
      expect(await run.until(() => ids.every((id) => existsSync(join(home, `pids-${id}`))))).toBe(true);
      const pids = ids.flatMap((id) => pidsOf(home, id));
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.stderr()).toMatch(/stopping; waiting up to 0\.5 s for/);
      expect(pids.filter(alive)).toEqual([]);
      expect(await count(db, "status = 'running'")).toBe(0);
      expect(await count(db, "status = 'ready'")).toBe(2);
      expect(
        await query(db, "SELECT COUNT(*) AS n FROM task_runs WHERE outcome = 'reclaimed' AND ended_at IS NOT NULL"),
      ).toEqual([{ n: 2 }]);
    });
  });

  it('records a worker that finishes within the grace period as completed', async () => {
    await withTempDir(async (home) => {
      const { id } = kanban(home, '--json', 'create', 'quick', '--assignee', 'w').json();
      const db = join(home, 'kanban.db');
      const run = startGatewayProcess(home, `touch ${home}/started; sleep 1; echo finished`, ['--grace', '10000']);
      expect(await run.until(() => existsSync(join(home, 'started')))).toBe(true);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(await query(db, 'SELECT status, result FROM tasks WHERE id = ?', [id])).toEqual([
        { status: 'done', result: 'finished' },
      ]);
    });
  });

  it('a second signal cuts the grace short and still hands every task back', async () => {
    await withTempDir(async (home) => {
      const { id } = kanban(home, '--json', 'create', 'long', '--assignee', 'w').json();
      const db = join(home, 'kanban.db');
      const run = startGatewayProcess(home, PIDS_WORKER(home, 60), ['--grace', '600000']);
      expect(await run.until(() => existsSync(join(home, `pids-${id}`)))).toBe(true);
      run.child.kill('SIGINT');
      expect(await run.until(() => run.stderr().includes('stopping'))).toBe(true);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
      expect(pidsOf(home, id).filter(alive)).toEqual([]);
      expect(await query(db, 'SELECT status FROM tasks WHERE id = ?', [id])).toEqual([{ status: 'ready' }]);
    });
  });

  it('when the gateway is killed with SIGKILL, its workers end too, and the task runs again once after its lease', async () => {
    await withTempDir(async (home) => {
      const { id } = kanban(home, '--json', 'create', 'orphan', '--assignee', 'w').json();
      const db = join(home, 'kanban.db');
      const first = startGatewayProcess(
        home,
        `if [ -e ${home}/again ]; then echo second; else touch ${home}/again; ${PIDS_WORKER(home, 60)}; fi`,
        ['--claim-ttl', '1'],
      );
      expect(await first.until(() => existsSync(join(home, `pids-${id}`)))).toBe(true);
      const pids = pidsOf(home, id);
      first.child.kill('SIGKILL');
      await first.exited;
      const gone = await first.until(() => pids.every((pid) => !alive(pid)), 5_000);
      expect(pids.filter(alive)).toEqual([]);
      expect(gone).toBe(true);
      const second = startGatewayProcess(
        home,
        `if [ -e ${home}/again ]; then echo second; else touch ${home}/again; sleep 60; fi`,
      );
      expect(await second.until(async () => (await count(db, "status = 'done'")) === 1)).toBe(true);
      second.child.kill('SIGTERM');
      await second.exited;
      expect(await query(db, 'SELECT outcome FROM task_runs WHERE task_id = ? ORDER BY id', [id])).toEqual([
        { outcome: 'reclaimed' },
        { outcome: 'completed' },
      ]);
      expect(await query(db, 'SELECT result FROM tasks WHERE id = ?', [id])).toEqual([{ result: 'second' }]);
    });
  });

  it('honours a runtime limit beyond Node’s 24.8-day timer ceiling instead of killing the worker at once', async () => {
    await withTempDir(async (home) => {
      const { id } = kanban(home, '--json', 'create', 'patient', '--assignee', 'w', '--max-runtime', '3000000').json();
      const db = join(home, 'kanban.db');
      const run = startGatewayProcess(home, 'sleep 0.3; echo ok');
      expect(await run.until(async () => (await count(db, "status <> 'ready' AND status <> 'running'")) === 1)).toBe(
        true,
      );
      run.child.kill('SIGTERM');
      await run.exited;
      expect(await query(db, 'SELECT status, result FROM tasks WHERE id = ?', [id])).toEqual([
        { status: 'done', result: 'ok' },
      ]);
    });
  });

  it('runs a task whose title is too large for the environment, with the task on stdin only', async () => {
    await withTempDir(async (home) => {
      kanban(home, 'migrate');
      const db = join(home, 'kanban.db');
      const title = 'x'.repeat(1_000_000);
      await query(
        db,
        "INSERT INTO tasks (id, title, status, assignee, created_at) VALUES ('t_0000b16b', ?, 'ready', 'w', 1)",
        [title],
      );
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
      const run = startGatewayProcess(home, 'printf "%s:" "${#KANBAN_TASK_TITLE}"; wc -c | tr -d " "');
      expect(await run.until(async () => (await count(db, "status = 'done'")) === 1)).toBe(true);
      run.child.kill('SIGTERM');
      await run.exited;
      const [row] = await query(db, "SELECT result FROM tasks WHERE id = 't_0000b16b'");
      const [envLength, stdinBytes] = String(row?.result).split(':').map(Number);
      expect(envLength).toBe(0);
      expect(stdinBytes).toBeGreaterThan(1_000_000);
    });
  });

  it('after CORRUPT, drops the board’s connection, says so once, and works the board again once it is sound', async () => {
    await withTempDir(async (home) => {
      const db = join(home, 'kanban.db');
      kanban(home, 'create', 'before', '--assignee', 'w');
      const run = startGatewayProcess(home, 'cat >/dev/null; echo ok');
      try {
        expect(await run.until(async () => (await count(db, "status = 'done'")) === 1)).toBe(true);
        // Another program damages the claim-order index (pointing it at another table's pages), then repairs it.
        const [sound] = await query(db, "SELECT rootpage FROM sqlite_master WHERE name = 'idx_tasks_claim_order'");
        await pointIndexAt(db, "SELECT rootpage FROM sqlite_master WHERE name = 'task_events'");
        expect(await run.until(() => run.stderr().includes('reopening its connection on the next tick'))).toBe(true);
        await pointIndexAt(db, String(sound?.rootpage));
        kanban(home, 'create', 'after', '--assignee', 'w');
        expect(await run.until(async () => (await count(db, "status = 'done'")) === 2)).toBe(true);
        expect(run.stderr().match(/reopening its connection/g)).toHaveLength(1);
        expect(await run.until(() => run.stderr().includes('default: reopened; working it again'))).toBe(true);
      } finally {
        run.child.kill('SIGTERM');
      }
      expect(await run.exited).toBe(0);
    });
  });

  it('counts a worker command that cannot start as a failure through the breaker', async () => {
    await withTempDir(async (home) => {
      const { id } = kanban(home, '--json', 'create', 'doomed', '--assignee', 'w', '--max-retries', '1').json();
      const db = join(home, 'kanban.db');
      const run = startGatewayProcess(home, `${home}/no-such-worker`);
      expect(await run.until(async () => (await count(db, "status = 'blocked'")) === 1)).toBe(true);
      run.child.kill('SIGTERM');
      await run.exited;
      expect(await query(db, 'SELECT consecutive_failures FROM tasks WHERE id = ?', [id])).toEqual([
        { consecutive_failures: 1 },
      ]);
      expect(run.stderr()).toMatch(
        new RegExp(`${id} \\(run \\d+, [\\d.]+ s\\) crashed, gave up after 1 failures: .*no-such-worker`),
      );
    });
  });
});

describe('the command line refuses bad input before anything runs', () => {
  it.each([
    [['--board', 'typo', 'list'], 'BOARD_NOT_FOUND'],
    [['--board', 'typo', 'gateway', '--worker', 'true'], 'BOARD_NOT_FOUND'],
    [['claim', 't_nope'], 'NOT_FOUND'],
  ])('%j fails with %s and creates no board', async (args, code) => {
    await withTempDir(async (home) => {
      const run = kanban(home, ...args);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`[${code}]`);
      expect(existsSync(join(home, 'kanban', 'boards', 'typo'))).toBe(false);
    });
  });

  it.each([
    ['board', '--width', '0'],
    ['board', '--width', '-5'],
    ['gateway', '--worker', 'true', '--max-workers', '0'],
    ['gateway', '--worker', 'true', '--tick', 'soon'],
    ['list', '--limit', '0'],
    ['events', '--limit', '0'],
    ['create', 'x', '--max-retries', '0'],
    ['create', 'x', '--max-runtime', '0'],
    ['heartbeat', 't_1', '--ttl', '0'],
    ['complete', 't_1', '--run', '0'],
  ])('%j is refused by the option parser', async (...args) => {
    await withTempDir(async (home) => {
      const run = kanban(home, ...args);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/must be at least 1|is not a whole number/);
    });
  });

  it('works the file --db names, not the default board', async () => {
    await withTempDir(async (home) => {
      const file = join(home, 'elsewhere.db');
      const { id } = kanban(home, '--db', file, '--json', 'create', 'there', '--assignee', 'w').json();
      const run = startGatewayProcess(home, 'echo done-there', ['--db', file]);
      expect(await run.until(async () => (await count(file, "status = 'done'")) === 1)).toBe(true);
      run.child.kill('SIGTERM');
      await run.exited;
      expect(await query(file, 'SELECT result FROM tasks WHERE id = ?', [id])).toEqual([{ result: 'done-there' }]);
      expect(existsSync(join(home, 'kanban.db'))).toBe(false);
    });
  });
});
