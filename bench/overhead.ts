/** Row 7: what the repository adds to create, get and list, against the same statements prepared by hand on libsql. */
import { join } from 'node:path';
import { openKanban } from 'kanban-db';
import { readyBoard } from './board';
import { openPrepared } from './raw-sql';
import type { Row } from './report';
import { interleave, perCall, sampleOf, series, warmUp } from './stats';

const BOARD_TASKS = 2_000;
const REPS = 9;
const LIST_LIMIT = 100;

export async function overheadRows(dir: string): Promise<Row[]> {
  const file = await readyBoard(join(dir, 'overhead.db'), BOARD_TASKS);
  const kb = await openKanban({ dbPath: file });
  const raw = openPrepared(file);
  const id = (i: number) => `t_${((i % BOARD_TASKS) + 1).toString(16).padStart(8, '0')}`;
  try {
    const cases = [
      {
        what: 'create',
        calls: 100,
        ours: () => kb.createTask({ title: 'bench' }),
        raw: async () => raw.ops.create('bench'),
      },
      {
        what: 'get by id',
        calls: 2_000,
        ours: (i: number) => kb.getTask(id(i)),
        raw: async (i: number) => raw.ops.get(id(i)),
      },
      {
        what: `list (${LIST_LIMIT} rows)`,
        calls: 200,
        ours: () => kb.listTasks({ limit: LIST_LIMIT }),
        raw: async () => raw.ops.list(LIST_LIMIT),
      },
    ];
    const rows: Row[] = [];
    for (const [index, c] of cases.entries()) {
      const ours = series(perCall(c.calls, c.ours));
      const limit = series(perCall(c.calls, c.raw));
      await warmUp([ours, limit]);
      await interleave(REPS, [ours, limit]);
      rows.push({
        id: `7.${index + 1}`,
        what: `Repository overhead: ${c.what} (${c.calls} calls a run)`,
        unit: 'µs/call',
        ours: sampleOf(ours),
        baseline: { name: 'the same statements prepared once on libsql, by hand', sample: sampleOf(limit) },
        target: { text: '≤ 1.2× the prepared limit', met: sampleOf(ours).median <= 1.2 * sampleOf(limit).median },
      });
    }
    return rows;
  } finally {
    kb.close();
    raw.close();
  }
}
