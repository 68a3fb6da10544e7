/**
 * The embedded engine: one synchronous libSQL connection per file per process, drizzle's sync
 * session over it, and write transactions that are plain synchronous functions between
 * `BEGIN IMMEDIATE` and `COMMIT`. Nothing can interleave with a synchronous function, so a
 * process needs no lock of its own around its writes, and statements prepared once on the
 * connection run inside whatever transaction the connection is in.
 */
import type Database from 'libsql';
import {
  createTableRelationsHelpers,
  extractTablesRelationalConfig,
  type ExtractTablesWithRelations,
} from 'drizzle-orm';
import { BetterSQLiteSession } from 'drizzle-orm/better-sqlite3/session';
import { BaseSQLiteDatabase, SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import * as schema from './schema';
import { busyTimeout, retryBusy, type Connection, type ConnectionOptions } from './connect';

/** drizzle's query builder in sync mode over the engine's connection. */
export type SyncDb = BaseSQLiteDatabase<'sync', Database.RunResult>;
/** The same with the schema, for relational queries (`db.query.tasks.findMany(…)`). */
export type SchemaDb = BaseSQLiteDatabase<'sync', Database.RunResult, typeof schema>;

/** A synchronous result: a promise here would let work escape the transaction it belongs to. */
export type Sync<T> = T extends PromiseLike<unknown> ? never : T;

export interface Engine {
  readonly conn: Connection;
  readonly db: SyncDb;
  /** The database file, absolute. */
  readonly path: string;
  /** Runs `fn` as one write transaction (`BEGIN IMMEDIATE`), retried whole through SQLITE_BUSY. */
  write<T>(fn: () => Sync<T>, options?: ConnectionOptions): Promise<T>;
  /** Runs reads outside a transaction, retried through SQLITE_BUSY, errors classified. */
  read<T>(fn: () => Sync<T>, options?: ConnectionOptions): Promise<T>;
  /** The schema-aware database, built on first use. */
  schemaDb(): SchemaDb;
}

const dialect = new SQLiteSyncDialect();

export function createEngine(conn: Connection, path: string): Engine {
  const db: SyncDb = new BaseSQLiteDatabase(
    'sync',
    dialect,
    new BetterSQLiteSession(conn, dialect, undefined),
    undefined,
  );
  const begin = conn.prepare('BEGIN IMMEDIATE');
  const commit = conn.prepare('COMMIT');
  let withSchema: SchemaDb | undefined;

  function transaction<T>(fn: () => T): T {
    begin.run();
    try {
      const result = fn();
      commit.run();
      return result;
    } catch (error) {
      // A failed COMMIT (SQLITE_BUSY in rollback-journal mode) leaves the transaction open.
      if (conn.inTransaction) conn.exec('ROLLBACK');
      throw error;
    }
  }

  return {
    conn,
    db,
    path,
    write: (fn, options = {}) => retryBusy(() => transaction(fn), busyTimeout(options), path),
    read: (fn, options = {}) => retryBusy(fn, busyTimeout(options), path),
    schemaDb: () => (withSchema ??= relationalDb(conn)),
  };
}

/** What drizzle's own driver factories do, for a connection they cannot take (they load better-sqlite3). */
function relationalDb(conn: Connection): SchemaDb {
  const tables = extractTablesRelationalConfig<ExtractTablesWithRelations<typeof schema>>(
    schema,
    createTableRelationsHelpers,
  );
  const relational = { fullSchema: schema, schema: tables.tables, tableNamesMap: tables.tableNamesMap };
  return new BaseSQLiteDatabase('sync', dialect, new BetterSQLiteSession(conn, dialect, relational), relational);
}
