import Database from 'libsql';
import { setTimeout as sleep } from 'node:timers/promises';
import { classifyDatabaseError, isKanbanError, sqliteCode } from '../../errors';

/** One synchronous libSQL connection (the better-sqlite3-compatible `libsql` package). */
export type Connection = Database.Database;

/**
 * How long a call waits for another process's lock before it gives up with BUSY. Boot storms of
 * several processes queue on the write lock for a few milliseconds each; ten seconds leaves room
 * for a slow disk without hanging forever.
 */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/**
 * The longest one statement blocks the event loop waiting for a lock (SQLite's busy handler). The
 * calls are synchronous, so a long wait inside SQLite would freeze timers, pipes and signal
 * handlers; past this slice the wait goes on asynchronously, up to the busy timeout.
 */
export const BUSY_SLICE_MS = 50;

export interface ConnectionOptions {
  /** How long a call waits for other processes' locks before failing with BUSY. */
  readonly busyTimeoutMs?: number;
  /**
   * Switch the file to write-ahead logging (the default): readers never wait for the writer, which
   * the dispatcher, the notifier and workers all need. `false` leaves the journal mode as the file
   * has it (the rollback journal for a new file).
   */
  readonly wal?: boolean;
}

export function openConnection(path: string, options: ConnectionOptions = {}): Connection {
  try {
    const conn = new Database(path, { timeout: Math.min(BUSY_SLICE_MS, busyTimeout(options)) });
    // As every upstream connection: the recipe tables' foreign keys keep their tasks from deletion.
    conn.exec('PRAGMA foreign_keys = ON');
    return conn;
  } catch (error) {
    throw classifyDatabaseError(error, path);
  }
}

export const busyTimeout = (options: ConnectionOptions): number => options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;

/**
 * Runs `fn` until it does not fail with SQLITE_BUSY, waiting between tries without blocking the
 * event loop, for at most `timeoutMs`; then classifies what it threw (BUSY, READ_ONLY, …) for `path`.
 * `fn` must be safe to repeat: a write transaction that failed was rolled back whole.
 */
export async function retryBusy<T>(fn: () => T | Promise<T>, timeoutMs: number, path: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (sqliteCode(error) !== 'SQLITE_BUSY' || Date.now() >= deadline) throw classifyDatabaseError(error, path);
      await sleep(1 + Math.random() * 4);
    }
  }
}

/**
 * Puts the file in WAL mode where the file system allows it, and returns the journal mode in force.
 * Switching needs an exclusive lock, so several processes opening a fresh file at once can get
 * SQLITE_BUSY: it is retried until the busy timeout. The mode is stored in the file, so later opens
 * find it set and only read it.
 */
export async function ensureJournalMode(
  conn: Connection,
  path: string,
  options: ConnectionOptions = {},
): Promise<string> {
  const current = await retryBusy(() => pragmaText(conn, 'journal_mode'), busyTimeout(options), path);
  if (options.wal === false || current === 'wal' || current === 'memory') return current;
  // A file system without shared memory answers with the mode it kept (the rollback journal).
  try {
    return await retryBusy(() => pragmaText(conn, 'journal_mode = WAL'), busyTimeout(options), path);
  } catch (error) {
    // A file this process may only read keeps its mode: reading it needs no switch.
    if (isKanbanError(error, 'READ_ONLY')) return current;
    throw error;
  }
}

/** A pragma's single value as lower-case text. Not cached: some pragmas act when prepared. */
export function pragmaText(conn: Connection, pragma: string): string {
  const row = conn.prepare(`PRAGMA ${pragma}`).raw().get();
  return Array.isArray(row) ? String(row[0] ?? '').toLowerCase() : '';
}

/** The rows of a query as arrays of column values, for the few places that read the file's own catalogue. */
export function rawRows(conn: Connection, sql: string, ...params: unknown[]): unknown[][] {
  return conn
    .prepare(sql)
    .raw()
    .all(...params)
    .filter((row): row is unknown[] => Array.isArray(row));
}
