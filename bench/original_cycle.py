"""The claim cycle as the original Python program runs it, on the standard library's sqlite3.

The statements are those of the original's claim and completion (see the README's bench section):
a candidate read, then `BEGIN IMMEDIATE`, the unfinished-parent check, the compare-and-set UPDATE,
the run's INSERT, `current_run_id`, the `claimed` event, COMMIT; then the completion in a second
transaction. WAL, synchronous FULL, one connection, as the original opens it.

Protocol: prints "ready" once connected, waits for one line on stdin, claims and completes up to
LIMIT tasks, then prints one JSON line: {"claimed": [...], "ms": elapsed}.
"""
import json
import os
import socket
import sqlite3
import sys
import time

TTL_SECONDS = 900


def main() -> None:
    path, limit = sys.argv[1], int(sys.argv[2])
    conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    lock = f"{socket.gethostname()}:{os.getpid()}"
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    claimed = []
    while len(claimed) < limit:
        task_id = claim_next(conn, lock)
        if task_id is None:
            break
        claimed.append(task_id[0])
        complete(conn, task_id[0], task_id[1])
    print(json.dumps({"claimed": claimed, "ms": (time.perf_counter() - start) * 1000}), flush=True)


def claim_next(conn, lock):
    while True:
        row = conn.execute(
            "SELECT id FROM tasks WHERE status = 'ready' AND claim_lock IS NULL "
            "ORDER BY priority DESC, created_at ASC, id ASC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        claimed = claim(conn, row["id"], lock)
        if claimed is not None:
            return claimed


def claim(conn, task_id, lock):
    now = int(time.time())
    expires = now + TTL_SECONDS
    conn.execute("BEGIN IMMEDIATE")
    try:
        undone = conn.execute(
            "SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id "
            "WHERE l.child_id = ? AND p.status != 'done' LIMIT 1",
            (task_id,),
        ).fetchone()
        if undone:
            conn.execute("UPDATE tasks SET status = 'todo' WHERE id = ? AND status = 'ready'", (task_id,))
            event(conn, task_id, "claim_rejected", None, {"reason": "a parent is not done"}, now)
            conn.execute("COMMIT")
            return None
        cur = conn.execute(
            "UPDATE tasks SET status = 'running', claim_lock = ?, claim_expires = ?, "
            "started_at = COALESCE(started_at, ?) "
            "WHERE id = ? AND status = 'ready' AND claim_lock IS NULL",
            (lock, expires, now, task_id),
        )
        if cur.rowcount != 1:
            conn.execute("COMMIT")
            return None
        trow = conn.execute(
            "SELECT assignee, max_runtime_seconds, current_step_key FROM tasks WHERE id = ?", (task_id,)
        ).fetchone()
        run_id = conn.execute(
            "INSERT INTO task_runs (task_id, profile, step_key, status, claim_lock, claim_expires, "
            "max_runtime_seconds, started_at) VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
            (task_id, trow["assignee"], trow["current_step_key"], lock, expires, trow["max_runtime_seconds"], now),
        ).lastrowid
        conn.execute("UPDATE tasks SET current_run_id = ? WHERE id = ?", (run_id, task_id))
        event(conn, task_id, "claimed", run_id, {"lock": lock, "expires": expires, "run_id": run_id}, now)
        conn.execute("COMMIT")
        return task_id, run_id
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def complete(conn, task_id, run_id):
    now = int(time.time())
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute(
            "UPDATE tasks SET status = 'done', completed_at = ?, consecutive_failures = 0, "
            "last_failure_error = NULL, claim_lock = NULL, claim_expires = NULL, worker_pid = NULL, "
            "current_run_id = NULL WHERE id = ? AND status IN ('running', 'ready', 'blocked') "
            "AND current_run_id = ?",
            (now, task_id, run_id),
        )
        if cur.rowcount != 1:
            raise RuntimeError(f"{task_id} is not running run {run_id}")
        conn.execute(
            "UPDATE task_runs SET status = 'done', outcome = 'completed', ended_at = ?, "
            "claim_lock = NULL, claim_expires = NULL, worker_pid = NULL WHERE id = ? AND ended_at IS NULL",
            (now, run_id),
        )
        event(conn, task_id, "completed", run_id, {"summary": None}, now)
        children = conn.execute("SELECT child_id FROM task_links WHERE parent_id = ?", (task_id,)).fetchall()
        for child in children:
            cur = conn.execute(
                "UPDATE tasks SET status = 'ready' WHERE id = ? AND status = 'todo' AND NOT EXISTS ("
                "SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id "
                "WHERE l.child_id = tasks.id AND p.status != 'done')",
                (child["child_id"],),
            )
            if cur.rowcount:
                event(conn, child["child_id"], "promoted", None, None, now)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def event(conn, task_id, kind, run_id, payload, now):
    conn.execute(
        "INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)",
        (task_id, run_id, kind, None if payload is None else json.dumps(payload), now),
    )


if __name__ == "__main__":
    main()
