import { Client } from 'pg';
import { knownMigrations, PG_MIGRATIONS_FOLDER } from '../../src/engines/migrations';
import { ensurePgMigrated, forgetPgDatabase } from '../../src/engines/postgres/migrate';
import { isKanbanError } from '../../src/errors';
import { releaseTogether, startChildren } from '../helpers/children';
import { startTestServer, type TestServer } from '../helpers/postgres';

const PROCESSES = 8;
const TRIALS = 5;
const LEDGER = 'kanban_default."__drizzle_migrations"';
const tags = () => knownMigrations(PG_MIGRATIONS_FOLDER).map((m) => m.tag);

async function rows(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function refusal(call: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  return isKanbanError(error) ? { code: error.code, message: error.message } : { code: String(error), message: '' };
}

describe('the boot step on PostgreSQL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);
  afterAll(() => server?.stop());

  it('migrates an empty database once; a current one is found current', async () => {
    const url = await server.database('boot_once');
    expect((await ensurePgMigrated(url)).applied).toEqual(tags());
    // The same process asks again: the memo answers.
    expect((await ensurePgMigrated(url)).applied).toEqual(tags());
    forgetPgDatabase(url);
    expect((await ensurePgMigrated(url)).applied).toEqual([]);
    const tables = await rows(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'kanban_default'",
    );
    expect(tables.map((t) => t.table_name).sort()).toEqual(
      [
        '__drizzle_migrations',
        'kanban_notify_subs',
        'recipe_instance_tasks',
        'recipe_instances',
        'task_attachments',
        'task_comments',
        'task_events',
        'task_links',
        'task_runs',
        'tasks',
      ].sort(),
    );
  });

  it(`${PROCESSES} processes booting one empty database at once: no error, each migration recorded once (${TRIALS} trials)`, async () => {
    const children = await startChildren(PROCESSES, 'pg-boot-child.js');
    try {
      for (let trial = 0; trial < TRIALS; trial++) {
        const url = await server.database(`boot_storm_${trial}`);
        const answers = await releaseTogether<{ ok: boolean; applied: string[]; message?: string }>(children, { url });
        expect(answers.filter((a) => !a.ok)).toEqual([]);
        expect(answers.flatMap((a) => a.applied).sort()).toEqual(tags().sort());
        const ledger = await rows(url, `SELECT hash FROM ${LEDGER}`);
        expect(ledger).toHaveLength(tags().length);
      }
    } finally {
      for (const child of children) child.stop();
    }
  });

  it('refuses a ledger it does not know (SCHEMA_TOO_NEW) and a changed migration (MIGRATION_MODIFIED), writing nothing', async () => {
    const newer = await server.database('boot_newer');
    await ensurePgMigrated(newer);
    await rows(newer, `INSERT INTO ${LEDGER} (hash, created_at) VALUES ('x', 4102444800000)`);
    forgetPgDatabase(newer);
    expect((await refusal(ensurePgMigrated(newer))).code).toBe('SCHEMA_TOO_NEW');
    expect(await rows(newer, `SELECT hash FROM ${LEDGER}`)).toHaveLength(tags().length + 1);
    const changed = await server.database('boot_changed');
    await ensurePgMigrated(changed);
    await rows(changed, `UPDATE ${LEDGER} SET hash = 'edited'`);
    forgetPgDatabase(changed);
    expect((await refusal(ensurePgMigrated(changed))).code).toBe('MIGRATION_MODIFIED');
    expect(await rows(changed, `SELECT hash FROM ${LEDGER} WHERE hash <> 'edited'`)).toEqual([]);
  });

  it('names the server, never the password, when it cannot connect (CANNOT_OPEN)', async () => {
    const port = new URL(server.url).port;
    const missing = await refusal(ensurePgMigrated(`postgres://ana:s3cret-pw@127.0.0.1:${port}/no_such_db`));
    expect(missing.code).toBe('CANNOT_OPEN');
    expect(missing.message).toContain(`127.0.0.1:${port}/no_such_db`);
    expect(missing.message).not.toContain('s3cret-pw');
    const closed = await refusal(ensurePgMigrated('postgres://ana:s3cret-pw@127.0.0.1:1/kanban'));
    expect([closed.code, closed.message.includes('s3cret-pw')]).toEqual(['CANNOT_OPEN', false]);
  });
});
