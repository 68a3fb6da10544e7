import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMigrated } from '../../src/engines/sqlite/migrate';
import { knownMigrations } from '../../src/engines/migrations';
import { FIXTURES, releaseTogether, startChildren, type LineChild } from '../helpers/children';
import { EARLIEST_SHAPE, shapeNamed, writeLegacyBoard } from '../helpers/legacy';
import { query, schemaOf, withTempDir } from '../helpers/temp';

const PROCESSES = 8;
const TRIALS = 25;
const SCENARIOS = ['fresh', 'current', 'old-early', 'old-bug-report'] as const;

interface BootAnswer {
  ok: boolean;
  applied: string[];
  adopted: boolean;
  code?: string;
  message?: string;
}

async function prepare(path: string, scenario: (typeof SCENARIOS)[number], wal: boolean): Promise<void> {
  if (scenario === 'current') await ensureMigrated(path, { wal });
  if (scenario === 'old-early') await writeLegacyBoard(path, EARLIEST_SHAPE);
  if (scenario === 'old-bug-report') await writeLegacyBoard(path, shapeNamed('5'));
}

describe(`${PROCESSES} processes booting on one file at the same moment`, () => {
  let children: LineChild[] = [];
  beforeAll(async () => {
    children = await startChildren(PROCESSES, 'boot-child.js');
  });
  afterAll(() => {
    for (const child of children) child.stop();
  });

  describe.each([
    ['WAL', true],
    ['rollback journal', false],
  ])('in %s mode', (_mode, wal) => {
    it.each(SCENARIOS)(
      `never fail on a %s file over ${TRIALS} trials, and record each migration once`,
      async (scenario) => {
        await withTempDir(async (dir) => {
          for (let trial = 0; trial < TRIALS; trial++) {
            const path = join(dir, `trial-${trial}.db`);
            await prepare(path, scenario, wal);
            const answers = await releaseTogether<BootAnswer>(children, { file: path, wal });
            expect(answers.filter((a) => !a.ok)).toEqual([]);
            const migrators = answers.filter((a) => a.applied.length > 0);
            expect(migrators).toHaveLength(scenario === 'current' ? 0 : 1);
            expect(migrators.every((a) => a.adopted === scenario.startsWith('old'))).toBe(true);
            const ledger = await query(path, 'SELECT created_at FROM __drizzle_migrations');
            expect(ledger).toHaveLength(knownMigrations().length);
          }
        });
      },
    );
  });
});

describe('a process killed in the middle of a migration', () => {
  it.each([
    ['rollback', '-journal'],
    ['wal', '-wal'],
  ])('leaves the old schema and every row intact (%s mode), and the next start finishes', async (mode, suffix) => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'kanban.db');
      await writeLegacyBoard(path, EARLIEST_SHAPE, 200_000);
      const schema = await schemaOf(path);
      const counters = await query(path, 'SELECT SUM(spawn_failures) AS total, COUNT(*) AS n FROM tasks');

      const child = spawn(process.execPath, [join(FIXTURES, 'migrate-once.js'), path, mode]);
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      // The journal grows once the migration's transaction writes: that is the middle of it.
      while ((statSync(path + suffix, { throwIfNoEntry: false })?.size ?? 0) === 0)
        await new Promise((r) => setImmediate(r));
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      expect(await schemaOf(path)).toEqual(schema);
      expect(await query(path, 'SELECT SUM(spawn_failures) AS total, COUNT(*) AS n FROM tasks')).toEqual(counters);

      const report = await ensureMigrated(path, { wal: mode === 'wal' });
      expect(report.adopted).toBe(true);
      expect(await query(path, 'SELECT SUM(consecutive_failures) AS total, COUNT(*) AS n FROM tasks')).toEqual(
        counters,
      );
    });
  });
});
