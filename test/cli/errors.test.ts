import { spawnSync } from 'node:child_process';
import { openSync, writeSync, closeSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, kanban } from '../helpers/cli';
import { execScript, withTempDir } from '../helpers/temp';

describe('errors a person can act on', () => {
  it('reports a file damaged mid-way as CORRUPT with its path, on reads and on writes that meet the damage', async () => {
    await withTempDir(async (home) => {
      kanban(home, 'migrate');
      const db = join(home, 'kanban.db');
      await execScript(
        db,
        `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 3000)
         INSERT INTO tasks (id, title, body, status, created_at) SELECT printf('t_%08x', n), 'task ' || n, hex(randomblob(200)), 'ready', n FROM seq;
         PRAGMA wal_checkpoint(TRUNCATE);`,
      );
      // Scribble over the middle of the file, leaving the header and the schema page intact.
      const fd = openSync(db, 'r+');
      writeSync(fd, Buffer.alloc(16 * 4096, 0x5a), 0, 16 * 4096, Math.floor(statSync(db).size / 2 / 4096) * 4096);
      closeSync(fd);
      const list = kanban(home, 'list');
      expect(list.status).toBe(1);
      expect(list.stderr).toContain(`${db} is damaged`);
      expect(list.stderr).toContain('[CORRUPT]');
      const stats = kanban(home, 'stats');
      expect(stats.stderr).toContain('[CORRUPT]');
      // --debug shows what SQLite said beneath the coded error.
      const debug = kanban(home, '--debug', 'list');
      expect(debug.stderr).toMatch(
        /KanbanError: .* is damaged[\s\S]*\[code CORRUPT\]\ncaused by: [\s\S]*\[code SQLITE_CORRUPT/,
      );
    });
  });

  it('reports a home that is a file, or below one, as HOME_UNUSABLE naming the folder', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'not-a-folder');
      writeFileSync(file, 'x');
      for (const home of [file, join(file, 'below')]) {
        const run = kanban(home, 'list');
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(`Cannot create the folder ${home}: a file, not a folder, stands in its way`);
        expect(run.stderr).toContain('[HOME_UNUSABLE]');
      }
    });
  });

  it('reports a full disk as DISK_FULL with the path, writing nothing (a 256 KiB tmpfs)', async () => {
    await withTempDir(async (home) => {
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', home], { encoding: 'utf8' });
      if (mount.status !== 0)
        throw new Error(`this test mounts a small tmpfs and needs root: mount said ${mount.stderr.trim()}`);
      try {
        kanban(home, 'migrate');
        const run = kanban(home, 'create', 'big', '--body', 'x'.repeat(100_000));
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(`${join(home, 'kanban.db')} could not grow`);
        expect(run.stderr).toContain('[DISK_FULL]');
        expect(kanban(home, '--json', 'list').json()).toEqual([]);
      } finally {
        spawnSync('umount', [home]);
      }
    });
  });

  it('reports a write past the file-size limit (ulimit -f) as IO_ERROR with the path, writing nothing', async () => {
    await withTempDir(async (home) => {
      kanban(home, 'migrate');
      const db = join(home, 'kanban.db');
      const run = spawnSync(
        '/bin/sh',
        [
          '-c',
          'ulimit -f 80; exec "$@"',
          'sh',
          process.execPath,
          CLI,
          '--home',
          home,
          'create',
          'big',
          '--body',
          'x'.repeat(100_000),
        ],
        { encoding: 'utf8' },
      );
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`${db} could not be read or written`);
      expect(run.stderr).toContain('[IO_ERROR]');
      expect(kanban(home, '--json', 'list').json()).toEqual([]);
    });
  });
});
