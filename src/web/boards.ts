/**
 * The boards a `kanban serve` shows: a home's board folders, a server's board schemas, or one
 * file. Each board is opened on first use and kept open; boards can be made, renamed and removed
 * where there are boards to manage (a home or a server), as `kanban boards` does.
 */
import {
  boardExists,
  type BoardMeta,
  type BoardMetaInput,
  listBoards,
  normalizeSlug,
  removeBoard,
  writeBoardMeta,
} from '../boards';
import { epochSeconds } from '../clock';
import { listServerBoards, removeServerBoard, serverBoardExists, writeServerBoard } from '../engines/postgres/boards';
import { KanbanError } from '../errors';
import type { Kanban } from '../kanban';
import type { BoardEntry } from './wire';

export interface Boards {
  /** The board's handle, opened once; `BOARD_NOT_FOUND` for a slug with no board. */
  open(slug: string): Promise<Kanban>;
  list(): Promise<BoardEntry[]>;
  /** Makes a board; `INVALID_BOARD` when one of that slug exists (or boards cannot be made here). */
  create(slug: string, name?: string): Promise<BoardEntry>;
  rename(slug: string, name: string): Promise<BoardEntry>;
  /** Archives a board (never `default`); its handle is closed. */
  remove(slug: string): Promise<void>;
  close(): void;
}

/**
 * A board opened on first use and kept open; a failed open is forgotten, so the next request
 * tries again (a file repaired meanwhile is served) and closing never meets a rejected promise.
 */
export function openedOnce(open: () => Promise<Kanban>): { get(): Promise<Kanban>; close(): void } {
  let kb: Promise<Kanban> | undefined;
  return {
    get() {
      kb ??= open().catch((error: unknown) => {
        kb = undefined;
        throw error;
      });
      return kb;
    },
    close: () =>
      void kb?.then(
        (k) => k.close(),
        () => undefined,
      ),
  };
}

/** Where boards live: a home's folders or a server's schemas. */
interface Directory {
  list(): Promise<BoardMeta[]>;
  exists(slug: string): Promise<boolean>;
  write(slug: string, input: BoardMetaInput): Promise<BoardMeta>;
  remove(slug: string): Promise<unknown>;
}

const entry = (meta: BoardMeta): BoardEntry => ({ slug: meta.slug, name: meta.name });

function managed(where: string, directory: Directory, open: (slug: string) => Promise<Kanban>): Boards {
  const opened = new Map<string, ReturnType<typeof openedOnce>>();
  const missing = (slug: string) =>
    new KanbanError('BOARD_NOT_FOUND', `No board ${slug} ${where}; \`kanban boards list\` shows the boards`);
  return {
    async open(raw) {
      const slug = normalizeSlug(raw);
      if (!(await directory.exists(slug))) throw missing(slug);
      let board = opened.get(slug);
      if (!board) {
        board = openedOnce(() => open(slug));
        opened.set(slug, board);
      }
      return board.get();
    },
    list: async () => (await directory.list()).map(entry),
    async create(raw, name) {
      const slug = normalizeSlug(raw);
      if (await directory.exists(slug))
        throw new KanbanError('INVALID_BOARD', `A board ${slug} exists already ${where}`);
      return entry(await directory.write(slug, { name: name || slug }));
    },
    async rename(raw, name) {
      const slug = normalizeSlug(raw);
      if (!(await directory.exists(slug))) throw missing(slug);
      return entry(await directory.write(slug, { name }));
    },
    async remove(raw) {
      const slug = normalizeSlug(raw);
      opened.get(slug)?.close();
      opened.delete(slug);
      await directory.remove(slug);
    },
    close() {
      for (const board of opened.values()) board.close();
    },
  };
}

/** The boards under a home. */
export function homeBoards(home: string, open: (slug: string) => Promise<Kanban>): Boards {
  return managed(
    `under ${home}`,
    {
      list: async () => listBoards(home, { includeArchived: false }),
      exists: async (slug) => boardExists(home, slug),
      write: async (slug, input) => writeBoardMeta(home, slug, input, epochSeconds()),
      remove: async (slug) => removeBoard(home, slug, { now: epochSeconds() }),
    },
    open,
  );
}

/**
 * The boards on a server. Asking the server whether a board exists takes a connection of its own,
 * so a board seen once is known until this server removes it: every request of a page does not
 * ask again (a board removed by another process is then refused by the server's own errors).
 */
export function serverBoards(url: string, where: string, open: (slug: string) => Promise<Kanban>): Boards {
  const known = new Set<string>();
  return managed(
    `on ${where}`,
    {
      list: () => listServerBoards(url),
      exists: async (slug) => {
        if (!known.has(slug) && (await serverBoardExists(url, slug))) known.add(slug);
        return known.has(slug);
      },
      write: async (slug, input) => {
        const meta = await writeServerBoard(url, slug, input, epochSeconds());
        known.add(slug);
        return meta;
      },
      remove: (slug) => {
        known.delete(slug);
        return removeServerBoard(url, slug, { now: epochSeconds() });
      },
    },
    open,
  );
}

/** One board file, shown under one slug; no board can be made or removed beside it. */
export function oneBoard(slug: string, name: string, open: () => Promise<Kanban>): Boards {
  const board = openedOnce(open);
  const single = () =>
    Promise.reject(
      new KanbanError(
        'INVALID_BOARD',
        `This server shows one board file, "${name}"; serve a home or a PostgreSQL server to manage boards`,
      ),
    );
  return {
    open(asked) {
      if (asked !== slug)
        return Promise.reject(
          new KanbanError('BOARD_NOT_FOUND', `This server shows one board, "${slug}"; there is no board ${asked}`),
        );
      return board.get();
    },
    list: async () => [{ slug, name }],
    create: single,
    rename: single,
    remove: single,
    close: board.close,
  };
}
