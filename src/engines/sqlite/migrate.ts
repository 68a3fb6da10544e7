import { epochSeconds } from '../../clock';
import {
  adoptExistingFile,
  fillAddedColumns,
  holdsKanbanTables,
  keepLegacyCountersInStep,
  type AdoptionReport,
} from './adopt';
import { applyMissing, schemaObjects } from './catalog';
import { ensureJournalMode, rawRows, type Connection, type ConnectionOptions } from './connect';
import { quote } from './ddl';
import type { Engine } from './engine';
import { knownMigrations, LEDGER_TABLE, type KnownMigration, type LedgerRow, pendingMigrations } from '../migrations';
import { acquireEngine, fileEntry, releaseEngine, type FileEntry } from './registry';

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

type Outcome = Pick<MigrationReport, 'applied' | 'adopted' | 'adoption'>;

/** The memo of each file's boot step in this process. */
const reports = new WeakMap<FileEntry, MigrationReport>();

/**
 * Brings a board file to the current schema, once per file per process however many callers
 * arrive together: a per-file mutex guards the memoised report, and a failed attempt is not
 * remembered. Across processes the migration is one write transaction that reads the ledger again
 * after taking the lock, so the loser of a boot race finds the work done and applies nothing.
 */
export async function ensureMigrated(target: string, options: EnsureMigratedOptions = {}): Promise<MigrationReport> {
  const entry = fileEntry(target);
  const known = reports.get(entry);
  if (known) return known;
  const engine = acquireEngine(entry, options);
  try {
    return await migrateOnce(entry, engine, options);
  } finally {
    releaseEngine(entry, engine);
  }
}

/** `ensureMigrated` on an engine the caller already holds (`openKanban`). */
export async function migrateOnce(
  entry: FileEntry,
  engine: Engine,
  options: EnsureMigratedOptions,
): Promise<MigrationReport> {
  const known = reports.get(entry);
  if (known) return known;
  return entry.lock.runExclusive(async () => {
    const report = reports.get(entry) ?? (await migrateFile(engine, options));
    reports.set(entry, report);
    return report;
  });
}

/**
 * Forgets what this process knows about a file, so the next `ensureMigrated` checks it again.
 * For a file removed or replaced behind this process's back (a board deleted and re-created).
 */
export function forgetFile(target: string): void {
  reports.delete(fileEntry(target));
}

async function migrateFile(engine: Engine, options: EnsureMigratedOptions): Promise<MigrationReport> {
  const { conn, path } = engine;
  const journalMode = await ensureJournalMode(conn, path, options);
  const report = { path, journalMode, schemaVersion: latestTag() };
  // Fast path: a current ledger needs no write lock, so booting on a current file never waits.
  const current = await engine.read(() => pending(conn, path).length === 0, options);
  if (current) return { ...report, applied: [], adopted: false };
  const outcome = await engine.write(() => migrateLocked(conn, path, (options.now ?? epochSeconds)()), options);
  return { ...report, ...outcome };
}

function migrateLocked(conn: Connection, path: string, now: number): Outcome {
  const todo = pending(conn, path);
  if (todo.length === 0) return { applied: [], adopted: false };
  conn.exec(
    `CREATE TABLE IF NOT EXISTS ${quote(LEDGER_TABLE)} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
  );
  const applied = todo.map((m) => m.tag);
  // Every migration pending means no ledger: a new file, or one another program wrote.
  if (todo.length === knownMigrations().length && holdsKanbanTables(conn)) {
    // The schema is derived from the Drizzle tables, which are what every migration adds up to.
    const adoption = adoptExistingFile(conn, now);
    keepLegacyCountersInStep(conn);
    record(conn, todo);
    return { applied, adopted: true, adoption };
  }
  const present = schemaObjects(conn);
  const added = todo.flatMap((migration) => applyMissing(conn, migration.sql, present));
  fillAddedColumns(
    conn,
    added.map((key) => key.slice('column:'.length)),
    present,
  );
  keepLegacyCountersInStep(conn);
  record(conn, todo);
  return { applied, adopted: false };
}

function record(conn: Connection, migrations: readonly KnownMigration[]): void {
  const insert = conn.prepare(`INSERT INTO ${quote(LEDGER_TABLE)} (hash, created_at) VALUES (?, ?)`);
  for (const m of migrations) insert.run(m.hash, m.folderMillis);
}

/** The ledger as the file holds it; empty when it has none. */
function readLedger(conn: Connection): LedgerRow[] {
  if (rawRows(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", LEDGER_TABLE).length === 0)
    return [];
  const rows = rawRows(conn, `SELECT hash, created_at FROM ${quote(LEDGER_TABLE)} ORDER BY created_at`);
  return rows.map(([hash, createdAt]) => ({ hash: String(hash), createdAt: Number(createdAt) }));
}

const pending = (conn: Connection, path: string) => pendingMigrations(readLedger(conn), knownMigrations(), path);

function latestTag(): string {
  return knownMigrations().at(-1)?.tag ?? 'none';
}
