/** Row 7: what the repository adds to create, get and list, against the same SQL written by hand. */
import { join } from 'node:path';
import { openKanban, tasks } from 'kanban-db';
import { eq } from 'drizzle-orm';
import { rawClient } from '../test/helpers/temp';
import { readyBoard } from './board';
import { rawCreate, rawGet, rawList } from './raw-sql';
import type { Row } from './report';
import { interleave, perCall, sampleOf, series, warmUp } from './stats';

const BOARD_TASKS = 2_000;
const REPS = 9;
const LIST_LIMIT = 100;

export async function overheadRows(dir: string): Promise<Row[]> {
  const file = await readyBoard(join(dir, 'overhead.db'), BOARD_TASKS);
  const kb = await openKanban({ dbPath: file });
  const client = rawClient(file);
  const id = (i: number) => `t_${((i % BOARD_TASKS) + 1).toString(16).padStart(8, '0')}`;
  try {
    const cases = [
      { what: 'create', calls: 100, ours: () => kb.createTask({ title: 'bench' }), raw: () => rawCreate(client, 'bench') },
      { what: 'get by id', calls: 500, ours: (i: number) => kb.getTask(id(i)), raw: (i: number) => rawGet(client, id(i)) },
      { what: `list (${LIST_LIMIT} rows)`, calls: 40, ours: () => kb.listTasks({ limit: LIST_LIMIT }), raw: () => rawList(client, LIST_LIMIT) },
    ];
    const rows: Row[] = [];
    for (const [index, c] of cases.entries()) {
      const ours = series(perCall(c.calls, c.ours));
      const raw = series(perCall(c.calls, c.raw));
      await warmUp([ours, raw]);
      await interleave(REPS, [ours, raw]);
      rows.push({
        id: `7.${index + 1}`,
        what: `Repository overhead: ${c.what} (${c.calls} calls a run)`,
        unit: 'µs/call',
        ours: sampleOf(ours),
        baseline: { name: 'the same SQL by hand, parameterised, on @libsql/client', sample: sampleOf(raw) },
        target: { text: '≤ 1.5× raw', met: sampleOf(ours).median <= 1.5 * sampleOf(raw).median },
      });
    }
    return rows;
  } finally {
    kb.close();
    client.close();
  }
}

/**
 * Row 9, to explain rows 6 and 7: what drizzle spends building one statement, before SQLite sees
 * it. Inside a transaction every statement is built anew, as drizzle's prepared queries belong to
 * the client rather than to a transaction.
 */
export async function buildRow(dir: string): Promise<Row> {
  const kb = await openKanban({ dbPath: join(dir, 'build.db') });
  const BUILDS = 2_000;
  const build = (query: () => { toSQL(): unknown }) => perCall(BUILDS, async () => query().toSQL());
  const fullRow = series(build(() => kb.db.select().from(tasks).where(eq(tasks.id, 't_00000001'))));
  const oneColumn = series(build(() => kb.db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, 't_00000001'))));
  try {
    await warmUp([fullRow, oneColumn]);
    await interleave(REPS, [fullRow, oneColumn]);
  } finally {
    kb.close();
  }
  return {
    id: '9',
    what: 'Building one drizzle statement that names all 27 task columns (`select().from(tasks)`; `returning()` is alike), not running it',
    unit: 'µs/call',
    ours: sampleOf(fullRow),
    baseline: { name: 'building a one-column select', sample: sampleOf(oneColumn) },
    notes: 'informative: the claim cycle of row 6 builds three full-row statements and eight small ones per task',
  };
}
