/** Row 7: what the repository adds to create, get and list, against the same SQL written by hand. */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openKanban, tasks, type Kanban } from 'kanban-db';
import { eq } from 'drizzle-orm';
import { rawClient } from '../test/helpers/temp';
import { readyBoard } from './board';
import { rawCreate, rawGet, rawList } from './raw-sql';
import type { Row } from './report';
import { interleave, sampleOf, series, warmUp } from './stats';

const BOARD_TASKS = 2_000;
const REPS = 9;
const LIST_LIMIT = 100;

/** Microseconds per call of `op`, over `calls` calls. */
const perCall = (calls: number, op: (i: number) => Promise<unknown>) => async () => {
  const start = performance.now();
  for (let i = 0; i < calls; i++) await op(i);
  return ((performance.now() - start) * 1000) / calls;
};

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
    rows.push(await buildRow(kb));
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
async function buildRow(kb: Kanban): Promise<Row> {
  const BUILDS = 5_000;
  const build = (query: () => { toSQL(): unknown }) => perCall(BUILDS, async () => query().toSQL());
  const fullRow = series(build(() => kb.db.select().from(tasks).where(eq(tasks.id, 't_00000001'))));
  const oneColumn = series(build(() => kb.db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, 't_00000001'))));
  await warmUp([fullRow, oneColumn]);
  await interleave(REPS, [fullRow, oneColumn]);
  return {
    id: '9',
    what: 'Building one drizzle statement that names all 27 task columns (`select().from(tasks)`; `returning()` is alike), not running it',
    unit: 'µs/call',
    ours: sampleOf(fullRow),
    baseline: { name: 'building a one-column select', sample: sampleOf(oneColumn) },
    notes: 'informative: the claim cycle of row 6 builds three full-row statements and eight small ones per task',
  };
}
