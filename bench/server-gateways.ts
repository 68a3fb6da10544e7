/**
 * Rows S1.1, S1.2, S1.3 and S2, on a throwaway PostgreSQL server (started as for P1).
 * S1.k: k `kanban --db <url> --board B gateway --worker true` processes (default options) work one
 * server board of 300 ready tasks assigned to a worker, from all of them having said they are
 * running until every task is done (counted by polling the board's tasks), a fresh board a run,
 * the three counts taking turns. Tasks done before the last gateway said it was running are left
 * out of the rate. After each run every task must have exactly one completed run.
 * S2: `kanban copy` of a 100,000-task file board to a server board (`--to-board`), then of that
 * server board to a new file, each a new CLI process, timed from spawn to exit; the row counts of
 * every table of the source and the final file must match. The baseline is reading every row of
 * the source file once on libsql in this process.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openKanban } from 'kanban-db';
import { Client } from 'pg';
import { startTestServer } from '../test/helpers/postgres';
import { execScript, query, rawClient } from '../test/helpers/temp';
import { CLI } from './paths';
import { fmt, type Row } from './report';
import { elapsed, interleave, sampleOf, series, summarise } from './stats';

const TASKS = 300;
const REPS = 3;
const GATEWAYS = [1, 2, 3] as const;
const WORKER = 'true';
const COPY_TASKS = 100_000;
const COPY_REPS = 1;
const TASK_FILL = `INSERT INTO tasks (id, title, body, status, assignee, priority, created_at)
  SELECT 't_' || lpad(to_hex(n), 8, '0'), 'task ' || n, 'body of task ' || n, 'ready', 'worker', n % 5, 1700000000 + n
  FROM generate_series(1, $1::int) AS n`;
const TABLES = [
  'tasks',
  'task_links',
  'task_comments',
  'task_events',
  'task_runs',
  'kanban_notify_subs',
  'task_attachments',
  'recipe_instances',
  'recipe_instance_tasks',
] as const;

/** What the runs of one S1 row left wrong, and what they did. */
type Checks = { completedRuns: number; notOnce: number; leftUndone: number; doneEarly: number; failures: string[] };

/** A CLI process; resolves with its exit code and output once it has exited. */
function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** k gateways on a fresh server board of `TASKS` ready tasks; tasks a second from all running to all done. */
async function gatewaysRate(url: string, admin: Client, board: string, k: number, checks: Checks): Promise<number> {
  const kb = await openKanban({ url, board });
  kb.close();
  const schema = `"kanban_${board}"`;
  const count = async (sql: string) => Number((await admin.query<{ n: string }>(sql)).rows[0]?.n);
  await admin.query(`SET search_path = ${schema}`);
  await admin.query(TASK_FILL, [TASKS]);
  await admin.query('VACUUM (ANALYZE) tasks, task_runs, task_events');
  const done = () => count(`SELECT count(*) AS n FROM ${schema}.tasks WHERE status = 'done'`);
  const gateways = Array.from({ length: k }, () => {
    const child = spawn(process.execPath, [CLI, '--db', url, '--board', board, 'gateway', '--worker', WORKER], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const running = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        if (err.includes('dispatcher and notifier running')) resolve();
      });
      void exited.then((code) => reject(new Error(`gateway exited (${code}) before running: ${err}`)));
    });
    return { child, exited, running, stderr: () => err };
  });
  try {
    await Promise.all(gateways.map((g) => g.running));
    const start = performance.now();
    const before = await done();
    while ((await done()) < TASKS) await sleep(10);
    const ms = performance.now() - start;
    checks.doneEarly += before;
    return ((TASKS - before) / ms) * 1000;
  } finally {
    for (const g of gateways) g.child.kill('SIGTERM');
    const codes = await Promise.all(gateways.map((g) => g.exited));
    for (const [i, code] of codes.entries()) {
      const text = gateways[i]?.stderr() ?? '';
      const errors = text.split('\n').filter((l) => /error|fail/i.test(l));
      if (code !== 0 || errors.length) checks.failures.push(`gateway ${i} exit ${code}: ${errors.join(' / ')}`);
    }
    checks.completedRuns += await count(`SELECT count(*) AS n FROM ${schema}.task_runs WHERE outcome = 'completed'`);
    checks.notOnce += await count(
      `SELECT count(*) AS n FROM ${schema}.tasks t WHERE (SELECT count(*) FROM ${schema}.task_runs r
         WHERE r.task_id = t.id AND r.outcome = 'completed') <> 1`,
    );
    checks.leftUndone += await count(`SELECT count(*) AS n FROM ${schema}.tasks WHERE status <> 'done'`);
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  }
}

/** A file board of `COPY_TASKS` tasks with events, runs, comments and links, written in bulk. */
async function bigBoard(file: string): Promise<void> {
  const kb = await openKanban({ dbPath: file });
  kb.close();
  const seq = (n: number) => `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${n})`;
  const tenth = COPY_TASKS / 10;
  await execScript(
    file,
    `BEGIN;
     ${seq(COPY_TASKS)} INSERT INTO tasks (id, title, body, status, assignee, priority, created_at, completed_at)
       SELECT printf('t_%08x', n), 'task ' || n, 'body of task ' || n, CASE WHEN n % 10 = 0 THEN 'done' ELSE 'ready' END,
         'worker', n % 5, 1700000000 + n, CASE WHEN n % 10 = 0 THEN 1700200000 + n END FROM seq;
     ${seq(COPY_TASKS)} INSERT INTO task_events (task_id, kind, payload, created_at)
       SELECT printf('t_%08x', n), 'created', '{"by":"bench"}', 1700000000 + n FROM seq;
     ${seq(tenth)} INSERT INTO task_runs (task_id, status, outcome, started_at, ended_at)
       SELECT printf('t_%08x', n * 10), 'done', 'completed', 1700100000 + n, 1700200000 + n FROM seq;
     INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
       SELECT task_id, id, 'completed', '{"result_len":0}', ended_at FROM task_runs;
     ${seq(tenth)} INSERT INTO task_comments (task_id, author, body, created_at)
       SELECT printf('t_%08x', n * 7), 'bench', 'comment ' || n, 1700300000 + n FROM seq;
     ${seq(1_000)} INSERT INTO task_links (parent_id, child_id)
       SELECT printf('t_%08x', n * 10), printf('t_%08x', n * 10 + 1) FROM seq;
     COMMIT;
     PRAGMA wal_checkpoint(TRUNCATE);`,
  );
}

const rowCounts = async (file: string): Promise<Record<string, number>> => {
  const counts: Record<string, number> = {};
  for (const table of TABLES) counts[table] = Number((await query(file, `SELECT count(*) AS n FROM ${table}`))[0]?.n);
  return counts;
};

/** S2: file → server → file through `kanban copy`, each leg a CLI process. */
async function copyRow(dir: string, url: string): Promise<Row> {
  const source = join(dir, 'copy-source.db');
  await bigBoard(source);
  const expected = await rowCounts(source);
  const legs = { toServer: [] as number[], toFile: [] as number[] };
  const mismatches: string[] = [];
  let n = 0;
  const ours = series(async () => {
    const board = `bench_copy_${n}`;
    const final = join(dir, `copy-back-${n++}.db`);
    let ms = 0;
    const leg = async (args: readonly string[]) => {
      let result: Awaited<ReturnType<typeof cli>> | undefined;
      const took = await elapsed(async () => {
        result = await cli(args);
      });
      if (result?.code !== 0) throw new Error(`kanban ${args.join(' ')} failed: ${result?.stderr ?? ''}`);
      ms += took;
      return took;
    };
    legs.toServer.push(await leg(['--db', source, 'copy', url, '--to-board', board, '--json']));
    legs.toFile.push(await leg(['--db', url, '--board', board, 'copy', final, '--json']));
    const got = await rowCounts(final);
    for (const table of TABLES) {
      if (got[table] !== expected[table]) mismatches.push(`${table} ${expected[table]}→${got[table]}`);
    }
    return ms / 1000;
  });
  const reading = series(async () => {
    const client = rawClient(source);
    try {
      return (
        (await elapsed(async () => {
          for (const table of TABLES) await client.execute(`SELECT * FROM ${table}`);
        })) / 1000
      );
    } finally {
      client.close();
    }
  });
  await interleave(COPY_REPS, [ours, reading]);
  const secs = (values: readonly number[]) => `${fmt(summarise(values).median / 1000)} s`;
  const sizes = TABLES.map((t) => `${t} ${fmt(expected[t] ?? 0)}`).join(', ');
  return {
    id: 'S2',
    what: `\`kanban copy\` of a ${fmt(COPY_TASKS)}-task board: file → server (\`--to-board\`) → a new file, two CLI processes`,
    unit: 's',
    ours: sampleOf(ours),
    baseline: { name: 'reading every row of the source file once (libsql, this process)', sample: sampleOf(reading) },
    target: { text: 'every table’s row count equal after the round trip', met: mismatches.length === 0 },
    notes: `file → server ${secs(legs.toServer)}, server → file ${secs(legs.toFile)} (medians); rows: ${sizes}${
      mismatches.length ? `; mismatched: ${mismatches.join(', ')}` : ''
    }`,
  };
}

export async function serverGatewayRows(dir: string): Promise<Row[]> {
  const server = await startTestServer({ own: true });
  try {
    const url = await server.database('bench_server_gateways');
    const admin = new Client({ connectionString: url });
    await admin.connect();
    let boards = 0;
    const contests = GATEWAYS.map((k) => {
      const checks: Checks = { completedRuns: 0, notOnce: 0, leftUndone: 0, doneEarly: 0, failures: [] };
      return { k, checks, runs: series(() => gatewaysRate(url, admin, `bench_gw_${boards++}`, k, checks)) };
    });
    try {
      await interleave(
        REPS,
        contests.map((c) => c.runs),
      );
    } finally {
      await admin.end();
    }
    const one = contests[0];
    if (!one) throw new Error('no one-gateway contest');
    const rows = contests.map(({ k, checks, runs }): Row => {
      const clean = checks.notOnce === 0 && checks.leftUndone === 0 && checks.failures.length === 0;
      return {
        id: `S1.${k}`,
        what: `PostgreSQL: ${k} \`kanban gateway --worker ${WORKER}\` process${k > 1 ? 'es' : ''} (default options) on one server board, ${TASKS} ready tasks`,
        unit: 'tasks/s',
        ours: sampleOf(runs),
        ...(k > 1 && { baseline: { name: '1 gateway (S1.1)', sample: sampleOf(one.runs) } }),
        target: { text: 'reported; every task run exactly once', met: clean },
        notes: `${TASKS} tasks a run, a fresh board each; completed runs ${fmt(checks.completedRuns)} of ${fmt(
          TASKS * runs.values.length,
        )} tasks, tasks without exactly one: ${checks.notOnce}, left undone: ${checks.leftUndone}; done before the last gateway was running: ${checks.doneEarly}${
          checks.failures.length ? `; ${checks.failures.join('; ')}` : ''
        }`,
      };
    });
    rows.push(await copyRow(dir, url));
    return rows;
  } finally {
    server.stop();
  }
}
