import { join } from 'node:path';
import { ensureMigrated } from '../../src/engines/sqlite/migrate';
import { forgetFile } from '../../src/engines/sqlite/migrate';
import { LEGACY_SHAPES, writeLegacyBoard } from '../helpers/legacy';
import { query, schemaOf, withTempDir } from '../helpers/temp';

const RENAMED_KINDS: Record<string, string> = {
  ready: 'promoted',
  priority: 'reprioritized',
  spawn_auto_blocked: 'gave_up',
};

async function dump(path: string) {
  const tables = await query(path, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const { name } of tables)
    out[String(name)] = (await query(path, `SELECT rowid AS _rowid, * FROM "${String(name)}" ORDER BY rowid`)).map(
      (r) => ({ ...r }),
    );
  return out;
}

describe.each(LEGACY_SHAPES)('adopting a file of shape $name', (shape) => {
  it('keeps every table, column and row, and applies only the documented changes', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      await writeLegacyBoard(path, shape);
      const before = await dump(path);
      const report = await ensureMigrated(path);
      expect(report.adopted).toBe(true);
      const after = await dump(path);

      for (const [table, rows] of Object.entries(before)) {
        const synthesised = table === 'task_runs' ? (report.adoption?.backfilledRuns ?? 0) : 0;
        expect(after[table]).toHaveLength(rows.length + synthesised);
        rows.forEach((row, i) => {
          const adopted = after[table]?.[i] ?? {};
          for (const [column, value] of Object.entries(row)) {
            if (table === 'task_events' && column === 'kind')
              expect(adopted[column]).toBe(RENAMED_KINDS[String(value)] ?? value);
            else if (table === 'tasks' && column === 'current_run_id' && value === null && row.status === 'running')
              expect(adopted[column]).not.toBeNull();
            else expect(adopted[column]).toEqual(value);
          }
        });
      }
      // The failure counters read the same through their current names.
      const legacy = await query(path, `SELECT id, ${shape.counter} AS counter FROM tasks ORDER BY id`);
      const current = await query(path, 'SELECT id, consecutive_failures AS counter FROM tasks ORDER BY id');
      expect(current).toEqual(legacy);
      expect(current.some((r) => Number(r.counter) > 0)).toBe(true);
      // Every running task points at exactly one open run.
      const running = await query(
        path,
        "SELECT t.id, (SELECT COUNT(*) FROM task_runs r WHERE r.task_id = t.id AND r.ended_at IS NULL) AS open, t.current_run_id FROM tasks t WHERE status = 'running'",
      );
      expect(running.length).toBeGreaterThan(0);
      for (const task of running) expect([Number(task.open), task.current_run_id === null]).toEqual([1, false]);
    });
  });

  it('ends with every column and index of a fresh file, plus what it had', async () => {
    await withTempDir(async (dir) => {
      const fresh = join(dir, 'fresh.db');
      const old = join(dir, 'old.db');
      await ensureMigrated(fresh);
      await writeLegacyBoard(old, shape);
      await ensureMigrated(old);
      const want = await schemaOf(fresh);
      const got = await schemaOf(old);
      for (const [table, { columns, indexes }] of Object.entries(want)) {
        const have = got[table];
        for (const column of columns) {
          const match = have?.columns.find((c) => c.name === column.name);
          // Python declares primary keys without NOT NULL (`id TEXT PRIMARY KEY`); all else must match.
          expect(match).toEqual(Number(column.pk) > 0 ? { ...column, notnull: match?.notnull } : column);
        }
        expect(have?.indexes).toMatchObject(indexes);
      }
    });
  });

  it('changes nothing when run again', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      await writeLegacyBoard(path, shape);
      await ensureMigrated(path);
      const [schema, rows] = [await schemaOf(path), await dump(path)];
      forgetFile(path);
      expect((await ensureMigrated(path)).applied).toEqual([]);
      expect(await schemaOf(path)).toEqual(schema);
      expect(await dump(path)).toEqual(rows);
    });
  });
});
