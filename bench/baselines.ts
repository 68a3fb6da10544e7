/** The baselines the bench measures kanban-db against: drizzle's own migrator, and plain SQL. */
import type { Client } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { Client as PgClient } from 'pg';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { rawClient } from '../test/helpers/temp';
import { MIGRATIONS_FOLDER, PG_MIGRATIONS_FOLDER } from './paths';

/** drizzle's `migrate()` on the same `drizzle/` folder, as its documentation shows it. */
export async function drizzleMigrate(file: string): Promise<void> {
  await withClient(file, (client) => migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER }));
}

const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
export const MIGRATION_COUNT = migrations.length;
const statements = migrations.flatMap((migration) => migration.sql).filter((statement) => statement.trim());

/** The migrations' SQL executed directly, in one write transaction, with no ledger: the floor. */
export async function rawMigrate(file: string): Promise<void> {
  await withClient(file, (client) => client.batch(statements, 'write'));
}

export async function withClient<T>(file: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = rawClient(file);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** drizzle's `migrate()` for node-postgres on `drizzle-pg/`, as its documentation shows it: it takes no lock. */
export async function drizzlePgMigrate(url: string): Promise<void> {
  const client = new PgClient({ connectionString: url });
  await client.connect();
  try {
    await migratePg(drizzlePg(client), { migrationsFolder: PG_MIGRATIONS_FOLDER });
  } finally {
    await client.end();
  }
}
