import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KanbanError } from '../../errors';

/** A database file as this package addresses it: `key` is the same for every spelling of one file. */
export interface DatabaseFile {
  /** The absolute path, symlinks resolved: one key per file, however it was spelled. */
  readonly key: string;
}

/** Accepts a path (relative, absolute, through symlinks) or a `file:` URL and returns the file's absolute path. */
export function targetToPath(target: string): string {
  if (!target.startsWith('file:')) return resolve(target);
  const withoutQuery = target.replace(/[?#].*$/, '');
  if (withoutQuery.startsWith('file://')) return fileURLToPath(withoutQuery);
  return resolve(decodeURIComponent(withoutQuery.slice('file:'.length)));
}

/**
 * Checks that `path` can hold a database (its folder exists, it is not a directory) and returns
 * its key. This touches the file system; callers memoise it per spelling.
 */
export function locateDatabaseFile(path: string): DatabaseFile {
  const folder = dirname(path);
  const folderStat = statSync(folder, { throwIfNoEntry: false });
  if (!folderStat?.isDirectory()) {
    throw new KanbanError(
      'FOLDER_MISSING',
      `The folder ${folder} does not exist; create it first (the database file is created on first use)`,
    );
  }
  const fileStat = statSync(path, { throwIfNoEntry: false });
  if (fileStat?.isDirectory()) {
    throw new KanbanError(
      'NOT_A_FILE',
      `${path} is a directory, not a database file; name a file inside it, such as ${join(path, 'kanban.db')}`,
    );
  }
  const key = fileStat ? realpathSync(path) : join(realpathSync(folder), basename(path));
  return { key };
}
