import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMigrationFiles, type MigrationMeta } from 'drizzle-orm/migrator';

/** The folder drizzle-kit generates into; it ships with the package, beside `dist/`. */
export const MIGRATIONS_FOLDER = join(__dirname, '..', '..', 'drizzle');

/** drizzle's ledger table; keeping its name and shape lets drizzle-kit see the same state we do. */
export const LEDGER_TABLE = '__drizzle_migrations';

export interface KnownMigration extends MigrationMeta {
  readonly tag: string;
}

interface Journal {
  entries: { tag: string; when: number }[];
}

let known: readonly KnownMigration[] | undefined;

/** The migrations this code knows, oldest first; read from disk once per process. */
export function knownMigrations(): readonly KnownMigration[] {
  if (known) return known;
  const journal: Journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'));
  known = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).map((meta, i) => ({
    ...meta,
    tag: journal.entries[i]?.tag ?? String(meta.folderMillis),
  }));
  return known;
}
