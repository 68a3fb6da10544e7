/**
 * Row 6: the claim cycle (claim, then complete) on boards of 1,000 and 100,000 ready tasks, with
 * 1 and 4 processes, against the original program's SQL on Python's sqlite3 and against the same
 * statements prepared once on libsql (the practical limit).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LineChild } from '../test/helpers/children';
import { query } from '../test/helpers/temp';
import { copier, readyBoard } from './board';
import { askTogether, startPool } from './children';
import { ROOT } from './paths';
import { fmt, type Row } from './report';
import { interleave, sampleOf, series, type Series } from './stats';

const BOARDS = [1_000, 100_000] as const;
/** Tasks claimed and completed per run, shared out among the processes. */
const TASKS_PER_RUN = 1_000;
const REPS = 5;
const PROCESS_COUNTS = [1, 4] as const;
const PYTHON_CYCLE = join(ROOT, 'bench', 'original_cycle.py');

type Contender = 'claim-ours' | 'claim-pair' | 'claim-prepared' | 'python';
interface RunResult {
  readonly claimed: string[];
  /** The slowest process's time, from its start to its last completion. */
  readonly ms: number;
}

/** `processes` Python processes on `file`, connected first, then released together. */
async function pythonRun(file: string, processes: number, limit: number): Promise<RunResult> {
  const children = Array.from(
    { length: processes },
    () => new LineChild(spawn('python3', [PYTHON_CYCLE, file, String(limit)])),
  );
  try {
    for (const child of children)
      if ((await child.next()) !== 'ready') throw new Error('the Python baseline did not start');
    for (const child of children) child.proc.stdin.write('go\n');
    const replies = await Promise.all(children.map(async (child) => JSON.parse(await child.next())));
    return { claimed: replies.flatMap((r) => r.claimed), ms: Math.max(...replies.map((r) => Number(r.ms))) };
  } finally {
    for (const child of children) child.stop();
  }
}

export async function claimRows(dir: string): Promise<Row[]> {
  const pool = await startPool(Math.max(...PROCESS_COUNTS));
  const rows: Row[] = [];
  try {
    for (const size of BOARDS) {
      const copy = copier(dir, await readyBoard(join(dir, `claims-${size}.db`), size), `claims-${size}`);
      for (const processes of PROCESS_COUNTS) {
        const limit = Math.ceil(TASKS_PER_RUN / processes);
        let doubleClaims = 0;
        let shortfall = 0;
        const run = (contender: Contender) =>
          series(async () => {
            const file = copy();
            const result =
              contender === 'python'
                ? await pythonRun(file, processes, limit)
                : await askTogether(pool.slice(0, processes), () => ({ op: contender, file, limit })).then(
                    ({ replies }) => {
                      const failed = replies.find((r) => !r.ok);
                      if (failed) throw new Error(`${contender} failed: ${failed.code} ${failed.message}`);
                      return { claimed: replies.flatMap((r) => r.claimed), ms: Math.max(...replies.map((r) => r.ms)) };
                    },
                  );
            const [twice] = await query(
              file,
              'SELECT count(*) AS n FROM (SELECT task_id FROM task_runs GROUP BY task_id HAVING count(*) > 1)',
            );
            doubleClaims += result.claimed.length - new Set(result.claimed).size + Number(twice?.n);
            shortfall += Math.min(TASKS_PER_RUN, size) - result.claimed.length;
            return (result.claimed.length / result.ms) * 1000;
          });
        const contenders = {
          ours: run('claim-ours'),
          pair: run('claim-pair'),
          prepared: run('claim-prepared'),
          python: run('python'),
        };
        const measured: Series[] =
          processes === 1 ? Object.values(contenders) : [contenders.ours, contenders.prepared, contenders.python];
        await interleave(REPS, measured);
        const board = `${fmt(size)}-task board, ${processes} process${processes > 1 ? 'es' : ''}`;
        const notes = `${fmt(TASKS_PER_RUN)} tasks a run; double claims: ${doubleClaims}, tasks left unclaimed: ${shortfall} (all contenders)`;
        const clean = doubleClaims === 0 && shortfall === 0;
        const python = {
          name: 'the original’s SQL on Python’s sqlite3 (same board, WAL, synchronous FULL)',
          sample: sampleOf(contenders.python),
        };
        const prepared = {
          name: 'the same statements prepared once on libsql, by hand',
          sample: sampleOf(contenders.prepared),
        };
        const ratio = (a: Series, b: Series) => sampleOf(a).median / sampleOf(b).median;
        const id = `6.${size === 1_000 ? '1k' : '100k'}.${processes}`;
        const cycle = `\`claimNextTask\` + \`completeTask\`, ${board}`;
        const pythonTarget = processes === 1 ? 1.2 : 1.0;
        rows.push({
          id,
          what: cycle,
          unit: 'tasks/s',
          ours: sampleOf(contenders.ours),
          baseline: python,
          target: {
            text: `≥ ${pythonTarget}× Python, 0 double claims`,
            met: ratio(contenders.ours, contenders.python) >= pythonTarget && clean,
          },
          notes,
        });
        if (processes === 1) {
          rows.push({
            id: `${id}p`,
            what: `\`completeAndClaimNext\` loop, ${board}`,
            unit: 'tasks/s',
            ours: sampleOf(contenders.pair),
            baseline: python,
            target: { text: '≥ 1.5× Python', met: ratio(contenders.pair, contenders.python) >= 1.5 && clean },
          });
        }
        rows.push({
          id: `${id}l`,
          what: cycle,
          unit: 'tasks/s',
          ours: sampleOf(contenders.ours),
          baseline: prepared,
          target: {
            text: '≥ 0.8× the prepared limit',
            met: ratio(contenders.ours, contenders.prepared) >= 0.8 && clean,
          },
        });
      }
    }
    return rows;
  } finally {
    for (const child of pool) child.stop();
  }
}
