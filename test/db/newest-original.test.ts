import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureMigrated, forgetFile } from '../../src/engines/sqlite/migrate';
import { knownMigrations } from '../../src/engines/migrations';
import { openKanban } from '../../src/kanban';
import {
  EARLIEST_SHAPE,
  NEWEST_SHAPE,
  LEGACY_SHAPES,
  NEWEST_RUN_COLUMNS,
  NEWEST_TASK_COLUMNS,
  writeLegacyBoard,
} from '../helpers/legacy';
import { query, withTempDir } from '../helpers/temp';

const NEWEST = NEWEST_SHAPE;
const EARLY = EARLIEST_SHAPE;
const columnsOf = async (db: string, table: string) =>
  (await query(db, 'SELECT name FROM pragma_table_info(?)', [table])).map((r) => String(r.name));

/** What the newest original checks when it opens a file (its `_rebuild_drifted_tables` and `_migrate_add_optional_columns`): the tables it would rebuild, and every column it needs. */
async function originalWouldAccept(db: string): Promise<string[]> {
  const problems: string[] = [];
  for (const table of ['task_events', 'task_comments', 'task_runs']) {
    const [id] = await query(db, "SELECT upper(type) AS type, pk FROM pragma_table_info(?) WHERE name = 'id'", [table]);
    if (id?.type !== 'INTEGER' || Number(id.pk) !== 1) problems.push(`${table}.id would be rebuilt`);
  }
  const [cursor] = await query(
    db,
    "SELECT upper(type) AS type FROM pragma_table_info('kanban_notify_subs') WHERE name = 'last_event_id'",
  );
  if (cursor?.type !== 'INTEGER') problems.push('kanban_notify_subs would be rebuilt');
  const want: Record<string, string[]> = {
    tasks: NEWEST_TASK_COLUMNS,
    task_runs: NEWEST_RUN_COLUMNS.map((c) => c.split(' ')[0] ?? c),
    kanban_notify_subs: ['notifier_profile'],
    task_attachments: ['id', 'task_id', 'filename', 'stored_path', 'content_type', 'size', 'uploaded_by', 'created_at'],
  };
  for (const [table, columns] of Object.entries(want)) {
    const have = await columnsOf(db, table);
    problems.push(...columns.filter((c) => !have.includes(c)).map((c) => `${table}.${c} missing`));
  }
  return problems;
}

describe('files shared with the newest original', () => {
  it('a file kanban-db creates passes the checks the newest original runs when it opens one', async () => {
    await withTempDir(async (dir) => {
      const db = join(dir, 'kanban.db');
      await ensureMigrated(db);
      expect(await originalWouldAccept(db)).toEqual([]);
    });
  });

  it.each(LEGACY_SHAPES.map((s) => [s.name, s] as const))(
    'adopting shape %s leaves every column of the newest version in place',
    async (_name, shape) => {
      await withTempDir(async (dir) => {
        const db = join(dir, 'kanban.db');
        await writeLegacyBoard(db, shape);
        await ensureMigrated(db);
        expect(await originalWouldAccept(db)).toEqual([]);
      });
    },
  );

  it('adopting a file of the newest version adds only what the upstream added since', async () => {
    await withTempDir(async (dir) => {
      const db = join(dir, 'kanban.db');
      await writeLegacyBoard(db, NEWEST);
      const report = await ensureMigrated(db);
      expect(report.adoption).toMatchObject({
        createdTables: ['recipe_instances', 'recipe_instance_tasks'],
        addedColumns: [
          'tasks.provider_override',
          'tasks.reasoning_effort',
          'tasks.completion_contract',
          'kanban_notify_subs.user_id_alt',
          'kanban_notify_subs.chat_type',
          'kanban_notify_subs.delivery_mode',
          'kanban_notify_subs.delivery_metadata',
          'kanban_notify_subs.last_ping_event_id',
        ],
      });
      expect(await query(db, "SELECT status FROM tasks WHERE id = 't_00000006'")).toEqual([{ status: 'scheduled' }]);
    });
  });

  it('applies the newest-columns migration to a file the original already gave those columns, adding nothing twice', async () => {
    await withTempDir(async (dir) => {
      const db = join(dir, 'kanban.db');
      await ensureMigrated(db);
      // As if kanban-db had stopped at the previous migration and the newest original had opened the file since.
      const newest = knownMigrations().at(-1);
      await query(db, 'DELETE FROM __drizzle_migrations WHERE created_at = ?', [newest?.folderMillis ?? 0]);
      forgetFile(db);
      const report = await ensureMigrated(db);
      expect(report.applied).toEqual([newest?.tag]);
      expect(await originalWouldAccept(db)).toEqual([]);
    });
  });
});

describe('failure counters of an early file, kept in step', () => {
  it('a failure either program records is seen by the other’s counter, and a reset by either resets both', async () => {
    await withTempDir(async (dir) => {
      const db = join(dir, 'kanban.db');
      await writeLegacyBoard(db, EARLY);
      const kb = await openKanban({ dbPath: db, retryBackoff: { baseSeconds: 0 } });
      try {
        const task = await kb.createTask({ title: 'shared', maxRetries: 10 });
        const counters = async () =>
          (
            await query(
              db,
              'SELECT consecutive_failures AS ours, spawn_failures AS theirs, last_failure_error AS e1, last_spawn_error AS e2 FROM tasks WHERE id = ?',
              [task.id],
            )
          )[0];
        // The early original counts a spawn failure in its own columns.
        await query(
          db,
          "UPDATE tasks SET spawn_failures = spawn_failures + 1, last_spawn_error = 'spawn: no such file' WHERE id = ?",
          [task.id],
        );
        expect(await counters()).toEqual({ ours: 1, theirs: 1, e1: 'spawn: no such file', e2: 'spawn: no such file' });
        const claim = await kb.claimTask(task.id);
        await kb.recordFailure(task.id, { runId: claim?.runId, error: 'crashed' });
        expect(await counters()).toEqual({ ours: 2, theirs: 2, e1: 'crashed', e2: 'crashed' });
        await query(db, 'UPDATE tasks SET spawn_failures = 0, last_spawn_error = NULL WHERE id = ?', [task.id]);
        expect(await counters()).toMatchObject({ ours: 0, theirs: 0 });
        await query(db, 'UPDATE tasks SET spawn_failures = 1 WHERE id = ?', [task.id]);
        await kb.completeTask(task.id);
        expect(await counters()).toMatchObject({ ours: 0, theirs: 0 });
      } finally {
        kb.close();
      }
    });
  });

  it('loses no count when the early original (Python) and kanban-db record failures of one task at the same time', async () => {
    await withTempDir(async (dir) => {
      const db = join(dir, 'kanban.db');
      await writeLegacyBoard(db, EARLY);
      const kb = await openKanban({ dbPath: db, retryBackoff: { baseSeconds: 0 } });
      try {
        const task = await kb.createTask({ title: 'raced', maxRetries: 1000 });
        const python = spawn('python3', [
          '-c',
          `import sqlite3\nc = sqlite3.connect(${JSON.stringify(db)}, timeout=30, isolation_level=None)\nfor _ in range(25):\n  c.execute('BEGIN IMMEDIATE'); c.execute("UPDATE tasks SET spawn_failures = spawn_failures + 1 WHERE id = ?", (${JSON.stringify(task.id)},)); c.execute('COMMIT')`,
        ]);
        const exited = new Promise<number | null>((resolve) => python.on('exit', resolve));
        for (let i = 0; i < 25; i++) {
          const claim = await kb.claimTask(task.id);
          await kb.recordFailure(task.id, { runId: claim?.runId, error: `failure ${i}` });
        }
        expect(await exited).toBe(0);
        expect(
          await query(db, 'SELECT consecutive_failures AS ours, spawn_failures AS theirs FROM tasks WHERE id = ?', [
            task.id,
          ]),
        ).toEqual([{ ours: 50, theirs: 50 }]);
      } finally {
        kb.close();
      }
    });
  });
});
