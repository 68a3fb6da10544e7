import { eq } from 'drizzle-orm';
import { join } from 'node:path';
import { tasks } from '../../src/core/schema';
import { ensureMigrated } from '../../src/engines/sqlite/migrate';
import { knownMigrations } from '../../src/engines/migrations';
import { openKanban } from '../../src/kanban';
import {
  FORK_ONLY_TASK_COLUMNS,
  NEWEST_RUN_COLUMNS,
  NEWEST_SHAPE,
  shapeNamed,
  UPSTREAM_RECIPE_TABLES,
  writeLegacyBoard,
} from '../helpers/legacy';
import { execScript, query, withTempDir } from '../helpers/temp';

const UPSTREAM = shapeNamed('8');
const modes = async (db: string) =>
  (await query(db, 'SELECT platform, delivery_mode FROM kanban_notify_subs ORDER BY platform')).map((r) => ({ ...r }));

/** The tables' row counts, to prove nothing was lost. */
async function counts(db: string): Promise<Record<string, number>> {
  const tables = await query(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  const out: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await query(db, `SELECT COUNT(*) AS n FROM "${String(name)}"`);
    out[String(name)] = Number(row?.n);
  }
  return out;
}

/** What the upstream's newest checks and adds when it opens a file (kanban_db_connect.py `_migrate_add_optional_columns`, `_rebuild_drifted_tables`): an empty list when it would change nothing. */
async function upstreamWouldChange(db: string): Promise<string[]> {
  const problems: string[] = [];
  for (const table of ['task_events', 'task_comments', 'task_runs']) {
    const [id] = await query(db, "SELECT upper(type) AS type, pk FROM pragma_table_info(?) WHERE name = 'id'", [table]);
    if (id?.type !== 'INTEGER' || Number(id.pk) !== 1) problems.push(`${table} would be rebuilt`);
  }
  const [cursor] = await query(
    db,
    "SELECT upper(type) AS type FROM pragma_table_info('kanban_notify_subs') WHERE name = 'last_event_id'",
  );
  if (cursor?.type !== 'INTEGER') problems.push('kanban_notify_subs would be rebuilt');
  const want: Record<string, string[]> = {
    tasks: ['provider_override', 'reasoning_effort', 'completion_contract', 'model_override', 'block_kind'],
    kanban_notify_subs: [
      'user_id_alt',
      'chat_type',
      'notifier_profile',
      'delivery_mode',
      'delivery_metadata',
      'last_ping_event_id',
    ],
    recipe_instances: ['id', 'idempotency_key', 'effective_plan_json', 'imported'],
    recipe_instance_tasks: ['instance_id', 'node_key', 'task_id'],
  };
  for (const [table, columns] of Object.entries(want)) {
    const have = (await query(db, 'SELECT name FROM pragma_table_info(?)', [table])).map((r) => String(r.name));
    problems.push(...columns.filter((c) => !have.includes(c)).map((c) => `${table}.${c} would be added`));
  }
  return problems;
}

describe('files shared with the upstream newest (NousResearch)', () => {
  it('a file of the upstream newest adopts with every row kept, gaining only the fork columns it lacks', async () => {
    await withTempDir(async (dir) => {
      const db = join(dir, 'kanban.db');
      await writeLegacyBoard(db, UPSTREAM);
      const before = await counts(db);
      const report = await ensureMigrated(db);
      expect(report.adoption).toMatchObject({ createdTables: [], copiedColumns: [], backfilledColumns: [] });
      expect([...(report.adoption?.addedColumns ?? [])].sort()).toEqual(
        [
          ...FORK_ONLY_TASK_COLUMNS.map((c) => `tasks.${c}`),
          ...NEWEST_RUN_COLUMNS.map((c) => `task_runs.${c.split(' ')[0]}`),
        ].sort(),
      );
      // Every row kept; the only rows added are the ledger's and one run per running task that had none.
      const runs = (before.task_runs ?? 0) + (report.adoption?.backfilledRuns ?? 0);
      expect(await counts(db)).toEqual({ ...before, task_runs: runs, __drizzle_migrations: knownMigrations().length });
      // Its own unique constraints stand for ours: no second unique index on the recipe tables.
      const unique = await query(
        db,
        `SELECT l.name FROM sqlite_master m, pragma_index_list(m.name) l
         WHERE m.name IN ('recipe_instances', 'recipe_instance_tasks') AND l."unique" = 1 AND l.origin <> 'pk'`,
      );
      expect(unique).toHaveLength(2);
      for (const { name } of unique) expect(String(name)).toMatch(/^sqlite_autoindex_/);
      expect(await modes(db)).toEqual([
        { platform: 'api_server', delivery_mode: 'wake' },
        { platform: 'slack', delivery_mode: 'notify' },
        { platform: 'tui', delivery_mode: 'notify' },
      ]);
      expect(await upstreamWouldChange(db)).toEqual([]);
    });
  });

  it('the upstream reopens a file kanban-db created without rebuilding or adding anything', async () => {
    await withTempDir(async (dir) => {
      const db = join(dir, 'kanban.db');
      await ensureMigrated(db);
      expect(await upstreamWouldChange(db)).toEqual([]);
      // Its CREATE TABLE IF NOT EXISTS of the recipe tables finds ours and leaves them.
      await execScript(db, UPSTREAM_RECIPE_TABLES);
      expect(await query(db, 'SELECT COUNT(*) AS n FROM recipe_instances')).toEqual([{ n: 0 }]);
    });
  });

  it('adopting the fork’s newest file marks its subscribers notify+wake, as the upstream does when it adds delivery_mode', async () => {
    await withTempDir(async (dir) => {
      const db = join(dir, 'kanban.db');
      await writeLegacyBoard(db, NEWEST_SHAPE);
      await execScript(
        db,
        "INSERT INTO kanban_notify_subs (task_id, platform, chat_id, created_at) VALUES ('t_00000002', 'tui', 'local', 1)",
      );
      const report = await ensureMigrated(db);
      expect(report.adoption?.backfilledColumns).toEqual(['kanban_notify_subs.delivery_mode']);
      expect(await modes(db)).toEqual([
        { platform: 'slack', delivery_mode: 'notify+wake' },
        { platform: 'tui', delivery_mode: 'notify' },
      ]);
    });
  });

  it('migrating a file kanban-db wrote before the upstream columns backfills delivery_mode the same way', async () => {
    await withTempDir(async (dir) => {
      const db = join(dir, 'kanban.db');
      const [latest, ...earlier] = [...knownMigrations()].reverse();
      // The file as the previous version of kanban-db left it: every migration but the newest.
      await execScript(
        db,
        [...earlier.reverse().flatMap((m) => m.sql), '']
          .join(';\n')
          .concat(`CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric);
            ${earlier.map((m) => `INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('${m.hash}', ${m.folderMillis});`).join('\n')}
            INSERT INTO tasks (id, title, status, created_at) VALUES ('t_1', 'x', 'ready', 1);
            INSERT INTO kanban_notify_subs (task_id, platform, chat_id, created_at) VALUES ('t_1', 'slack', 'c', 1), ('t_1', 'tui', 'l', 1);`),
      );
      const report = await ensureMigrated(db);
      expect(report.applied).toEqual([latest?.tag]);
      expect(await modes(db)).toEqual([
        { platform: 'slack', delivery_mode: 'notify+wake' },
        { platform: 'tui', delivery_mode: 'notify' },
      ]);
    });
  });

  it('keeps a task a recipe names from deletion: the foreign key holds on kanban-db’s connection', async () => {
    await withTempDir(async (dir) => {
      const db = join(dir, 'kanban.db');
      await writeLegacyBoard(db, UPSTREAM);
      const kb = await openKanban({ dbPath: db });
      try {
        expect(() => kb.db.delete(tasks).where(eq(tasks.id, 't_00000006')).run()).toThrow();
      } finally {
        kb.close();
      }
      expect(await query(db, "SELECT id FROM tasks WHERE id = 't_00000006'")).toHaveLength(1);
    });
  });
});
