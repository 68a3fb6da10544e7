/**
 * Rows G1, G2, G3: kanban-db against graphile-worker (a PostgreSQL job queue for Node) on one
 * throwaway PostgreSQL server, contenders taking turns. G1: 10 claimers in this process (one
 * handle, pool of 10) run `claimNextTask` + `completeTask` over 2,000 ready tasks of a fresh board,
 * against a graphile-worker runner at concurrency 10 (pool of 10, its defaults) running 2,000 no-op
 * jobs. G2: the same with batches: each claimer takes `claimNextTasks(10)` and completes them in one `completeTasks`,
 * against graphile-worker with its local queue and batched completions on. Both runners are
 * started idle and warmed on jobs of their own; the clock starts when one `add_jobs` call has
 * committed all the jobs, and stops when its jobs table is empty (its completions are written after
 * the task returns, so counting returns alone would stop early). G3: an idle consumer's wake-up,
 * from before `createTask` to the listener's `claimNextTask` returning the task (`watchReady`, as the
 * gateway wakes), against `addJob` to the no-op task starting on an idle runner.
 */
import { performance } from 'node:perf_hooks';
import { Logger, type Runner, run } from 'graphile-worker';
import { type Kanban, openKanban } from 'kanban-db';
import { Client } from 'pg';
import { startTestServer } from '../test/helpers/postgres';
import { fmt, type Row } from './report';
import { elapsed, interleave, sampleOf, series, summarise } from './stats';

const JOBS = 2_000;
const CONCURRENCY = 10;
const BATCH = 10;
/** graphile-worker's batching: jobs locked a fetch (as many as our 10 batches of 10), completions flushed each tick. */
const LOCAL_QUEUE = 100;
const REPS = 5;
const WAKES = 40;
const TASK_FILL = `INSERT INTO tasks (id, title, body, status, assignee, priority, created_at)
  SELECT 't_' || lpad(to_hex(n), 8, '0'), 'task ' || n, 'body of task ' || n, 'ready', 'worker', n % 5, 1700000000 + n
  FROM generate_series(1, $1::int) AS n`;
const ADD_JOBS = `SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
  SELECT ROW('noop', '{}'::json, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec
  FROM generate_series(1, $1::int)))`;
const JOBS_LEFT = 'SELECT count(*) AS n FROM graphile_worker._private_jobs';

type Mode = 'single' | 'batch';
type Checks = { doubleRuns: number; leftUndone: number };

/** graphile-worker's log, errors only. */
const quiet = new Logger(() => (level, message) => {
  if (level === 'error') process.stderr.write(`graphile-worker: ${message}\n`);
});

/** Our side of G1/G2: `CONCURRENCY` loops on one handle until nothing is left; returns tasks done. */
async function drain(kb: Kanban, mode: Mode): Promise<number> {
  const loop = async () => {
    let done = 0;
    for (;;) {
      const claims =
        mode === 'single' ? [await kb.claimNextTask()].filter((c) => c !== undefined) : await kb.claimNextTasks(BATCH);
      if (claims.length === 0) return done;
      if (mode === 'single') for (const { task, runId } of claims) await kb.completeTask(task.id, { runId });
      else await kb.completeTasks(claims.map(({ task, runId }) => ({ id: task.id, runId })));
      done += claims.length;
    }
  };
  const counts = await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return counts.reduce((a, b) => a + b, 0);
}

/** A graphile-worker runner with a no-op task, batched or not; calls `onStart` as each job starts. */
function runner(url: string, mode: Mode, concurrency: number, onStart: () => void): Promise<Runner> {
  const batching = { localQueue: { size: LOCAL_QUEUE }, completeJobBatchDelay: 0, failJobBatchDelay: 0 };
  return run({
    connectionString: url,
    concurrency,
    noHandleSignals: true,
    logger: quiet,
    taskList: { noop: async () => onStart() },
    preset: { worker: mode === 'batch' ? batching : {} },
  });
}

export async function graphileRows(): Promise<Row[]> {
  const server = await startTestServer({ own: true });
  const url = await server.database('bench_graphile');
  const admin = new Client({ connectionString: url });
  await admin.connect();
  const count = async (sql: string) => Number((await admin.query<{ n: string }>(sql)).rows[0]?.n);
  let boards = 0;
  try {
    const ours = (mode: Mode, checks: Checks) =>
      series(async () => {
        const board = `bench_graphile_${boards++}`;
        const schema = `"kanban_${board}"`;
        const kb = await openKanban({ url, board });
        try {
          await admin.query(`SET search_path = ${schema}`);
          await admin.query(TASK_FILL, [JOBS + CONCURRENCY * 2]);
          await admin.query('VACUUM (ANALYZE) tasks, task_runs, task_events, task_links');
          // Untimed: two cycles a claimer, so each pooled connection has its statements.
          await Promise.all(
            Array.from({ length: CONCURRENCY }, async () => {
              for (let i = 0; i < 2; i++) {
                const claim = await kb.claimNextTask();
                if (claim) await kb.completeTask(claim.task.id, { runId: claim.runId });
              }
            }),
          );
          let done = 0;
          const ms = await elapsed(async () => {
            done = await drain(kb, mode);
          });
          checks.doubleRuns += await count('SELECT count(*) - count(DISTINCT task_id) AS n FROM task_runs');
          checks.leftUndone += await count(`SELECT count(*) AS n FROM tasks WHERE status <> 'done'`);
          return (done / ms) * 1000;
        } finally {
          kb.close();
          await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        }
      });
    const theirs = (mode: Mode, checks: Checks) =>
      series(async () => {
        let started = 0;
        const worker = await runner(url, mode, CONCURRENCY, () => void started++);
        try {
          const emptied = async () => {
            while ((await count(JOBS_LEFT)) > 0) await new Promise((resolve) => setImmediate(resolve));
          };
          // Untimed: as many warm-up jobs as ours, until they are gone.
          await admin.query(ADD_JOBS, [CONCURRENCY * 2]);
          await emptied();
          await admin.query(ADD_JOBS, [JOBS]);
          const start = performance.now();
          // Polls until the last completion is written; no earlier than the last job has started.
          while (started < JOBS + CONCURRENCY * 2) await new Promise((resolve) => setImmediate(resolve));
          await emptied();
          const ms = performance.now() - start;
          checks.doubleRuns += started - (JOBS + CONCURRENCY * 2);
          return (JOBS / ms) * 1000;
        } finally {
          await worker.stop();
          checks.leftUndone += await count(JOBS_LEFT);
        }
      });

    const contests = (['single', 'batch'] as const).map((mode) => {
      const checks = { doubleRuns: 0, leftUndone: 0 };
      return { mode, checks, ours: ours(mode, checks), theirs: theirs(mode, checks) };
    });
    await interleave(
      REPS,
      contests.flatMap((c) => [c.ours, c.theirs]),
    );
    const wake = await wakeRow(url);
    return [
      ...contests.map(({ mode, checks, ours, theirs }): Row => {
        const single = mode === 'single';
        const clean = checks.doubleRuns === 0 && checks.leftUndone === 0;
        const goal = single ? 1 : 0.5;
        return {
          id: single ? 'G1' : 'G2',
          what: single
            ? `PostgreSQL: \`claimNextTask\` + \`completeTask\`, ${fmt(JOBS)} ready tasks, 10 claimers in one process (one handle, pool of 10)`
            : `PostgreSQL: \`claimNextTasks(${BATCH})\` then one \`completeTasks\` of them, ${fmt(JOBS)} ready tasks, 10 claimers in one process`,
          unit: 'tasks/s',
          ours: sampleOf(ours),
          baseline: {
            name: single
              ? 'graphile-worker, concurrency 10, no-op task, no batching'
              : `graphile-worker, concurrency 10, no-op task, \`localQueue.size\` ${LOCAL_QUEUE}, \`completeJobBatchDelay\` 0`,
            sample: sampleOf(theirs),
          },
          target: {
            text: `≥ ${goal}× graphile-worker`,
            met: sampleOf(ours).median / sampleOf(theirs).median >= goal && clean,
          },
          notes:
            `${fmt(JOBS)} tasks a run (a fresh board; jobs added in one \`add_jobs\` call), until all are written done; ` +
            `double runs: ${checks.doubleRuns}, left undone: ${checks.leftUndone} (both contenders)`,
        };
      }),
      wake,
    ];
  } finally {
    await admin.end();
    server.stop();
  }
}

/** G3: one task at a time on an idle consumer, from its creation to a worker starting it. */
async function wakeRow(url: string): Promise<Row> {
  const producer = await openKanban({ url, board: 'bench_wake' });
  const consumer = await openKanban({ url, board: 'bench_wake' });
  let woken: ((at: number) => void) | undefined;
  const unwatch = consumer.watchReady(() => {
    void consumer.claimNextTask().then(async (claim) => {
      if (!claim) return;
      woken?.(performance.now());
      await consumer.completeTask(claim.task.id, { runId: claim.runId });
    });
  });
  let started: ((at: number) => void) | undefined;
  const worker = await runner(url, 'single', 1, () => started?.(performance.now()));
  const idle = () => new Promise((resolve) => setTimeout(resolve, 50));
  try {
    const ours = series(async () => {
      await idle();
      const at = new Promise<number>((resolve) => (woken = resolve));
      const start = performance.now();
      await producer.createTask({ title: 'wake' });
      return (await at) - start;
    });
    const theirs = series(async () => {
      await idle();
      const at = new Promise<number>((resolve) => (started = resolve));
      const start = performance.now();
      await worker.addJob('noop', {});
      return (await at) - start;
    });
    await interleave(1, [ours, theirs]);
    ours.values.length = 0;
    theirs.values.length = 0;
    await interleave(WAKES, [ours, theirs]);
    const p95 = (values: readonly number[]) =>
      fmt([...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.95) - 1] ?? NaN);
    return {
      id: 'G3',
      what: 'PostgreSQL: wake-up of an idle consumer, from `createTask` to `claimNextTask` returning it in a `watchReady` listener',
      unit: 'ms',
      ours: summarise(ours.values),
      baseline: {
        name: 'graphile-worker (concurrency 1, idle): `addJob` to the task function starting',
        sample: sampleOf(theirs),
      },
      target: { text: 'reported', met: true },
      notes: `p95: kanban-db ${p95(ours.values)} ms, graphile-worker ${p95(theirs.values)} ms; one task at a time, 50 ms idle before each`,
    };
  } finally {
    unwatch();
    await worker.stop();
    producer.close();
    consumer.close();
  }
}
