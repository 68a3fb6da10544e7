/**
 * The repository's operations written by hand on @libsql/client: the same statements in the same
 * write transactions as `claimNextTask`, `completeTask`, `createTask`, `getTask` and `listTasks`,
 * without validation, the ORM or the per-file queue. What this machine can do with this driver.
 */
import type { Client, Row } from '@libsql/client';
import { randomBytes } from 'node:crypto';

const CANDIDATE = `SELECT id FROM tasks WHERE status = 'ready' AND claim_lock IS NULL
  ORDER BY priority DESC, created_at ASC, id ASC LIMIT 1`;
const UNFINISHED_PARENT = `SELECT task_links.parent_id FROM task_links JOIN tasks ON tasks.id = task_links.parent_id
  WHERE task_links.child_id = ? AND tasks.status <> 'done' LIMIT 1`;
const CLAIM = `UPDATE tasks SET status = 'running', claim_lock = ?, claim_expires = ?, started_at = COALESCE(started_at, ?),
  last_heartbeat_at = ? WHERE id = ? AND status = 'ready' AND claim_lock IS NULL RETURNING *`;
const OPEN_RUN = `INSERT INTO task_runs (task_id, profile, status, claim_lock, claim_expires, max_runtime_seconds, last_heartbeat_at, started_at)
  VALUES (?, ?, 'running', ?, ?, ?, ?, ?) RETURNING id`;
const EVENT = 'INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)';
const CLOSE_RUN = `UPDATE task_runs SET status = 'done', outcome = 'completed', ended_at = ?, summary = NULL, error = NULL
  WHERE id = ? AND ended_at IS NULL`;
const COMPLETE = `UPDATE tasks SET status = 'done', completed_at = ?, consecutive_failures = 0, claim_lock = NULL,
  claim_expires = NULL, worker_pid = NULL, current_run_id = NULL WHERE id = ? RETURNING *`;

const TTL_SECONDS = 900;
const now = () => Math.floor(Date.now() / 1000);

export async function rawClaimNext(client: Client, claimer: string): Promise<{ taskId: string; runId: number } | undefined> {
  const tx = await client.transaction('write');
  try {
    const at = now();
    const candidate: Row | undefined = (await tx.execute(CANDIDATE)).rows[0];
    if (!candidate) return undefined;
    const taskId = String(candidate.id);
    if ((await tx.execute({ sql: UNFINISHED_PARENT, args: [taskId] })).rows.length) throw new Error(`${taskId} has a parent; the bench board has none`);
    const expires = at + TTL_SECONDS;
    const claimed = (await tx.execute({ sql: CLAIM, args: [claimer, expires, at, at, taskId] })).rows[0];
    if (!claimed) return undefined;
    const run = await tx.execute({ sql: OPEN_RUN, args: [taskId, claimed.assignee ?? null, claimer, expires, claimed.max_runtime_seconds ?? null, at, at] });
    const runId = Number(run.rows[0]?.id);
    await tx.execute({ sql: 'UPDATE tasks SET current_run_id = ? WHERE id = ?', args: [runId, taskId] });
    await tx.execute({ sql: EVENT, args: [taskId, runId, 'claimed', JSON.stringify({ claimer, expires }), at] });
    await tx.commit();
    return { taskId, runId };
  } finally {
    tx.close();
  }
}

export async function rawComplete(client: Client, taskId: string, runId: number): Promise<void> {
  const tx = await client.transaction('write');
  try {
    const at = now();
    const task = (await tx.execute({ sql: 'SELECT * FROM tasks WHERE id = ?', args: [taskId] })).rows[0];
    if (task?.status !== 'running' || Number(task.current_run_id) !== runId) throw new Error(`${taskId} is not running run ${runId}`);
    await tx.execute({ sql: CLOSE_RUN, args: [at, runId] });
    await tx.execute({ sql: COMPLETE, args: [at, taskId] });
    await tx.execute({ sql: EVENT, args: [taskId, runId, 'completed', JSON.stringify({ summary: null }), at] });
    await tx.execute({ sql: 'SELECT child_id FROM task_links WHERE parent_id = ?', args: [taskId] });
    await tx.commit();
  } finally {
    tx.close();
  }
}

export async function rawCreate(client: Client, title: string): Promise<Row | undefined> {
  const tx = await client.transaction('write');
  try {
    const at = now();
    const id = `t_${randomBytes(4).toString('hex')}`;
    const insert = "INSERT INTO tasks (id, title, status, created_at) VALUES (?, ?, 'ready', ?) ON CONFLICT (id) DO NOTHING RETURNING *";
    const task = (await tx.execute({ sql: insert, args: [id, title, at] })).rows[0];
    if (!task) throw new Error(`id ${id} taken`);
    await tx.execute({ sql: EVENT, args: [id, null, 'created', JSON.stringify({ status: 'ready', assignee: null, parents: [] }), at] });
    await tx.commit();
    return task;
  } finally {
    tx.close();
  }
}

export async function rawGet(client: Client, id: string): Promise<Row | undefined> {
  return (await client.execute({ sql: 'SELECT * FROM tasks WHERE id = ?', args: [id] })).rows[0];
}

export async function rawList(client: Client, limit: number): Promise<Row[]> {
  const sql = "SELECT * FROM tasks WHERE status <> 'archived' ORDER BY priority DESC, created_at ASC, id ASC LIMIT ?";
  return (await client.execute({ sql, args: [limit] })).rows;
}
