import type { Client, Transaction } from '@libsql/client';
import { epochSeconds } from '../clock';
import { classifyDatabaseError, KanbanError } from '../errors';
import { adoptExistingFile, holdsKanbanTables, type AdoptionReport } from './adopt';
import { ensureJournalMode, openClient, type ConnectionOptions } from './connect';
import { quote } from './ddl';
import { knownMigrations, LEDGER_TABLE, type KnownMigration } from './migrations';
import { fileEntry, type FileEntry } from './registry';

export interface MigrationReport {
  /** The database file, absolute, symlinks resolved. */
  readonly path: string;
  /** Tags of the migrations this call applied (or recorded, on adoption); empty when the file was current. */
  readonly applied: readonly string[];
  /** True when the file was written by the original program and brought to this schema. */
  readonly adopted: boolean;
  readonly adoption?: AdoptionReport;
  /** The newest migration the file now holds. */
  readonly schemaVersion: string;
  readonly journalMode: string;
}

export interface EnsureMigratedOptions extends ConnectionOptions {
  /** Epoch seconds, for rows that adoption synthesises. */
  readonly now?: () => number;
}

type Executor = Client | Transaction;
interface LedgerRow {
  readonly hash: string;
  readonly createdAt: number;
}

/**
 * Brings a board file to the current schema, once per file per process however many callers
 * arrive together: a per-file mutex guards the memoised report, and a failed attempt is not
 * remembered. Across processes the migration is one write transaction that reads the ledger again
 * after taking the lock, so the loser of a boot race finds the work done and applies nothing.
 */
export async function ensureMigrated(target: string, options: EnsureMigratedOptions = {}): Promise<MigrationReport> {
  return migrateOnce(fileEntry(target), options);
}

/** `ensureMigrated` for a caller that already has a client on the file, which the migration then uses (`openKanban`). */
export async function migrateOnce(entry: FileEntry, options: EnsureMigratedOptions, client?: Client): Promise<MigrationReport> {
  if (entry.migrated) return entry.migrated;
  return entry.lock.runExclusive(async () => (entry.migrated ??= await migrateFile(entry, options, client)));
}

async function migrateFile({ file }: FileEntry, options: EnsureMigratedOptions, shared?: Client): Promise<MigrationReport> {
  let client: Client | undefined;
  try {
    client = shared ?? openClient(file.url, options);
    const journalMode = await ensureJournalMode(client, options);
    const report = { path: file.key, journalMode, schemaVersion: latestTag() };
    // Fast path: a current ledger needs no write lock, so booting on a current file never waits.
    if (pending(await readLedger(client, file.key)).length === 0) return { ...report, applied: [], adopted: false };
    const tx = await client.transaction('write');
    try {
      const outcome = await migrateLocked(tx, file.key, options.now ?? epochSeconds);
      await tx.commit();
      return { ...report, ...outcome };
    } finally {
      tx.close();
    }
  } catch (error) {
    throw classifyDatabaseError(error, file.key);
  } finally {
    if (!shared) client?.close();
  }
}

async function migrateLocked(tx: Transaction, path: string, now: () => number) {
  const ledger = await readLedger(tx, path);
  const todo = pending(ledger);
  if (todo.length === 0) return { applied: [], adopted: false };
  await tx.execute(`CREATE TABLE IF NOT EXISTS ${quote(LEDGER_TABLE)} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`);
  if (ledger.length === 0 && (await holdsKanbanTables(tx))) {
    // The schema is derived from the Drizzle tables, which are what every migration adds up to.
    const adoption = await adoptExistingFile(tx, now());
    await record(tx, todo);
    return { applied: todo.map((m) => m.tag), adopted: true, adoption };
  }
  for (const migration of todo) {
    for (const statement of migration.sql) if (statement.trim()) await tx.execute(statement);
  }
  await record(tx, todo);
  return { applied: todo.map((m) => m.tag), adopted: false };
}

async function record(tx: Transaction, migrations: readonly KnownMigration[]): Promise<void> {
  for (const m of migrations) {
    await tx.execute({ sql: `INSERT INTO ${quote(LEDGER_TABLE)} (hash, created_at) VALUES (?, ?)`, args: [m.hash, m.folderMillis] });
  }
}

/** The ledger, checked against the migrations this code knows. */
async function readLedger(db: Executor, path: string): Promise<LedgerRow[]> {
  const exists = await db.execute({ sql: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", args: [LEDGER_TABLE] });
  if (exists.rows.length === 0) return [];
  const { rows } = await db.execute(`SELECT hash, created_at FROM ${quote(LEDGER_TABLE)} ORDER BY created_at`);
  const ledger = rows.map((row) => ({ hash: String(row[0]), createdAt: Number(row[1]) }));
  checkLedger(ledger, path);
  return ledger;
}

function checkLedger(ledger: readonly LedgerRow[], path: string): void {
  const known = knownMigrations();
  for (const row of ledger) {
    const migration = known.find((m) => m.folderMillis === row.createdAt);
    if (!migration) {
      throw new KanbanError(
        'SCHEMA_TOO_NEW',
        `${path} holds a migration from ${new Date(row.createdAt).toISOString()} that this version of kanban-db does not know; upgrade kanban-db to open it`,
      );
    }
    if (migration.hash !== row.hash) {
      throw new KanbanError(
        'MIGRATION_MODIFIED',
        `Migration ${migration.tag} was changed after ${path} applied it; restore drizzle/${migration.tag}.sql, and add a new migration instead of editing an applied one`,
      );
    }
  }
}

function pending(ledger: readonly LedgerRow[]): KnownMigration[] {
  const applied = new Set(ledger.map((row) => row.createdAt));
  return knownMigrations().filter((m) => !applied.has(m.folderMillis));
}

function latestTag(): string {
  return knownMigrations().at(-1)?.tag ?? 'none';
}
