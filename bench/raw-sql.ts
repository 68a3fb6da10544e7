/**
 * The practical limit: the repository's operations written by hand on the `libsql` package with
 * every statement prepared once, in the same write transactions and with the same statements as
 * `claimNextTask`, `completeTask`, `createTask`, `getTask` and `listTasks`, without validation or
 * the ORM. What this machine can do with this driver.
 */
import { randomBytes } from 'node:crypto';
import Database from 'libsql';

const TTL_SECONDS = 900;
const now = () => Math.floor(Date.now() / 1000);

export type Prepared = ReturnType<typeof preparedOps>;

export function openPrepared(file: string): { ops: Prepared; close: () => void } {
  const conn = new Database(file, { timeout: 10_000 });
  return { ops: preparedOps(conn), close: () => conn.close() };
}

export function preparedOps(conn: Database.Database) {
  const begin = conn.prepare('BEGIN IMMEDIATE');
  const commit = conn.prepare('COMMIT');
  const candidate = conn.prepare(`SELECT *, EXISTS (SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id
      WHERE l.child_id = tasks.id AND p.status NOT IN ('done')) AS waits
    FROM tasks WHERE status = 'ready' AND claim_lock IS NULL ORDER BY priority DESC, created_at ASC, id ASC LIMIT 1`);
  const openRun =
    conn.prepare(`INSERT INTO task_runs (task_id, profile, step_key, status, claim_lock, claim_expires, max_runtime_seconds,
      last_heartbeat_at, started_at) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)`);
  const claim =
    conn.prepare(`UPDATE tasks SET status = 'running', claim_lock = ?, claim_expires = ?, started_at = COALESCE(started_at, ?),
      last_heartbeat_at = ?, current_run_id = ? WHERE id = ? AND status = 'ready' AND claim_lock IS NULL`);
  const event = conn.prepare(
    'INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const byId = conn.prepare('SELECT * FROM tasks WHERE id = ?');
  const closeRun =
    conn.prepare(`UPDATE task_runs SET status = 'done', outcome = 'completed', ended_at = ?, summary = NULL, error = NULL
      WHERE id = ? AND ended_at IS NULL`);
  const complete =
    conn.prepare(`UPDATE tasks SET status = 'done', completed_at = ?, result = ?, consecutive_failures = 0, last_failure_error = ?,
      claim_lock = NULL, claim_expires = NULL, worker_pid = NULL, current_run_id = NULL WHERE id = ?`);
  const promote = conn.prepare(`UPDATE tasks SET status = 'ready' WHERE status = 'todo'
      AND id IN (SELECT child_id FROM task_links WHERE parent_id = ?)
      AND NOT EXISTS (SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id WHERE l.child_id = tasks.id AND p.status NOT IN ('done'))
      RETURNING id`);
  const insert = conn.prepare(
    "INSERT INTO tasks (id, title, status, created_at) VALUES (?, ?, 'ready', ?) ON CONFLICT (id) DO NOTHING RETURNING *",
  );
  const list = conn.prepare(
    "SELECT * FROM tasks WHERE status <> 'archived' ORDER BY priority DESC, created_at ASC, id ASC LIMIT ?",
  );
  const field = (row: unknown, name: string): unknown =>
    typeof row === 'object' && row !== null ? Reflect.get(row, name) : undefined;

  function transaction<T>(fn: () => T): T {
    begin.run();
    try {
      const result = fn();
      commit.run();
      return result;
    } catch (error) {
      if (conn.inTransaction) conn.exec('ROLLBACK');
      throw error;
    }
  }

  return {
    claimNext: (claimer: string): { taskId: string; runId: number } | undefined =>
      transaction(() => {
        const at = now();
        const row = candidate.get();
        if (row === undefined) return undefined;
        const taskId = String(field(row, 'id'));
        if (field(row, 'waits')) throw new Error(`${taskId} has a parent; the bench board has none`);
        const expires = at + TTL_SECONDS;
        const runId = Number(
          openRun.run(
            taskId,
            field(row, 'assignee'),
            field(row, 'current_step_key'),
            claimer,
            expires,
            field(row, 'max_runtime_seconds'),
            at,
            at,
          ).lastInsertRowid,
        );
        if (claim.run(claimer, expires, at, at, runId, taskId).changes !== 1)
          throw new Error(`${taskId} changed under its claim`);
        event.run(taskId, runId, 'claimed', JSON.stringify({ claimer, expires }), at);
        return { taskId, runId };
      }),
    complete: (taskId: string, runId: number): void =>
      transaction(() => {
        const at = now();
        const task = byId.get(taskId);
        if (field(task, 'status') !== 'running' || Number(field(task, 'current_run_id')) !== runId)
          throw new Error(`${taskId} is not running run ${runId}`);
        closeRun.run(at, runId);
        complete.run(at, field(task, 'result'), field(task, 'last_failure_error'), taskId);
        event.run(taskId, runId, 'completed', JSON.stringify({ summary: null }), at);
        for (const promoted of promote.all(taskId))
          event.run(String(field(promoted, 'id')), null, 'promoted', null, at);
      }),
    create: (title: string): unknown =>
      transaction(() => {
        const at = now();
        const id = `t_${randomBytes(4).toString('hex')}`;
        const task = insert.get(id, title, at);
        if (task === undefined) throw new Error(`id ${id} taken`);
        event.run(id, null, 'created', JSON.stringify({ status: 'ready', assignee: null, parents: [] }), at);
        return task;
      }),
    get: (id: string): unknown => byId.get(id),
    list: (limit: number): unknown[] => list.all(limit),
  };
}
