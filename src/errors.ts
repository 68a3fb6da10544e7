/**
 * One error class for everything this package refuses. `code` is the stable, documented part;
 * the message is for people. Database failures keep the driver error as `cause`.
 */
export const KANBAN_ERROR_CODES = [
  // opening and migrating a file
  'NOT_A_DATABASE',
  'NOT_A_FILE',
  'FOLDER_MISSING',
  'READ_ONLY',
  'BUSY',
  'CORRUPT',
  'DISK_FULL',
  'CANNOT_OPEN',
  'IO_ERROR',
  'SCHEMA_TOO_NEW',
  'MIGRATION_MODIFIED',
  'UNRECOGNISED_SCHEMA',
  // a server engine
  'CONNECTION_LOST',
  // kanban copy
  'TARGET_NOT_EMPTY',
  // boards and the repository
  'HOME_UNUSABLE',
  'INVALID_BOARD',
  'BOARD_NOT_FOUND',
  'INVALID_INPUT',
  'NOT_FOUND',
  'CYCLE',
  'INVALID_TRANSITION',
  'STALE_RUN',
  'REFERENCED',
  'CLOSED',
  // kanban serve
  'TOKEN_REQUIRED',
] as const;

export type KanbanErrorCode = (typeof KANBAN_ERROR_CODES)[number];

export class KanbanError extends Error {
  override readonly name = 'KanbanError';
  readonly code: KanbanErrorCode;

  constructor(code: KanbanErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isKanbanError(error: unknown, code?: KanbanErrorCode): error is KanbanError {
  return error instanceof KanbanError && (code === undefined || error.code === code);
}

/**
 * The SQLite result code of a failure, found by walking the `cause` chain: drizzle wraps the
 * driver's error (`DrizzleQueryError`), and libSQL reports codes such as `SQLITE_BUSY` or the
 * extended `SQLITE_CONSTRAINT_PRIMARYKEY` on `code` / `extendedCode`. Returns the primary code.
 */
export function sqliteCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    // libsql names only the codes it knows (an extended code such as 1544 comes as UNKNOWN_SQLITE_ERROR_1544),
    // so the number decides when there is one: its low byte is the primary code.
    const raw = 'rawCode' in current ? current.rawCode : undefined;
    const named = typeof raw === 'number' ? PRIMARY_CODES[raw & 0xff] : undefined;
    if (named) return named;
    const code = 'code' in current ? current.code : undefined;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return primaryCode(code);
  }
  return undefined;
}

/** SQLite's extended code for a read-only folder where a WAL file needs its `-shm` created. */
const SQLITE_READONLY_DIRECTORY = 1544;

function rawCodeOf(error: unknown): number | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ('rawCode' in current && typeof current.rawCode === 'number') return current.rawCode;
  }
  return undefined;
}

/** SQLite's primary result codes that `classifyDatabaseError` acts on, by number. */
const PRIMARY_CODES: Readonly<Record<number, string>> = {
  3: 'SQLITE_PERM',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  19: 'SQLITE_CONSTRAINT',
  26: 'SQLITE_NOTADB',
};

function primaryCode(code: string): string {
  const second = code.indexOf('_', 'SQLITE_'.length);
  return second === -1 ? code : code.slice(0, second);
}

/** Turns the SQLite failures a person can act on into a `KanbanError`; anything else is returned as is. */
export function classifyDatabaseError(error: unknown, path: string): unknown {
  if (error instanceof KanbanError) return error;
  switch (sqliteCode(error)) {
    case 'SQLITE_NOTADB':
      return new KanbanError(
        'NOT_A_DATABASE',
        `${path} is not an SQLite database; move it aside or point to another file`,
        {
          cause: error,
        },
      );
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
      if (rawCodeOf(error) === SQLITE_READONLY_DIRECTORY) {
        return new KanbanError(
          'READ_ONLY',
          `${path} uses write-ahead logging and its folder cannot be written: SQLite must create ${path}-shm beside it even to read it. Make the folder writable for this user`,
          {
            cause: error,
          },
        );
      }
      return new KanbanError(
        'READ_ONLY',
        `${path} cannot be written; check the permissions of the file and its folder`,
        {
          cause: error,
        },
      );
    case 'SQLITE_CORRUPT':
      return new KanbanError(
        'CORRUPT',
        `${path} is damaged (SQLite reports corruption); nothing was written. Restore it from a backup, or try \`sqlite3 ${path} .recover\` on a copy`,
        {
          cause: error,
        },
      );
    case 'SQLITE_FULL':
      return new KanbanError(
        'DISK_FULL',
        `${path} could not grow: the disk or the file-size limit is full; nothing was written. Free space and retry`,
        {
          cause: error,
        },
      );
    case 'SQLITE_IOERR':
      return new KanbanError(
        'IO_ERROR',
        `${path} could not be read or written (a disk error, or a file-size limit such as ulimit -f); nothing was written. Check the disk and the limits, then retry`,
        {
          cause: error,
        },
      );
    case 'SQLITE_CANTOPEN':
      return new KanbanError(
        'CANNOT_OPEN',
        `${path} cannot be opened; check that its folder exists and that you may read and write it`,
        {
          cause: error,
        },
      );
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new KanbanError(
        'BUSY',
        `${path} stayed locked by another connection past the busy timeout; retry, or wait longer (busyTimeoutMs in the library, --busy-timeout on the command line)`,
        {
          cause: error,
        },
      );
    default:
      return error;
  }
}
