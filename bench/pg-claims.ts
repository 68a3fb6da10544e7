/**
 * Rows P3.1, P3.10, P4.1, P4.10: the claim cycle on a throwaway PostgreSQL server (started as for
 * P1). 1 or 10 async claimers in this process, sharing one handle and so its pool of 10
 * connections, claim and complete 250 ready tasks with no work between: `claimNextTask` +
 * `completeTask`, two transactions a task (P3), or a `completeAndClaimNext` loop, one a task (P4).
 * The baseline is the library's own SQL (copied from what it sends, with the same bound values;
 * `tasks.*` stands for drizzle's list of the same columns) written here on `pg` as named prepared
 * statements in the same transactions, over a pool of 10 whose connections work in their board's
 * schema. Each run gets a fresh board: a schema `openKanban` makes, one INSERT of the tasks, VACUUM
 * ANALYZE. Before the clock starts each claimer claims and completes two more tasks, so every
 * connection has built and prepared its statements; the contenders take turns on the same server.
 */
import {
  DEFAULT_BUSY_TIMEOUT_MS,
  DEFAULT_CLAIM_TTL_SECONDS,
  DEFAULT_FAILURE_LIMIT,
  DEFAULT_RETRY_BACKOFF,
  type Claim,
  type Kanban,
  openKanban,
} from 'kanban-db';
import { Client, Pool, type PoolClient, type QueryResultRow } from 'pg';
import { startTestServer } from '../test/helpers/postgres';
import { fmt, type Row } from './report';
import { elapsed, interleave, sampleOf, series, summarise, type Series } from './stats';

const TASKS = 250;
/** Cycles each claimer runs untimed first, on tasks of its own beyond `TASKS`. */
const WARM_CYCLES = 2;
const REPS = 7;
const CLAIMERS = [1, 10] as const;
const CLAIMER = 'bench:claimer';
const TASK_FILL = `INSERT INTO tasks (id, title, body, status, assignee, priority, created_at)
  SELECT 't_' || lpad(to_hex(n), 8, '0'), 'task ' || n, 'body of task ' || n, 'ready', 'worker', n % 5, 1700000000 + n
  FROM generate_series(1, $1::int) AS n`;

// The constants the library binds as parameters, in its order.
const FINISHED = ['done', 'archived'];
const PLAN_AUDIT_KINDS = ['plan_audit_requested', 'plan_audit_approved', 'plan_audit_rejected', 'plan_audit_exhausted'];
const RESUME_KEYS = ['resume_status', 'retry_status', 'source_status'];
const RESUME_KINDS = [
  ...['blocked', 'block_loop_detected', 'dependency_wait', 'gave_up', 'unblocked', 'changes_requested'],
  ...['review_reopened', 'status', 'reclaimed', 'stale', 'timed_out', 'crashed', 'spawn_failed', 'rate_limited'],
];
const UNFINISHED_PARENT = `SELECT parent.id FROM task_links JOIN tasks AS parent ON parent.id = task_links.parent_id
  WHERE task_links.child_id = `;
const NEWEST_EVENT = 'FROM task_events WHERE task_events.task_id = tasks.id AND task_events.kind IN';

/** The statements the library runs for a claim and a completion, in its order. */
const Q = {
  candidate: `SELECT tasks.*, (EXISTS (${UNFINISHED_PARENT}tasks.id AND parent.status NOT IN ($1, $2))) AS waits
    FROM tasks WHERE (tasks.status = 'ready' AND tasks.claim_lock IS NULL
      AND (tasks.consecutive_failures <= 0
        OR COALESCE((SELECT MAX(task_runs.ended_at) FROM task_runs WHERE task_runs.task_id = tasks.id), 0)
          + LEAST(CAST($3 AS bigint), CAST($4 AS bigint) << LEAST(tasks.consecutive_failures - 1, 30)) <= $5)
      AND ((tasks.plan_audit_required = 0
          OR (SELECT task_events.kind ${NEWEST_EVENT} ($6, $7, $8, $9) ORDER BY task_events.id DESC LIMIT 1)
            = 'plan_audit_approved')
        AND (tasks.budget_usd IS NULL OR tasks.budget_spent_usd < tasks.budget_usd)))
    ORDER BY tasks.priority DESC NULLS LAST, tasks.created_at ASC, tasks.id ASC
    LIMIT $10 FOR UPDATE OF tasks SKIP LOCKED`,
  insertRun: `INSERT INTO task_runs (task_id, profile, step_key, status, claim_lock, claim_expires,
    max_runtime_seconds, last_heartbeat_at, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
  claim: `UPDATE tasks SET status = $1, started_at = COALESCE(tasks.started_at, $2), claim_lock = $3,
    claim_expires = $4, last_heartbeat_at = $5, current_run_id = $6
    WHERE (tasks.id = $7 AND tasks.status = $8 AND tasks.claim_lock IS NULL)`,
  insertEvent: 'INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES ($1, $2, $3, $4, $5)',
  taskById: 'SELECT tasks.* FROM tasks WHERE tasks.id = $1 FOR UPDATE',
  unfinishedParent: `SELECT (${UNFINISHED_PARENT}$1 AND parent.status NOT IN ($2, $3) LIMIT 1) AS id
    FROM tasks WHERE tasks.id = $4`,
  release: `UPDATE tasks SET assignee = $1, status = $2, completed_at = $3, claim_lock = $4, claim_expires = $5,
    result = $6, consecutive_failures = $7, worker_pid = $8, last_failure_error = $9, current_run_id = $10,
    block_kind = $11, block_recurrences = $12 WHERE tasks.id = $13`,
  closeRun: `UPDATE task_runs SET status = $1, ended_at = $2, outcome = $3, summary = $4,
    metadata = COALESCE($5, task_runs.metadata), error = $6 WHERE (task_runs.id = $7 AND task_runs.ended_at IS NULL)`,
  lockChildren: `SELECT id FROM tasks
    WHERE tasks.id IN (SELECT child_id FROM task_links WHERE task_links.parent_id = $1)
    ORDER BY tasks.id ASC FOR UPDATE`,
  promoteChildren: `UPDATE tasks SET status = (CASE WHEN (SELECT 'review' IN ((task_events.payload::jsonb ->> $1),
        (task_events.payload::jsonb ->> $2), (task_events.payload::jsonb ->> $3))
      ${NEWEST_EVENT} ($4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
      ORDER BY task_events.id DESC LIMIT 1) THEN 'review' ELSE 'ready' END)
    WHERE (((tasks.status = 'todo' OR (tasks.status = 'blocked'
        AND NOT (tasks.consecutive_failures >= COALESCE(tasks.max_retries, $18))
        AND COALESCE((SELECT task_events.kind ${NEWEST_EVENT} ($19, $20) ORDER BY task_events.id DESC LIMIT 1), '')
          <> 'blocked'))
      AND NOT (EXISTS (${UNFINISHED_PARENT}tasks.id AND parent.status NOT IN ($21, $22))))
      AND tasks.id IN (SELECT child_id FROM task_links WHERE task_links.parent_id = $23)) RETURNING id, status`,
} as const;
type Statement = keyof typeof Q;

/** The columns of a task row the baseline reads (64-bit integers come back as text). */
type TaskRow = {
  readonly id: string;
  readonly status: string;
  readonly assignee: string | null;
  readonly current_step_key: string | null;
  readonly max_runtime_seconds: string | null;
  readonly current_run_id: string | null;
  readonly result: string | null;
};

const now = () => Math.floor(Date.now() / 1000);
const micros = (values: readonly number[]) => `${fmt(summarise(values).median)} µs`;
/** A statement of `Q`, prepared on the connection under its name the first time. */
const run = <R extends QueryResultRow = QueryResultRow>(client: PoolClient, name: Statement, values: unknown[]) =>
  client.query<R>({ name: `bench_${name}`, text: Q[name], values });

/** The library's claim, by hand: the next candidate, a run, the task moved to it, a `claimed` event. */
async function claimIn(client: PoolClient): Promise<Claimed | undefined> {
  const at = now();
  const backoff = [DEFAULT_RETRY_BACKOFF.maxSeconds, DEFAULT_RETRY_BACKOFF.baseSeconds, at];
  const [task] = (
    await run<TaskRow & { waits: boolean }>(client, 'candidate', [...FINISHED, ...backoff, ...PLAN_AUDIT_KINDS, 1])
  ).rows;
  if (!task) return undefined;
  if (task.waits) throw new Error(`${task.id} has a parent; the bench board has none`);
  const expires = at + DEFAULT_CLAIM_TTL_SECONDS;
  const opened = [task.id, task.assignee, task.current_step_key, 'running', CLAIMER, expires, task.max_runtime_seconds];
  const [runRow] = (await run<{ id: string }>(client, 'insertRun', [...opened, at, at])).rows;
  if (!runRow) throw new Error('INSERT INTO task_runs returned no id');
  const claimed = await run(client, 'claim', ['running', at, CLAIMER, expires, at, runRow.id, task.id, 'ready']);
  if (claimed.rowCount !== 1) throw new Error(`${task.id} changed under its claim`);
  const runId = Number(runRow.id);
  const payload = JSON.stringify({ lock: CLAIMER, expires, run_id: runId });
  await run(client, 'insertEvent', [task.id, runId, 'claimed', payload, at]);
  return { taskId: task.id, runId };
}

/**
 * The library's completion, by hand: the task locked and checked, its parents checked, task and run
 * closed, a `completed` event, children locked and promoted.
 */
async function completeIn(client: PoolClient, { taskId, runId }: Claimed): Promise<void> {
  const at = now();
  const [task] = (await run<TaskRow>(client, 'taskById', [taskId])).rows;
  if (task?.status !== 'running' || task.current_run_id !== String(runId))
    throw new Error(`${taskId} is not running ${runId}`);
  const [parent] = (await run<{ id: string | null }>(client, 'unfinishedParent', [taskId, ...FINISHED, taskId])).rows;
  if (parent?.id) throw new Error(`${taskId} waits for ${parent.id}`);
  // assignee, status, completed_at, claim_lock, claim_expires, result, consecutive_failures, worker_pid,
  // last_failure_error, current_run_id, block_kind, block_recurrences; the task's id.
  const released = [task.assignee, 'done', at, null, null, task.result, 0, null, null, null, null, 0, taskId];
  await run(client, 'release', released);
  await run(client, 'closeRun', ['done', at, 'completed', null, null, null, runId]);
  const payload = JSON.stringify({ result_len: task.result?.length ?? 0, summary: null });
  await run(client, 'insertEvent', [taskId, runId, 'completed', payload, at]);
  // As the library: no children locked, nothing to promote.
  if ((await run(client, 'lockChildren', [taskId])).rows.length === 0) return;
  const lifted = [...RESUME_KEYS, ...RESUME_KINDS, DEFAULT_FAILURE_LIMIT, 'blocked', 'unblocked', ...FINISHED, taskId];
  for (const { id, status } of (await run<{ id: string; status: string }>(client, 'promoteChildren', lifted)).rows) {
    const lane = status === 'review' ? JSON.stringify({ status }) : null;
    await run(client, 'insertEvent', [id, null, 'promoted', lane, at]);
  }
}

/** One READ COMMITTED transaction on a pooled connection, as the library's engine runs a write. */
async function transaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  } finally {
    client.release();
  }
}

type Mode = 'cycle' | 'pair';
/** What the runs of one row left wrong on their boards, both contenders together. */
type Checks = { doubleClaims: number; leftUndone: number };
interface Claimed {
  readonly taskId: string;
  readonly runId: number;
}
/** A contender's three calls, each one transaction. */
interface Contender {
  claim(): Promise<Claimed | undefined>;
  complete(claim: Claimed): Promise<void>;
  completeAndClaim(claim: Claimed): Promise<Claimed | undefined>;
}

function library(kb: Kanban): Contender {
  const claimed = (claim: Claim | undefined) => claim && { taskId: claim.task.id, runId: claim.runId };
  return {
    claim: async () => claimed(await kb.claimNextTask()),
    complete: async ({ taskId, runId }) => void (await kb.completeTask(taskId, { runId })),
    completeAndClaim: async ({ taskId, runId }) => claimed((await kb.completeAndClaimNext(taskId, { runId })).next),
  };
}

function byHand(pool: Pool): Contender {
  return {
    claim: () => transaction(pool, claimIn),
    complete: (claim) => transaction(pool, (client) => completeIn(client, claim)),
    completeAndClaim: (claim) =>
      transaction(pool, async (client) => {
        await completeIn(client, claim);
        return claimIn(client);
      }),
  };
}

/** One claimer: claims and completes until nothing is left to claim; returns how many tasks it completed. */
async function claimer(contender: Contender, mode: Mode): Promise<number> {
  let done = 0;
  let claim = await contender.claim();
  while (claim) {
    if (mode === 'pair') claim = await contender.completeAndClaim(claim);
    else {
      await contender.complete(claim);
      claim = await contender.claim();
    }
    done++;
  }
  return done;
}

/** Untimed: `claimers` claimers at once claim and complete a few tasks each, so each connection has its statements. */
async function warmConnections(contender: Contender, claimers: number): Promise<void> {
  const cycles = async () => {
    for (let i = 0; i < WARM_CYCLES; i++) {
      const claim = await contender.claim();
      if (claim) await contender.complete(claim);
    }
  };
  await Promise.all(Array.from({ length: claimers }, cycles));
}

export async function pgClaimRows(): Promise<Row[]> {
  const server = await startTestServer();
  const url = await server.database('bench_pg_claims');
  const admin = new Client({ connectionString: url });
  await admin.connect();
  let boards = 0;
  try {
    const trial = (mode: Mode, claimers: number, contender: 'ours' | 'hand', checks: Checks, cpu: number[]) =>
      series(async () => {
        // Untimed: a fresh board made by the library, filled, analysed; connections warmed on tasks of their own.
        const board = `bench_claims_${boards++}`;
        const schema = `"kanban_${board}"`;
        const kb = await openKanban({ url, board });
        const pool = new Pool({
          connectionString: url,
          max: 10,
          options: `-c search_path=${schema} -c lock_timeout=${DEFAULT_BUSY_TIMEOUT_MS}`,
        });
        try {
          await admin.query(`SET search_path = ${schema}`);
          await admin.query(TASK_FILL, [TASKS + claimers * WARM_CYCLES]);
          await admin.query('VACUUM (ANALYZE) tasks, task_runs, task_events, task_links');
          const calls = contender === 'ours' ? library(kb) : byHand(pool);
          await warmConnections(calls, claimers);
          let done = 0;
          const cpuBefore = process.cpuUsage();
          const ms = await elapsed(async () => {
            const counts = await Promise.all(Array.from({ length: claimers }, () => claimer(calls, mode)));
            done = counts.reduce((a, b) => a + b, 0);
          });
          const { user, system } = process.cpuUsage(cpuBefore);
          cpu.push((user + system) / done);
          const [check] = (
            await admin.query<{ runs: string; tasks: string; undone: string }>(
              `SELECT (SELECT count(*) FROM task_runs) AS runs,
                 (SELECT count(DISTINCT task_id) FROM task_runs) AS tasks,
                 (SELECT count(*) FROM tasks WHERE status <> 'done') AS undone`,
            )
          ).rows;
          checks.doubleClaims += Number(check?.runs) - Number(check?.tasks);
          checks.leftUndone += Number(check?.undone);
          return (done / ms) * 1000;
        } finally {
          kb.close();
          await pool.end();
          await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        }
      });
    const contests = (['cycle', 'pair'] as const).flatMap((mode) =>
      CLAIMERS.map((claimers) => {
        const checks = { doubleClaims: 0, leftUndone: 0 };
        const cpu: Record<'ours' | 'hand', number[]> = { ours: [], hand: [] };
        return {
          mode,
          claimers,
          checks,
          cpu,
          ours: trial(mode, claimers, 'ours', checks, cpu.ours),
          hand: trial(mode, claimers, 'hand', checks, cpu.hand),
        };
      }),
    );
    await interleave(
      REPS,
      contests.flatMap((c): Series[] => [c.ours, c.hand]),
    );
    return contests.map(({ mode, claimers, checks, cpu, ours, hand }) => {
      const calls = mode === 'cycle' ? '`claimNextTask` + `completeTask`' : '`completeAndClaimNext` loop';
      const who = claimers === 1 ? '1 claimer' : `${claimers} claimers in one process (one handle, pool of 10)`;
      const clean = checks.doubleClaims === 0 && checks.leftUndone === 0;
      return {
        id: `P${mode === 'cycle' ? 3 : 4}.${claimers}`,
        what: `PostgreSQL: ${calls}, ${fmt(TASKS)} ready tasks, ${who}`,
        unit: 'tasks/s',
        ours: sampleOf(ours),
        baseline: {
          name: 'the same SQL by hand on `pg` (named prepared statements, same transactions, pool of 10)',
          sample: sampleOf(hand),
        },
        target: {
          text: '≥ 0.8× the hand-written statements',
          met: sampleOf(ours).median / sampleOf(hand).median >= 0.8 && clean,
        },
        notes:
          `${fmt(TASKS)} tasks a run, a fresh board each; CPU of this process a task (median): ` +
          `kanban-db ${micros(cpu.ours)}, by hand ${micros(cpu.hand)}; ` +
          `double claims: ${checks.doubleClaims}, tasks left undone: ${checks.leftUndone} (both contenders)`,
      };
    });
  } finally {
    await admin.end();
    server.stop();
  }
}
