/**
 * The embedded engine: one synchronous libSQL connection per file per process, drizzle's sync
 * session over it, and write transactions between `BEGIN IMMEDIATE` and `COMMIT`. The rules are
 * asynchronous (they are the same on a server), so another call of this process could otherwise
 * run its statements inside a transaction left open across an `await`: every transaction and read
 * holds the connection's mutex. Statements prepared once on the connection run inside whatever
 * transaction the connection is in.
 */
import { Mutex } from 'async-mutex';
import {
  createTableRelationsHelpers,
  extractTablesRelationalConfig,
  type ExtractTablesWithRelations,
} from 'drizzle-orm';
import { BetterSQLiteSession } from 'drizzle-orm/better-sqlite3/session';
import { BaseSQLiteDatabase, SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import type { Engine as BoardEngine, Store } from '../../core/port';
import { sqliteStore } from './statements';
import * as schema from '../../core/schema';
import type { SchemaDb, Sync, SyncDb } from './drizzle';
import { busyTimeout, retryBusy, type Connection, type ConnectionOptions } from './connect';

export type { SchemaDb, Sync, SyncDb };

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
  /** The rules' engine over this connection, with one handle's busy timeout. */
  board(options: ConnectionOptions): BoardEngine;
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
  const mutex = new Mutex();
  let withSchema: SchemaDb | undefined;
  let store: Store | undefined;

  async function transaction<T>(fn: () => T | Promise<T>): Promise<T> {
    begin.run();
    try {
      const result = await fn();
      commit.run();
      return result;
    } catch (error) {
      // A failed COMMIT (SQLITE_BUSY in rollback-journal mode) leaves the transaction open.
      if (conn.inTransaction) conn.exec('ROLLBACK');
      throw error;
    }
  }
  // Each try takes the mutex anew, so other calls of this process run while this one waits out a lock.
  const exclusive = <T>(fn: () => T | Promise<T>, options: ConnectionOptions): Promise<T> =>
    retryBusy(() => mutex.runExclusive(fn), busyTimeout(options), path);

  return {
    conn,
    db,
    path,
    write: (fn, options = {}) => exclusive(() => transaction(fn), options),
    read: (fn, options = {}) => exclusive(fn, options),
    schemaDb: () => (withSchema ??= relationalDb(conn)),
    board: (options) => {
      store ??= sqliteStore(db);
      const q = store;
      return {
        where: path,
        write: (fn) => exclusive(() => transaction(() => fn(q)), options),
        read: (fn) => exclusive(() => fn(q), options),
      };
    },
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
