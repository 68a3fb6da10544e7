/**
 * Rows P1, P2: the boot step on a PostgreSQL server the bench starts itself (as the tests do),
 * against drizzle's own node-postgres `migrate()`, contenders taking turns.
 */
import { ensurePgMigrated, forgetPgDatabase } from 'kanban-db';
import { startTestServer } from '../test/helpers/postgres';
import { drizzlePgMigrate } from './baselines';
import { askTogether, startPool } from './children';
import type { Reply } from './protocol';
import type { Row } from './report';
import { elapsed, interleave, sampleOf, series } from './stats';

const PROCESSES = 8;
const TRIALS = 10;
const BOOTS = 15;

export async function postgresRows(): Promise<Row[]> {
  const server = await startTestServer();
  const [ours, drizzle] = await Promise.all([startPool(PROCESSES), startPool(PROCESSES)]);
  try {
    // P1: a process booting on a current database.
    const current = await server.database('bench_current');
    await ensurePgMigrated(current);
    const oursBoot = series(() => {
      forgetPgDatabase(current);
      return elapsed(() => ensurePgMigrated(current));
    });
    // drizzle keeps its own ledger (in the `drizzle` schema): its no-op path is on a database it migrated.
    const drizzleCurrent = await server.database('bench_current_drizzle');
    await drizzlePgMigrate(drizzleCurrent);
    const drizzleBoot = series(() => elapsed(() => drizzlePgMigrate(drizzleCurrent)));
    await interleave(BOOTS, [oursBoot, drizzleBoot]);

    // P2: eight processes booting one empty database together.
    let n = 0;
    const failures = { ours: [] as Reply[], drizzle: [] as Reply[] };
    const storm = (op: 'pg-open' | 'pg-migrate', failed: Reply[], pool: typeof ours) =>
      series(async () => {
        const url = await server.database(`bench_storm_${n++}`);
        const { replies, ms } = await askTogether(pool, () => ({ op, file: url }));
        failed.push(...replies.filter((r) => !r.ok));
        return ms;
      });
    const oursStorm = storm('pg-open', failures.ours, ours);
    const drizzleStorm = storm('pg-migrate', failures.drizzle, drizzle);
    await interleave(TRIALS, [oursStorm, drizzleStorm]);
    const boots = PROCESSES * TRIALS;
    const codes = [...new Set(failures.drizzle.map((r) => `${r.code}: ${r.message}`))].slice(0, 2).join('; ');
    return [
      {
        id: 'P1',
        what: 'PostgreSQL: boot on a current database, `ensurePgMigrated` (connect, read the ledger)',
        unit: 'ms',
        ours: sampleOf(oursBoot),
        baseline: {
          name: "drizzle's node-postgres `migrate()` (connect, its no-op path)",
          sample: sampleOf(drizzleBoot),
        },
        target: { text: 'no slower than `migrate()`', met: sampleOf(oursBoot).median <= sampleOf(drizzleBoot).median },
      },
      {
        id: 'P2',
        what: `PostgreSQL: ${PROCESSES} processes released together on one empty database, until all are ready`,
        unit: 'ms',
        ours: sampleOf(oursStorm),
        baseline: { name: "the same with drizzle's node-postgres `migrate()`", sample: sampleOf(drizzleStorm) },
        target: { text: '0 errors', met: failures.ours.length === 0 },
        notes: `errors: kanban-db ${failures.ours.length} of ${boots} boots, \`migrate()\` ${failures.drizzle.length} of ${boots}${codes ? ` (${codes})` : ''}`,
      },
    ];
  } finally {
    for (const child of [...ours, ...drizzle]) child.stop();
    server.stop();
  }
}
