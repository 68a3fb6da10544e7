import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureMigrated } from '../../src/engines/sqlite/migrate';
import { knownMigrations } from '../../src/engines/migrations';
import { forgetFile } from '../../src/engines/sqlite/migrate';
import { isKanbanError, type KanbanErrorCode } from '../../src/errors';
import { execScript, query, schemaOf, withTempDir } from '../helpers/temp';

async function ledger(path: string) {
  return query(path, 'SELECT hash, created_at FROM __drizzle_migrations');
}

async function expectRefusal(promise: Promise<unknown>, code: KanbanErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isKanbanError(error, code)).toBe(true);
}

describe('ensureMigrated on a new file', () => {
  it('creates every table and records each migration once in drizzle’s ledger', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      const report = await ensureMigrated(path);
      expect(report.applied).toEqual(knownMigrations().map((m) => m.tag));
      expect(report.adopted).toBe(false);
      expect(report.journalMode).toBe('wal');
      const tables = await query(path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining([
          'tasks',
          'task_links',
          'task_comments',
          'task_events',
          'task_runs',
          'kanban_notify_subs',
        ]),
      );
      expect(await ledger(path)).toHaveLength(knownMigrations().length);
    });
  });

  it('leaves the journal mode alone when WAL is turned off', async () => {
    await withTempDir(async (dir) => {
      const report = await ensureMigrated(join(dir, 'kanban.db'), { wal: false });
      expect(report.journalMode).toBe('delete');
    });
  });

  it('resolves every spelling of one file to one migration: 16 concurrent callers', async () => {
    await withTempDir(async (dir) => {
      mkdirSync(join(dir, 'real'));
      symlinkSync(join(dir, 'real'), join(dir, 'link'));
      const path = join(dir, 'real', 'kanban.db');
      const spellings = [
        path,
        relative(process.cwd(), path),
        join(dir, 'real', '..', 'real', 'kanban.db'),
        join(dir, 'link', 'kanban.db'),
        pathToFileURL(path).href,
        `file:${path}`,
        pathToFileURL(join(dir, 'link', 'kanban.db')).href,
        `${pathToFileURL(path).href}?mode=rwc`,
      ];
      const reports = await Promise.all(
        Array.from({ length: 16 }, (_, i) => ensureMigrated(spellings[i % spellings.length] ?? path)),
      );
      expect(new Set(reports).size).toBe(1);
      expect(reports[0]?.path).toBe(path);
      expect(await ledger(path)).toHaveLength(knownMigrations().length);
    });
  });

  it('answers from memory after success, without touching the file system', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'board', 'kanban.db');
      mkdirSync(join(dir, 'board'));
      const first = await ensureMigrated(path);
      // With the folder gone, any file access would fail with FOLDER_MISSING.
      renameSync(join(dir, 'board'), join(dir, 'moved'));
      await expect(ensureMigrated(path)).resolves.toBe(first);
    });
  });

  it('does not remember a failed attempt', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      writeFileSync(path, 'not a database '.repeat(100));
      await expectRefusal(ensureMigrated(path), 'NOT_A_DATABASE');
      rmSync(path);
      const report = await ensureMigrated(path);
      expect(report.applied).toHaveLength(knownMigrations().length);
    });
  });

  it('does nothing the second time, even in a new process state', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      await ensureMigrated(path);
      const before = await schemaOf(path);
      forgetFile(path);
      const again = await ensureMigrated(path);
      expect(again.applied).toEqual([]);
      expect(await schemaOf(path)).toEqual(before);
      expect(await ledger(path)).toHaveLength(knownMigrations().length);
    });
  });
});

describe('ensureMigrated on a file an earlier kanban-db migrated', () => {
  it('applies only the newer migrations, keeps every row, and the claim order then reads an index', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      const [first, ...later] = knownMigrations();
      if (!first || later.length === 0) throw new Error('this test needs at least two migrations');
      await execScript(
        path,
        `${first.sql.join(';\n')};
         CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric);
         INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('${first.hash}', ${first.folderMillis});
         INSERT INTO tasks (id, title, status, priority, created_at) VALUES ('t_00000001', 'kept', 'ready', 3, 1700000000);`,
      );
      const report = await ensureMigrated(path);
      expect(report.applied).toEqual(later.map((m) => m.tag));
      expect(await ledger(path)).toHaveLength(knownMigrations().length);
      expect(await query(path, 'SELECT id, title, priority FROM tasks')).toEqual([
        expect.objectContaining({ id: 't_00000001', title: 'kept', priority: 3 }),
      ]);
      const plan = await query(
        path,
        "EXPLAIN QUERY PLAN SELECT id FROM tasks WHERE status = 'ready' AND claim_lock IS NULL ORDER BY priority DESC, created_at ASC, id ASC LIMIT 1",
      );
      expect(plan.map((row) => String(row.detail))).toEqual([
        'SEARCH tasks USING INDEX idx_tasks_claim_order (status=?)',
      ]);
    });
  });
});

describe('ensureMigrated refuses, leaving the file as it was', () => {
  it('NOT_A_DATABASE for a file that is not SQLite, naming the path', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      const bytes = Buffer.from('PK\u0003\u0004 a zip file, not a board '.repeat(200));
      writeFileSync(path, bytes);
      const error = await ensureMigrated(path).catch((e: unknown) => e);
      expect(isKanbanError(error, 'NOT_A_DATABASE')).toBe(true);
      expect(error instanceof Error && error.message).toContain(path);
      expect(readFileSync(path)).toEqual(bytes);
    });
  });

  it('SCHEMA_TOO_NEW when the ledger holds a migration this code does not know', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      await ensureMigrated(path);
      await execScript(
        path,
        `INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('future', ${Date.now() + 1e9})`,
      );
      const before = await schemaOf(path);
      forgetFile(path);
      await expectRefusal(ensureMigrated(path), 'SCHEMA_TOO_NEW');
      expect(await schemaOf(path)).toEqual(before);
    });
  });

  it('MIGRATION_MODIFIED when an applied migration’s hash no longer matches its file', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      await ensureMigrated(path);
      await execScript(path, "UPDATE __drizzle_migrations SET hash = 'edited'");
      forgetFile(path);
      await expectRefusal(ensureMigrated(path), 'MIGRATION_MODIFIED');
      expect((await ledger(path))[0]?.hash).toBe('edited');
    });
  });

  it('NOT_A_FILE for a directory and FOLDER_MISSING for a missing folder, creating nothing', async () => {
    await withTempDir(async (dir) => {
      await expectRefusal(ensureMigrated(dir), 'NOT_A_FILE');
      await expectRefusal(ensureMigrated(join(dir, 'missing', 'kanban.db')), 'FOLDER_MISSING');
      expect(readdirSync(dir)).toEqual([]);
    });
  });

  it('UNRECOGNISED_SCHEMA when a kanban table lacks a column no version lacks, rolling back the adoption', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      await execScript(
        path,
        "CREATE TABLE tasks (id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at INTEGER NOT NULL); INSERT INTO tasks VALUES ('t_00000001', 'ready', 1)",
      );
      const before = await schemaOf(path);
      await expectRefusal(ensureMigrated(path), 'UNRECOGNISED_SCHEMA');
      expect(await schemaOf(path)).toEqual(before);
    });
  });
});
