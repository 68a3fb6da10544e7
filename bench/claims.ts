/** Row 6: claim-and-complete throughput with 1, 2, 4 and 8 processes, against the same cycle in raw SQL. */
import { join } from 'node:path';
import { query } from '../test/helpers/temp';
import { copier, readyBoard } from './board';
import { askTogether, startPool } from './children';
import { fmt, type Row } from './report';
import { interleave, sampleOf, series } from './stats';

const BOARD_TASKS = 10_000;
/** Tasks each run claims and completes, of the board's 10,000: the whole board would take minutes per run. */
const TASKS_PER_RUN = 400;
const REPS = 5;
const PROCESS_COUNTS = [1, 2, 4, 8] as const;

export async function claimRows(dir: string): Promise<Row[]> {
  const copy = copier(dir, await readyBoard(join(dir, 'claims-template.db'), BOARD_TASKS), 'claims');
  const pool = await startPool(Math.max(...PROCESS_COUNTS));
  try {
    const rows: Row[] = [];
    for (const processes of PROCESS_COUNTS) {
      const workers = pool.slice(0, processes);
      let doubleClaims = 0;
      let shortfall = 0;
      const run = (op: 'claim-ours' | 'claim-raw') => async () => {
        const file = copy();
        const limit = Math.ceil(TASKS_PER_RUN / processes);
        const { replies, ms } = await askTogether(workers, () => ({ op, file, limit }));
        const failed = replies.find((r) => !r.ok);
        if (failed) throw new Error(`${op} failed: ${failed.code} ${failed.message}`);
        const claimed = replies.flatMap((r) => r.claimed);
        const [twice] = await query(file, 'SELECT count(*) AS n FROM (SELECT task_id FROM task_runs GROUP BY task_id HAVING count(*) > 1)');
        doubleClaims += claimed.length - new Set(claimed).size + Number(twice?.n);
        shortfall += limit * processes - claimed.length;
        return (claimed.length / ms) * 1000;
      };
      const ours = series(run('claim-ours'));
      const raw = series(run('claim-raw'));
      await interleave(REPS, [ours, raw]);
      rows.push({
        id: `6.${processes}`,
        what: `Claim throughput, ${processes} process${processes > 1 ? 'es' : ''}: \`claimNextTask\` + \`completeTask\` on a ${fmt(BOARD_TASKS)}-task board`,
        unit: 'tasks/s',
        ours: sampleOf(ours),
        baseline: { name: 'the same two transactions in raw SQL on @libsql/client', sample: sampleOf(raw) },
        target: { text: '≥ 0.7× raw, 0 double claims', met: sampleOf(ours).median >= 0.7 * sampleOf(raw).median && doubleClaims === 0 && shortfall === 0 },
        notes: `${fmt(TASKS_PER_RUN)} tasks a run; double claims: ${doubleClaims} (both variants); tasks left unclaimed: ${shortfall}`,
      });
    }
    return rows;
  } finally {
    for (const child of pool) child.stop();
  }
}
