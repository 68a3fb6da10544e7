/** Row 5: eight processes booting on one fresh file at the same moment. */
import { join } from 'node:path';
import { query } from '../test/helpers/temp';
import { MIGRATION_COUNT } from './baselines';
import { askTogether, startPool } from './children';
import type { Reply } from './protocol';
import type { Row } from './report';
import { interleave, sampleOf, series } from './stats';

const PROCESSES = 8;
const TRIALS = 12;

export async function stormRow(dir: string): Promise<Row> {
  const [ours, drizzle] = await Promise.all([startPool(PROCESSES), startPool(PROCESSES)]);
  let n = 0;
  const oursFailures: Reply[] = [];
  const drizzleFailures: Reply[] = [];
  let extraLedgerRows = 0;
  try {
    const oursStorm = series(async () => {
      const file = join(dir, `storm-${n++}.db`);
      const { replies, ms } = await askTogether(ours, () => ({ op: 'open', file }));
      oursFailures.push(...replies.filter((r) => !r.ok));
      const [ledger] = await query(file, 'SELECT count(*) AS n FROM __drizzle_migrations');
      extraLedgerRows += Number(ledger?.n) - MIGRATION_COUNT;
      return ms;
    });
    const drizzleStorm = series(async () => {
      const file = join(dir, `storm-${n++}.db`);
      const { replies, ms } = await askTogether(drizzle, () => ({ op: 'migrate', file }));
      drizzleFailures.push(...replies.filter((r) => !r.ok));
      return ms;
    });
    await interleave(TRIALS, [oursStorm, drizzleStorm]);
    const boots = PROCESSES * TRIALS;
    const codes = [...new Set(drizzleFailures.map((r) => `${r.code}: ${r.message}`))].slice(0, 3).join('; ');
    return {
      id: '5',
      what: `Boot storm: ${PROCESSES} loaded processes released together on one fresh file, until all are ready`,
      unit: 'ms',
      ours: sampleOf(oursStorm),
      baseline: { name: "the same with drizzle's `migrate()`", sample: sampleOf(drizzleStorm) },
      target: { text: '0 errors', met: oursFailures.length === 0 && extraLedgerRows === 0 },
      notes: `errors: kanban-db ${oursFailures.length} of ${boots} boots, \`migrate()\` ${drizzleFailures.length} of ${boots}${codes ? ` (${codes})` : ''}; extra ledger rows (kanban-db): ${extraLedgerRows}`,
    };
  } finally {
    for (const child of [...ours, ...drizzle]) child.stop();
  }
}
