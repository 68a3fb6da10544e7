/**
 * The boot step on PostgreSQL: a board is one schema of the database (`kanban_<slug>`), as a board
 * is one file on disk. The pending migrations of `drizzle-pg/` run in that schema in one
 * transaction under `pg_advisory_xact_lock`, which re-reads the board's ledger once it holds the
 * lock, so of any number of processes booting one board at once, one applies each migration and
 * the others find it done (drizzle's own `migrate()` for PostgreSQL takes no lock). In one process,
 * an async-mutex per server, database and board guards the memoised report, as `ensureMigrated`
 * does for files.
 */
import { Mutex } from 'async-mutex';
import { Client } from 'pg';
import { knownMigrations, LEDGER_TABLE, type LedgerRow, PG_MIGRATIONS_FOLDER, pendingMigrations } from '../migrations';
import { DEFAULT_BOARD } from '../../boards';
import { classifyPgError, describeServer } from './errors';

export interface PgMigrationReport {
  /** The server and database, without credentials. */
  readonly server: string;
  /** The board's schema. */
  readonly schema: string;
  /** Tags of the migrations this call applied; empty when the database was current. */
  readonly applied: readonly string[];
  /** The newest migration the database now holds. */
  readonly schemaVersion: string;
}

/** The advisory lock class every kanban-db process takes to migrate a board; the board's schema names the lock in it. */
const MIGRATION_LOCK = 741_203_133;

/** The schema that holds a board (a slug as `normalizeSlug` leaves it). */
export function boardSchema(slug: string): string {
  return `kanban_${slug}`;
}

/** A schema's name as an SQL identifier. */
export const quoted = (name: string): string => `"${name.replaceAll('"', '""')}"`;

const boots = new Map<string, { readonly lock: Mutex; report?: PgMigrationReport }>();

/**
 * Brings a PostgreSQL database to the current schema, once per server and database per process
 * however many callers arrive together; a failed attempt is not remembered.
 */
export async function ensurePgMigrated(url: string, board: string = DEFAULT_BOARD): Promise<PgMigrationReport> {
  const server = describeServer(url);
  const schema = boardSchema(board);
  const key = boardKey(url, schema);
  let boot = boots.get(key);
  if (!boot) {
    boot = { lock: new Mutex() };
    boots.set(key, boot);
  }
  const known = boot.report;
  if (known) return known;
  const entry = boot;
  return entry.lock.runExclusive(async () => {
    entry.report ??= await migrate(url, server, schema);
    return entry.report;
  });
}

async function migrate(url: string, server: string, schema: string): Promise<PgMigrationReport> {
  const migrations = knownMigrations(PG_MIGRATIONS_FOLDER);
  const report = (applied: readonly string[]) => ({
    server,
    schema,
    applied,
    schemaVersion: migrations.at(-1)?.tag ?? 'none',
  });
  const ledger = `${quoted(schema)}.${quoted(LEDGER_TABLE)}`;
  let client: Client | undefined;
  try {
    client = new Client({ connectionString: url });
    await client.connect();
    // Fast path: a current ledger is read without the lock, so booting on a current database never waits.
    if (pendingMigrations(await readLedger(client, ledger), migrations, server).length === 0) return report([]);
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK, schema]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted(schema)}`);
      await client.query(`SET LOCAL search_path TO ${quoted(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${ledger} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`,
      );
      const todo = pendingMigrations(await readLedger(client, ledger), migrations, server);
      for (const migration of todo) {
        // drizzle-kit names the `public` schema in foreign keys; the board's schema is on the search path instead.
        for (const statement of migration.sql) if (statement.trim()) await client.query(inBoard(statement));
        await client.query(`INSERT INTO ${ledger} (hash, created_at) VALUES ($1, $2)`, [
          migration.hash,
          migration.folderMillis,
        ]);
      }
      await client.query('COMMIT');
      return report(todo.map((m) => m.tag));
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } catch (error) {
    throw classifyPgError(error, server);
  } finally {
    await client?.end().catch(() => undefined);
  }
}

const inBoard = (statement: string) => statement.replaceAll('"public".', '');

/** The ledger as the database holds it; empty when it has none. */
async function readLedger(client: Client, ledger: string): Promise<LedgerRow[]> {
  const exists = await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [ledger]);
  if (!exists.rows[0]?.found) return [];
  const { rows } = await client.query<{ hash: string; created_at: string }>(
    `SELECT hash, created_at FROM ${ledger} ORDER BY created_at`,
  );
  return rows.map((row) => ({ hash: row.hash, createdAt: Number(row.created_at) }));
}

/**
 * One database as this process knows it: user, host, port, database and the query's connection
 * parameters (a socket folder in `?host=`, an `options` search path), but never the password.
 */
export function databaseKey(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.searchParams.sort();
    return parsed.toString();
  } catch {
    return url;
  }
}

const boardKey = (url: string, schema: string) => `${databaseKey(url)}#${schema}`;

/** Forgets what this process knows of a board, so the next call checks it again. */
export function forgetPgDatabase(url: string, board: string = DEFAULT_BOARD): void {
  boots.delete(boardKey(url, boardSchema(board)));
}
