/** Row 10: tasks per second through `kanban gateway` with its defaults, against plain Node spawning the same worker. */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_MAX_WORKERS } from 'kanban-db';
import { query } from '../test/helpers/temp';
import { readyBoard } from './board';
import { CLI } from './paths';
import { fmt, type Row } from './report';
import { interleave, sampleOf, series } from './stats';

const TASKS = 400;
const REPS = 3;
const WORKER = 'true';

const doneCount = async (file: string) =>
  Number((await query(file, "SELECT count(*) AS n FROM tasks WHERE status = 'done'"))[0]?.n);

/** The gateway with default options, from its "running" line until every task is done. */
async function gatewayRate(home: string): Promise<number> {
  const file = await readyBoard(join(home, 'kanban.db'), TASKS);
  const gateway = spawn(process.execPath, [CLI, '--home', home, 'gateway', '--worker', WORKER], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((resolve) => gateway.once('exit', resolve));
  try {
    await new Promise<void>((resolve) =>
      gateway.stderr.on('data', (chunk: Buffer) => chunk.toString().includes('running') && resolve()),
    );
    const start = performance.now();
    while ((await doneCount(file)) < TASKS) await sleep(10);
    return (TASKS / (performance.now() - start)) * 1000;
  } finally {
    gateway.kill('SIGTERM');
    await exited;
  }
}

/** The floor: Node spawning the worker as the gateway does (`/bin/sh -c`, pipes, JSON on stdin), refilling on exit. */
async function spawnRate(): Promise<number> {
  const start = performance.now();
  let started = 0;
  const slot = async () => {
    while (started < TASKS) {
      started++;
      await new Promise<void>((resolve) => {
        const child = spawn('/bin/sh', ['-c', WORKER], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
        child.stdin.on('error', () => undefined);
        child.stdin.end(JSON.stringify({ id: started }));
        child.stdout.resume();
        child.stderr.resume();
        child.on('close', () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: DEFAULT_MAX_WORKERS }, slot));
  return (TASKS / (performance.now() - start)) * 1000;
}

export async function gatewayRow(dir: string): Promise<Row> {
  let n = 0;
  const ours = series(async () => {
    const home = join(dir, `throughput-${n++}`);
    mkdirSync(home);
    return gatewayRate(home);
  });
  const floor = series(spawnRate);
  await interleave(REPS, [ours, floor]);
  return {
    id: '10',
    what: `\`kanban gateway --worker ${WORKER}\` with default options (${DEFAULT_MAX_WORKERS} workers), ${TASKS} ready tasks`,
    unit: 'tasks/s',
    ours: sampleOf(ours),
    baseline: {
      name: `plain Node spawning \`sh -c ${WORKER}\` the same way, ${DEFAULT_MAX_WORKERS} at a time`,
      sample: sampleOf(floor),
    },
    target: { text: '≥ 0.5× the spawn floor', met: sampleOf(ours).median >= 0.5 * sampleOf(floor).median },
    notes: `${fmt(TASKS)} tasks a run`,
  };
}
