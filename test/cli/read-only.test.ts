import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openKanban } from '../../src/kanban';
import { CLI, kanban } from '../helpers/cli';
import { query, withTempDir } from '../helpers/temp';

/**
 * Runs `kanban` bound by file permissions. Root ignores them, so as root the command runs without
 * the capabilities that bypass them (setpriv from util-linux), which makes root obey modes like anyone.
 */
function asReader(home: string, ...args: string[]) {
  const node = [process.execPath, CLI, '--home', home, ...args];
  const command =
    process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', ...node] : node;
  const run = spawnSync(command[0] ?? '', command.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, KANBAN_DB: '', KANBAN_BOARD: '' },
  });
  if (run.error) throw new Error(`could not run ${command[0]}: ${run.error.message}`);
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('a board this user may only read', () => {
  it('lists and shows a WAL board whose file is read-only, and refuses a write with READ_ONLY without changing it', async () => {
    await withTempDir(async (home) => {
      const { id } = kanban(home, '--json', 'create', 'readable').json();
      const db = join(home, 'kanban.db');
      chmodSync(db, 0o444);
      const list = asReader(home, 'list');
      expect(list).toMatchObject({ status: 0, stdout: expect.stringContaining('readable') });
      expect(asReader(home, 'show', id)).toMatchObject({ status: 0, stdout: expect.stringContaining(id) });
      const write = asReader(home, 'create', 'refused');
      expect(write.status).toBe(1);
      expect(write.stderr).toContain(`${db} cannot be written`);
      expect(write.stderr).toContain('[READ_ONLY]');
      expect(await query(db, 'SELECT COUNT(*) AS n FROM tasks')).toEqual([{ n: 1 }]);
    });
  });

  it('lists a rollback-journal board in a folder nobody may write', async () => {
    await withTempDir(async (home) => {
      const kb = await openKanban({ home, board: 'default', wal: false });
      await kb.createTask({ title: 'in rollback mode' });
      kb.close();
      const db = join(home, 'kanban.db');
      chmodSync(db, 0o444);
      chmodSync(home, 0o555);
      try {
        expect(asReader(home, 'list')).toMatchObject({
          status: 0,
          stdout: expect.stringContaining('in rollback mode'),
        });
        expect(asReader(home, 'create', 'refused')).toMatchObject({
          status: 1,
          stderr: expect.stringContaining('[READ_ONLY]'),
        });
      } finally {
        chmodSync(home, 0o755);
      }
    });
  });

  it('says why a WAL board in a read-only folder cannot be read: SQLite must create its -shm file', async () => {
    await withTempDir(async (home) => {
      kanban(home, 'create', 'locked away');
      const db = join(home, 'kanban.db');
      expect(existsSync(`${db}-shm`)).toBe(false);
      chmodSync(db, 0o444);
      chmodSync(home, 0o555);
      try {
        const list = asReader(home, 'list');
        expect(list.status).toBe(1);
        expect(list.stderr).toContain(`SQLite must create ${db}-shm`);
        expect(list.stderr).toContain('[READ_ONLY]');
      } finally {
        chmodSync(home, 0o755);
      }
    });
  });
});
