/**
 * Where boards live on disk, as the original's hermes_cli/kanban_db.py places them: the default board's database is
 * `<home>/kanban.db`, other boards' are `<home>/kanban/boards/<slug>/kanban.db` with a `board.json`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { KanbanError } from './errors';

export const DEFAULT_BOARD = 'default';

/** Why a folder for boards cannot be made, by the system's error code. */
const FOLDER_PROBLEMS: Readonly<Record<string, string>> = {
  EEXIST: 'a file, not a folder, stands in its way',
  ENOTDIR: 'a file, not a folder, stands in its way',
  EACCES: 'this user may not create it',
  EPERM: 'this user may not create it',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
};

/** Creates a folder (and its parents) for boards; `HOME_UNUSABLE` naming the folder and the reason when it cannot. */
export function makeFolder(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    const why = FOLDER_PROBLEMS[code];
    if (!why) throw error;
    throw new KanbanError(
      'HOME_UNUSABLE',
      `Cannot create the folder ${folder}: ${why}. Choose another home (--home or KANBAN_HOME) or fix that path`,
      { cause: error },
    );
  }
}
/** Our default home when neither KANBAN_HOME nor HERMES_KANBAN_HOME is set. */
export const DEFAULT_HOME_DIRNAME = '.kanban';
const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface BoardMeta {
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  readonly icon: string;
  readonly color: string;
  readonly archived: boolean;
  readonly createdAt: number | null;
  readonly dbPath: string;
}

export type BoardMetaInput = Partial<Pick<BoardMeta, 'name' | 'description' | 'icon' | 'color'>>;

const env = (...names: string[]) => names.map((n) => process.env[n]?.trim()).find((v) => v);

/** `home` if given, else KANBAN_HOME, else HERMES_KANBAN_HOME, else `~/.kanban`. */
export function resolveHome(home?: string): string {
  return resolve(home ?? env('KANBAN_HOME', 'HERMES_KANBAN_HOME') ?? join(homedir(), DEFAULT_HOME_DIRNAME));
}

/** Trimmed and lower-cased; empty means `default`; anything else outside the slug rule is refused. */
export function normalizeSlug(slug: string | undefined | null): string {
  const normed = (slug ?? '').trim().toLowerCase();
  if (normed === '') return DEFAULT_BOARD;
  if (!SLUG.test(normed)) {
    throw new KanbanError(
      'INVALID_BOARD',
      `Invalid board name ${JSON.stringify(slug)}: use 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit`,
    );
  }
  return normed;
}

const boardsRoot = (home: string) => join(home, 'kanban', 'boards');
const boardDir = (home: string, slug: string) => join(boardsRoot(home), slug);

export function boardDbPath(home: string, slug: string): string {
  return slug === DEFAULT_BOARD ? join(home, 'kanban.db') : join(boardDir(home, slug), 'kanban.db');
}

export function boardExists(home: string, slug: string): boolean {
  const dir = boardDir(home, slug);
  return slug === DEFAULT_BOARD || existsSync(join(dir, 'board.json')) || existsSync(join(dir, 'kanban.db'));
}

/** KANBAN_BOARD, else the slug in `<home>/kanban/current` if that board exists, else `default`. */
export function currentBoard(home: string): string {
  const fromEnv = env('KANBAN_BOARD', 'HERMES_KANBAN_BOARD');
  if (fromEnv) return normalizeSlug(fromEnv);
  const written = currentBoardFile(home);
  if (written === undefined) return DEFAULT_BOARD;
  try {
    const slug = normalizeSlug(written);
    return boardExists(home, slug) ? slug : DEFAULT_BOARD;
  } catch {
    // A hand-edited file with a bad slug must not stop the gateway; it falls back to the default board.
    return DEFAULT_BOARD;
  }
}

export function setCurrentBoard(home: string, rawSlug: string): string {
  const slug = normalizeSlug(rawSlug);
  if (!boardExists(home, slug))
    throw new KanbanError('BOARD_NOT_FOUND', `No board ${slug}; create it with \`kanban boards create ${slug}\``);
  makeFolder(join(home, 'kanban'));
  writeFileSync(join(home, 'kanban', 'current'), `${slug}\n`);
  return slug;
}

/** The database file for these options: an explicit file wins, then KANBAN_DB, then the board's file. */
export function resolveDbPath(options: { home?: string; board?: string; dbPath?: string }): {
  path: string;
  board: string | undefined;
  home: string;
} {
  const home = resolveHome(options.home);
  const explicit = options.dbPath ?? env('KANBAN_DB', 'HERMES_KANBAN_DB');
  if (explicit) return { path: resolve(explicit), board: undefined, home };
  const board = options.board === undefined ? currentBoard(home) : normalizeSlug(options.board);
  return { path: boardDbPath(home, board), board, home };
}

/** `board.json` as an object, whatever keys it has; empty when it is missing or not an object. */
function rawMeta(home: string, slug: string): Record<string, unknown> {
  try {
    const raw: unknown = JSON.parse(readFileSync(join(boardDir(home, slug), 'board.json'), 'utf8'));
    return typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw))
      : {};
  } catch {
    return {};
  }
}

export function readBoardMeta(home: string, slug: string): BoardMeta {
  const defaults: BoardMeta = {
    slug,
    name:
      slug
        .split(/[-_]/)
        .filter(Boolean)
        .map((w) => w[0]?.toUpperCase() + w.slice(1))
        .join(' ') || slug,
    description: '',
    icon: '',
    color: '',
    archived: false,
    createdAt: null,
    dbPath: boardDbPath(home, slug),
  };
  const raw = rawMeta(home, slug);
  const str = (key: string, fallback: string) => (typeof raw[key] === 'string' ? String(raw[key]) : fallback);
  return {
    ...defaults,
    name: str('name', defaults.name),
    description: str('description', ''),
    icon: str('icon', ''),
    color: str('color', ''),
    archived: raw.archived === true,
    createdAt: typeof raw.created_at === 'number' ? raw.created_at : null,
  };
}

/** Creates the board's folder and `board.json` (idempotent: an existing board keeps what it has unless told). */
export function writeBoardMeta(home: string, rawSlug: string, input: BoardMetaInput, now: number): BoardMeta {
  const slug = normalizeSlug(rawSlug);
  const current = readBoardMeta(home, slug);
  const next = { ...current, ...definedOnly(input), createdAt: current.createdAt ?? now };
  makeFolder(boardDir(home, slug));
  const { name, description, icon, color, archived, createdAt } = next;
  // Keys the original writes that we do not read (default_workdir, project_id, …) are kept as they are.
  const kept = { ...rawMeta(home, slug), slug, name, description, icon, color, archived, created_at: createdAt };
  writeFileSync(join(boardDir(home, slug), 'board.json'), `${JSON.stringify(kept, null, 2)}\n`);
  return next;
}

function definedOnly(input: BoardMetaInput): BoardMetaInput {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}

/** `default` first, then every board folder holding a database or `board.json`, by name. */
export function listBoards(home: string, options: { includeArchived?: boolean } = {}): BoardMeta[] {
  const root = boardsRoot(home);
  const slugs = existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && SLUG.test(d.name))
        .map((d) => d.name)
    : [];
  return [DEFAULT_BOARD, ...slugs.filter((s) => s !== DEFAULT_BOARD && boardExists(home, s)).sort()]
    .map((slug) => readBoardMeta(home, slug))
    .filter((meta) => options.includeArchived !== false || !meta.archived);
}

/** Archives a board's folder under `_archived/<slug>-<time>` (or deletes it); `default` cannot be removed. */
export function removeBoard(
  home: string,
  rawSlug: string,
  options: { delete?: boolean; now: number },
): { slug: string; action: 'archived' | 'deleted'; newPath?: string } {
  const slug = normalizeSlug(rawSlug);
  if (slug === DEFAULT_BOARD) throw new KanbanError('INVALID_BOARD', 'The default board cannot be removed');
  if (!boardExists(home, slug)) throw new KanbanError('BOARD_NOT_FOUND', `No board ${slug}`);
  if (currentBoardFile(home) === slug) rmSync(join(home, 'kanban', 'current'), { force: true });
  if (options.delete) {
    rmSync(boardDir(home, slug), { recursive: true, force: true });
    return { slug, action: 'deleted' };
  }
  const archiveRoot = join(boardsRoot(home), '_archived');
  makeFolder(archiveRoot);
  let target = join(archiveRoot, `${slug}-${options.now}`);
  for (let n = 1; existsSync(target); n++) target = join(archiveRoot, `${slug}-${options.now}-${n}`);
  renameSync(boardDir(home, slug), target);
  return { slug, action: 'archived', newPath: target };
}

/** The slug written in `<home>/kanban/current`, as written (a BOM from other editors dropped). */
function currentBoardFile(home: string): string | undefined {
  const file = join(home, 'kanban', 'current');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .replace(/^\uFEFF/, '')
        .trim()
    : undefined;
}
