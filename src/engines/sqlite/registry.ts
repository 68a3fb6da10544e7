import { Mutex } from 'async-mutex';
import { openConnection, type ConnectionOptions } from './connect';
import { createEngine, type Engine } from './engine';
import { locateDatabaseFile, targetToPath, type DatabaseFile } from './target';

/**
 * Per-process state of one database file, shared by every spelling of it: its one engine
 * (connection), counted by its users, and the lock that guards the boot step's memo.
 */
export interface FileEntry {
  readonly file: DatabaseFile;
  readonly lock: Mutex;
}

interface Shared {
  readonly engine: Engine;
  users: number;
}

const bySpelling = new Map<string, FileEntry>();
const byKey = new Map<string, FileEntry>();
const engines = new Map<FileEntry, Shared>();

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

/** The file's engine, opened on first use; every call must be paired with one `release`. */
export function acquireEngine(entry: FileEntry, options: ConnectionOptions = {}): Engine {
  let shared = engines.get(entry);
  if (!shared) {
    shared = { engine: createEngine(openConnection(entry.file.key, options), entry.file.key), users: 0 };
    engines.set(entry, shared);
  }
  shared.users++;
  return shared.engine;
}

/** Gives back one use of the engine; the last one closes the connection. */
export function releaseEngine(entry: FileEntry, engine: Engine): void {
  const shared = engines.get(entry);
  if (shared?.engine !== engine) return;
  if (--shared.users > 0) return;
  engines.delete(entry);
  engine.conn.close();
}
