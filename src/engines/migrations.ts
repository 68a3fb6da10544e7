import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMigrationFiles, type MigrationMeta } from 'drizzle-orm/migrator';
import { KanbanError } from '../errors';

/** The folder drizzle-kit generates SQLite's migrations into; it ships with the package, beside `dist/`. */
export const MIGRATIONS_FOLDER = join(__dirname, '..', '..', 'drizzle');
/** PostgreSQL's, generated from its own schema (`drizzle-pg.config.ts`). */
export const PG_MIGRATIONS_FOLDER = join(__dirname, '..', '..', 'drizzle-pg');

/** drizzle's ledger table; keeping its name and shape lets drizzle-kit see the same state we do. */
export const LEDGER_TABLE = '__drizzle_migrations';

export interface KnownMigration extends MigrationMeta {
  readonly tag: string;
}

/** A row of the ledger: which migration (by its folder time) was applied, and its hash then. */
export interface LedgerRow {
  readonly hash: string;
  readonly createdAt: number;
}

interface Journal {
  entries: { tag: string; when: number }[];
}

const known = new Map<string, readonly KnownMigration[]>();

/** The migrations of a folder (SQLite's by default), oldest first; read from disk once per process. */
export function knownMigrations(folder = MIGRATIONS_FOLDER): readonly KnownMigration[] {
  let migrations = known.get(folder);
  if (migrations) return migrations;
  const journal: Journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8'));
  migrations = readMigrationFiles({ migrationsFolder: folder }).map((meta, i) => ({
    ...meta,
    tag: journal.entries[i]?.tag ?? String(meta.folderMillis),
  }));
  known.set(folder, migrations);
  return migrations;
}

/**
 * The migrations a database still needs, after checking its ledger against the ones this code
 * knows: a migration it does not know is `SCHEMA_TOO_NEW`, one whose file changed since it was
 * applied is `MIGRATION_MODIFIED`. The same rule on both engines; `where` names the database.
 */
export function pendingMigrations(
  ledger: readonly LedgerRow[],
  migrations: readonly KnownMigration[],
  where: string,
): KnownMigration[] {
  for (const row of ledger) {
    const migration = migrations.find((m) => m.folderMillis === row.createdAt);
    if (!migration) {
      throw new KanbanError(
        'SCHEMA_TOO_NEW',
        `${where} holds a migration from ${new Date(row.createdAt).toISOString()} that this version of kanban-db does not know; upgrade kanban-db to open it`,
      );
    }
    if (migration.hash !== row.hash) {
      throw new KanbanError(
        'MIGRATION_MODIFIED',
        `Migration ${migration.tag} was changed after ${where} applied it; restore its file, and add a new migration instead of editing an applied one`,
      );
    }
  }
  const applied = new Set(ledger.map((row) => row.createdAt));
  return migrations.filter((m) => !applied.has(m.folderMillis));
}
