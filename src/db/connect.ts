import { createClient, type Client } from '@libsql/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { sqliteCode } from '../errors';

/**
 * How long a connection waits for another process's lock before giving up. Boot storms of several
 * processes queue on the write lock for a few milliseconds each; ten seconds leaves room for a slow
 * disk without hanging forever.
 */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

export interface ConnectionOptions {
  /** Busy timeout set on every pooled connection (`createClient({ timeout })`). */
  readonly busyTimeoutMs?: number;
  /**
   * Switch the file to write-ahead logging (the default): readers never wait for the writer, which
   * the dispatcher, the notifier and workers all need. `false` leaves the journal mode as the file
   * has it (the rollback journal for a new file).
   */
  readonly wal?: boolean;
}

/** Opens a client on a `file:` URL (or a libSQL server URL) with the busy timeout on every connection. */
export function openClient(url: string, options: ConnectionOptions = {}): Client {
  return createClient({ url, timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
}

/**
 * Puts the file in WAL mode where the file system allows it, and returns the journal mode in force.
 * Switching needs an exclusive lock and SQLite does not wait for it through the busy handler, so
 * several processes opening a fresh file at once can get SQLITE_BUSY at once: retry until the
 * busy timeout. The mode is stored in the file, so later opens find it set and only read it.
 */
export async function ensureJournalMode(client: Client, options: ConnectionOptions = {}): Promise<string> {
  const current = await journalMode(client, 'PRAGMA journal_mode');
  if (options.wal === false || current === 'wal' || current === 'memory') return current;
  const deadline = Date.now() + (options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  for (;;) {
    try {
      // A file system without shared memory answers with the mode it kept (the rollback journal).
      return await journalMode(client, 'PRAGMA journal_mode = WAL');
    } catch (error) {
      if (sqliteCode(error) !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      await sleep(5 + Math.random() * 20);
    }
  }
}

async function journalMode(client: Client, pragma: string): Promise<string> {
  const { rows } = await client.execute(pragma);
  return String(rows[0]?.[0] ?? '').toLowerCase();
}
