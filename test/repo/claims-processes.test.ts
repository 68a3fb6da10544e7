import { join } from 'node:path';
import { openKanban } from '../../src/kanban';
import { releaseTogether, startChildren } from '../helpers/children';
import { query, withTempDir } from '../helpers/temp';

const PROCESSES = 8;
const TASKS = 400;

describe(`${PROCESSES} processes claiming from one board`, () => {
  it(`claim each of ${TASKS} tasks exactly once`, async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'kanban.db');
      const kb = await openKanban({ dbPath: file });
      for (let i = 0; i < TASKS; i++) await kb.createTask({ title: `task ${i}`, priority: i % 7 });
      kb.close();
      const children = await startChildren(PROCESSES, 'claim-child.js');
      try {
        const answers = await releaseTogether<{ ok: boolean; claimed: string[] }>(children, { file });
        expect(answers.filter((a) => !a.ok)).toEqual([]);
        const claimed = answers.flatMap((a) => a.claimed);
        expect(claimed).toHaveLength(TASKS);
        expect(new Set(claimed).size).toBe(TASKS);
        expect(answers.filter((a) => a.claimed.length > 0).length).toBeGreaterThan(1);
        expect(await query(file, "SELECT COUNT(*) AS n FROM task_runs WHERE outcome = 'completed'")).toEqual([
          { n: TASKS },
        ]);
        expect(await query(file, "SELECT COUNT(*) AS n FROM task_events WHERE kind = 'claimed'")).toEqual([
          { n: TASKS },
        ]);
      } finally {
        for (const child of children) child.stop();
      }
    });
  });
});
