import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMigrated } from 'kanban-db';
import { execScript } from '../test/helpers/temp';

/** A current board file with `count` ready tasks assigned to `worker`, of five priorities, checkpointed so a copy of the file alone holds them. */
export async function readyBoard(file: string, count: number): Promise<string> {
  await ensureMigrated(file);
  await execScript(
    file,
    `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${count})
     INSERT INTO tasks (id, title, body, status, assignee, priority, created_at)
       SELECT printf('t_%08x', n), 'task ' || n, 'body of task ' || n, 'ready', 'worker', n % 5, 1700000000 + n FROM seq;
     PRAGMA wal_checkpoint(TRUNCATE);`,
  );
  return file;
}

/** Copies of one template file, numbered, for runs that each need the same starting point. */
export function copier(dir: string, template: string, prefix: string): () => string {
  let n = 0;
  return () => {
    const file = join(dir, `${prefix}-${n++}.db`);
    copyFileSync(template, file);
    return file;
  };
}
