/** Row 8: peak resident memory of `kanban gateway` working a 10,000-task board. */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureMigrated } from 'kanban-db';
import { query } from '../test/helpers/temp';
import { readyBoard } from './board';
import { CLI } from './paths';
import { fmt, type Row } from './report';
import { interleave, sampleOf, series } from './stats';

const BOARD_TASKS = 10_000;
/** The gateway works until this many tasks are done (each one a worker process), or the time limit. */
const DONE_PER_RUN = 200;
const LIMIT_MS = 30_000;
const IDLE_MS = 2_000;
const REPS = 3;

/** The kernel's high-water mark of the process's resident set, in MiB. */
function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB$/m);
  if (!line?.[1]) throw new Error(`no VmHWM for process ${pid}; this measurement needs Linux /proc`);
  return Number(line[1]) / 1024;
}

const doneCount = async (file: string) =>
  Number((await query(file, "SELECT count(*) AS n FROM tasks WHERE status = 'done'"))[0]?.n);

/** Runs the gateway on `home` until `settled` says so, and returns its peak RSS just before stopping it. */
async function gatewayPeak(home: string, settled: () => Promise<boolean>): Promise<number> {
  const gateway = spawn(process.execPath, [CLI, '--home', home, 'gateway', '--worker', 'true'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => gateway.once('exit', resolve));
  try {
    if (gateway.pid === undefined) throw new Error('the gateway did not start');
    while (!(await settled())) await sleep(100);
    return peakRssMiB(gateway.pid);
  } finally {
    gateway.kill('SIGTERM');
    await exited;
  }
}

export async function memoryRow(dir: string): Promise<Row> {
  let n = 0;
  const rates: number[] = [];
  const working = series(async () => {
    const home = join(dir, `gateway-${n++}`);
    mkdirSync(home);
    const file = await readyBoard(join(home, 'kanban.db'), BOARD_TASKS);
    const start = Date.now();
    const peak = await gatewayPeak(
      home,
      async () => (await doneCount(file)) >= DONE_PER_RUN || Date.now() - start > LIMIT_MS,
    );
    rates.push(((await doneCount(file)) / (Date.now() - start)) * 1000);
    return peak;
  });
  const idle = series(async () => {
    const home = join(dir, `gateway-${n++}`);
    mkdirSync(home);
    await ensureMigrated(join(home, 'kanban.db'));
    const start = Date.now();
    return gatewayPeak(home, async () => Date.now() - start > IDLE_MS);
  });
  await interleave(REPS, [working, idle]);
  return {
    id: '8',
    what: `Peak RSS of \`kanban gateway\` (default options, \`true\` as the worker) on a ${fmt(BOARD_TASKS)}-task board, until ${DONE_PER_RUN} are done`,
    unit: 'MiB',
    ours: sampleOf(working),
    baseline: { name: `the same gateway idling ${IDLE_MS / 1000} s on an empty board`, sample: sampleOf(idle) },
    notes: `tasks done per second while measured: ${rates.map(fmt).join(', ')}`,
  };
}
