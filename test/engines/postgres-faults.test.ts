/**
 * Failures of the server under a call: a connection ended in the middle of a transaction is a
 * `CONNECTION_LOST` after which nothing of the call is written, and the next call reconnects.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { boardSchema } from '../../src/engines/postgres/migrate';
import { isKanbanError } from '../../src/errors';
import { openKanban } from '../../src/kanban';
import { newServerBoard, testServerUrl } from '../helpers/board';

async function sql(schema: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: testServerUrl(), options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('a PostgreSQL board whose connection is lost', () => {
  it('refuses the call in flight with CONNECTION_LOST, writes nothing of it, and reconnects for the next', async () => {
    const board = newServerBoard();
    const schema = boardSchema(board);
    const kb = await openKanban({ url: testServerUrl(), board });
    try {
      await kb.createTask({ title: 'before' });
      // Every new task waits in the database, so the call is inside its transaction when the connection ends.
      await sql(
        schema,
        `CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$;
         CREATE TRIGGER slow BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION slow();`,
      );
      const call = kb.createTask({ title: 'lost' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      let terminated = 0;
      for (let tries = 0; terminated === 0 && tries < 200; tries++) {
        await sleep(50);
        const rows = await sql(
          schema,
          "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid()",
        );
        terminated = rows.length;
      }
      expect(terminated).toBe(1);
      const error = await call;
      expect(isKanbanError(error, 'CONNECTION_LOST')).toBe(true);
      expect(await sql(schema, "SELECT id FROM tasks WHERE title = 'lost'")).toEqual([]);
      expect(await sql(schema, "SELECT id FROM task_events WHERE kind = 'created'")).toHaveLength(1);
      await sql(schema, 'DROP TRIGGER slow ON tasks');
      expect((await kb.createTask({ title: 'after' })).title).toBe('after');
      expect((await kb.listTasks()).map((t) => t.title).sort()).toEqual(['after', 'before']);
    } finally {
      kb.close();
    }
  });

  it('waits for a row another transaction holds no longer than its busy timeout: BUSY, nothing written, then it goes through', async () => {
    const board = newServerBoard();
    const kb = await openKanban({ url: testServerUrl(), board, busyTimeoutMs: 300 });
    const holder = new Client({ connectionString: testServerUrl(), options: `-c search_path=${boardSchema(board)}` });
    await holder.connect();
    try {
      const task = await kb.createTask({ title: 'held' });
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM tasks WHERE id = $1 FOR UPDATE', [task.id]);
      const refused = await kb.completeTask(task.id).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isKanbanError(refused, 'BUSY')).toBe(true);
      expect((await kb.getTask(task.id)).status).toBe('ready');
      await holder.query('ROLLBACK');
      expect((await kb.completeTask(task.id)).status).toBe('done');
    } finally {
      await holder.end();
      kb.close();
    }
  });
});
