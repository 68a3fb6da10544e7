import { Mutex } from 'async-mutex';
import { locateDatabaseFile, targetToPath, type DatabaseFile } from './target';
import type { MigrationReport } from './migrate';

/**
 * Per-process state of one database file, shared by every spelling of it and every client on it.
 * `lock` serialises this process's writers: libSQL's calls are synchronous, so two connections of
 * one process contending in SQLite would block the event loop for the whole busy timeout.
 */
export interface FileEntry {
  readonly file: DatabaseFile;
  readonly lock: Mutex;
  migrated?: MigrationReport;
}

const bySpelling = new Map<string, FileEntry>();
const byKey = new Map<string, FileEntry>();

/** The entry for a path or `file:` URL; file-system checks run once per spelling. */
export function fileEntry(target: string): FileEntry {
  const absolute = targetToPath(target);
  const known = bySpelling.get(absolute);
  if (known) return known;
  const file = locateDatabaseFile(absolute);
  let entry = byKey.get(file.key);
  if (!entry) {
    entry = { file, lock: new Mutex() };
    byKey.set(file.key, entry);
  }
  bySpelling.set(absolute, entry);
  return entry;
}

/**
 * Forgets what this process knows about a file, so the next `ensureMigrated` checks it again.
 * For a file removed or replaced behind this process's back (a board deleted and re-created).
 */
export function forgetFile(target: string): void {
  const absolute = targetToPath(target);
  const entry = bySpelling.get(absolute);
  if (entry) entry.migrated = undefined;
}
