import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { kanban, startGatewayProcess } from '../helpers/cli';
import { query, withTempDir } from '../helpers/temp';

const count = async (db: string, where: string) =>
  Number((await query(db, `SELECT COUNT(*) AS n FROM tasks WHERE ${where}`))[0]?.n);
const lines = (file: string): { id: number; kind: string }[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];

describe('one dispatcher per board', () => {
  it('two gateways on one board: one dispatches, the other waits, and each notification goes out once', async () => {
    await withTempDir(async (home) => {
      const ids = [1, 2, 3, 4, 5, 6].map(
        (i) => kanban(home, '--json', 'create', `task ${i}`, '--assignee', 'w').json().id,
      );
      for (const id of ids) expect(kanban(home, 'subscribe', id, '--platform', 'file', '--chat', 'ops').status).toBe(0);
      const db = join(home, 'kanban.db');
      const worker = 'cat >/dev/null; sleep 0.3; echo ok';
      const first = startGatewayProcess(home, worker, ['--max-workers', '1', '--notify-file', join(home, 'a.jsonl')]);
      expect(await first.until(async () => (await count(db, "status = 'running'")) === 1)).toBe(true);
      const second = startGatewayProcess(home, worker, ['--max-workers', '4', '--notify-file', join(home, 'b.jsonl')]);
      expect(
        await second.until(() => second.stderr().includes("another dispatcher holds default's dispatch lock")),
      ).toBe(true);
      expect(
        await first.until(
          async () =>
            (await count(db, "status = 'done'")) === 6 &&
            lines(join(home, 'a.jsonl')).length + lines(join(home, 'b.jsonl')).length === 6,
        ),
      ).toBe(true);
      for (const run of [first, second]) run.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(await second.exited).toBe(0);
      // Every run was claimed by the first gateway, one at a time as its cap says.
      expect(await query(db, 'SELECT DISTINCT claim_lock AS lock FROM task_runs')).toEqual([
        { lock: expect.stringMatching(new RegExp(`:${first.child.pid}$`)) },
      ]);
      const delivered = [...lines(join(home, 'a.jsonl')), ...lines(join(home, 'b.jsonl'))];
      expect(delivered.map((e) => e.kind)).toEqual(Array(6).fill('completed'));
      expect(new Set(delivered.map((e) => e.id)).size).toBe(6);
    });
  });

  it('does not dispatch a board while another program holds its flock, and starts when that lock is freed', async () => {
    await withTempDir(async (home) => {
      const { id } = kanban(home, '--json', 'create', 'waits for the lock', '--assignee', 'w').json();
      const db = join(home, 'kanban.db');
      // The original program's lock, taken the way it takes it: flock(LOCK_EX | LOCK_NB) on <db>.dispatch.lock.
      const holder = spawn('python3', [
        '-c',
        `import fcntl,sys; f=open(${JSON.stringify(`${db}.dispatch.lock`)}, 'a+b'); fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('held', flush=True); sys.stdin.read()`,
      ]);
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      // A second board, whose lock is free, shows the dispatcher ticking while the first stays locked.
      kanban(home, 'boards', 'create', 'other');
      kanban(home, '--board', 'other', 'create', 'runs meanwhile', '--assignee', 'w');
      const other = join(home, 'kanban', 'boards', 'other', 'kanban.db');
      const run = startGatewayProcess(home, 'cat >/dev/null; echo ok');
      expect(await run.until(() => run.stderr().includes('another dispatcher holds'))).toBe(true);
      expect(await run.until(async () => (await count(other, "status = 'done'")) === 1)).toBe(true);
      expect(await query(db, 'SELECT status FROM tasks WHERE id = ?', [id])).toEqual([{ status: 'ready' }]);
      holder.stdin.end();
      expect(await run.until(async () => (await count(db, "status = 'done'")) === 1)).toBe(true);
      expect(run.stderr()).toContain("default's dispatch lock is free again");
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    });
  });

  it('holds the lock while it dispatches, so the original program’s tick would find it taken', async () => {
    await withTempDir(async (home) => {
      kanban(home, 'create', 'anything', '--assignee', 'w');
      const db = join(home, 'kanban.db');
      const run = startGatewayProcess(home, 'sleep 30', ['--grace', '100']);
      expect(await run.until(async () => (await count(db, "status = 'running'")) === 1)).toBe(true);
      const probe = () =>
        new Promise<string>((resolve) => {
          const py = spawn('python3', [
            '-c',
            `import fcntl; f=open(${JSON.stringify(`${db}.dispatch.lock`)}, 'a+b')\ntry:\n  fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\nexcept BlockingIOError:\n  print('taken')`,
          ]);
          let out = '';
          py.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
          py.on('exit', () => resolve(out.trim()));
        });
      expect(await probe()).toBe('taken');
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(await probe()).toBe('free');
    });
  });
});
