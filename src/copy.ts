/**
 * `kanban copy`: a board copied whole to another file or server, in either direction. Every row of
 * every table the schema declares keeps its ids (task, run, event and comment ids, so
 * notification cursors stay valid); the target's counters are set past the copied ids; the copy is
 * one transaction on the target, so a failure leaves nothing; a target that already holds tasks
 * is refused. Tables and columns of a file the schema does not know are left out, and named.
 */
import { getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { Client } from 'pg';
import * as file from './core/schema';
import { KANBAN_TABLES } from './engines/sqlite/ddl';
import * as server from './engines/postgres/schema';
import { classifyPgError, describeServer } from './engines/postgres/errors';
import { boardSchema, ensurePgMigrated, quoted } from './engines/postgres/migrate';
import { KanbanError } from './errors';
import { type FileKanban, isFileKanban, openKanban, type ServerKanban } from './kanban';

/** Every table of a board, as rows; the same shape on both engines (the parity test holds them equal). */
export interface BoardRows {
  tasks: (typeof file.tasks.$inferSelect)[];
  taskLinks: (typeof file.taskLinks.$inferSelect)[];
  taskComments: (typeof file.taskComments.$inferSelect)[];
  taskEvents: (typeof file.taskEvents.$inferSelect)[];
  taskRuns: (typeof file.taskRuns.$inferSelect)[];
  kanbanNotifySubs: (typeof file.kanbanNotifySubs.$inferSelect)[];
  taskAttachments: (typeof file.taskAttachments.$inferSelect)[];
  recipeInstances: (typeof file.recipeInstances.$inferSelect)[];
  recipeInstanceTasks: (typeof file.recipeInstanceTasks.$inferSelect)[];
}

export interface CopyReport {
  /** Rows copied per table, by SQL name. */
  readonly rows: Record<string, number>;
  /** Tables and columns of the source the schema does not know, left out. */
  readonly leftOut: string[];
  readonly from: string;
  readonly to: string;
}

/** Where a copy goes: a file, or a board on a server. */
export type CopyTarget = { readonly path: string } | { readonly url: string; readonly board: string };

/** The board's rows from a file, oldest first where rows have an order. */
function readFile(kb: FileKanban): BoardRows {
  const db = kb.db;
  return {
    tasks: db.select().from(file.tasks).orderBy(file.tasks.createdAt, file.tasks.id).all(),
    taskLinks: db.select().from(file.taskLinks).all(),
    taskComments: db.select().from(file.taskComments).orderBy(file.taskComments.id).all(),
    taskEvents: db.select().from(file.taskEvents).orderBy(file.taskEvents.id).all(),
    taskRuns: db.select().from(file.taskRuns).orderBy(file.taskRuns.id).all(),
    kanbanNotifySubs: db.select().from(file.kanbanNotifySubs).all(),
    taskAttachments: db.select().from(file.taskAttachments).orderBy(file.taskAttachments.id).all(),
    recipeInstances: db.select().from(file.recipeInstances).all(),
    recipeInstanceTasks: db.select().from(file.recipeInstanceTasks).all(),
  };
}

/** What a file holds that the schema does not declare: whole tables, and columns of known tables. */
function unknownToSchema(kb: FileKanban): string[] {
  const names = (query: SQL) => kb.db.all<{ name: string }>(query).map((row) => String(row.name));
  const tables = names(sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).filter(
    (name) => name !== '__drizzle_migrations',
  );
  const known = new Map(
    KANBAN_TABLES.map((t) => [getTableName(t), Object.values(getTableColumns(t)).map((c) => c.name)]),
  );
  return tables.flatMap((table) => {
    const columns = known.get(table);
    if (!columns) return [table];
    return names(sql`SELECT name FROM pragma_table_info(${table})`)
      .filter((name) => !columns.includes(name))
      .map((name) => `${table}.${name}`);
  });
}

async function readServer(db: NodePgDatabase): Promise<BoardRows> {
  return {
    tasks: await db.select().from(server.tasks).orderBy(server.tasks.createdAt, server.tasks.id),
    taskLinks: await db.select().from(server.taskLinks),
    taskComments: await db.select().from(server.taskComments).orderBy(server.taskComments.id),
    taskEvents: await db.select().from(server.taskEvents).orderBy(server.taskEvents.id),
    taskRuns: await db.select().from(server.taskRuns).orderBy(server.taskRuns.id),
    kanbanNotifySubs: await db.select().from(server.kanbanNotifySubs),
    taskAttachments: await db.select().from(server.taskAttachments).orderBy(server.taskAttachments.id),
    recipeInstances: await db.select().from(server.recipeInstances),
    recipeInstanceTasks: await db.select().from(server.recipeInstanceTasks),
  };
}

/** Rows in slices small enough for one statement's bound values (SQLite allows 32,766; PostgreSQL 65,535). */
function slices<T extends object>(rows: readonly T[]): T[][] {
  const width = Math.max(1, Object.keys(rows[0] ?? {}).length);
  const size = Math.max(1, Math.floor(30_000 / width));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

function counts(rows: BoardRows): Record<string, number> {
  return {
    tasks: rows.tasks.length,
    task_links: rows.taskLinks.length,
    task_comments: rows.taskComments.length,
    task_events: rows.taskEvents.length,
    task_runs: rows.taskRuns.length,
    kanban_notify_subs: rows.kanbanNotifySubs.length,
    task_attachments: rows.taskAttachments.length,
    recipe_instances: rows.recipeInstances.length,
    recipe_instance_tasks: rows.recipeInstanceTasks.length,
  };
}

function notEmpty(where: string): KanbanError {
  return new KanbanError(
    'TARGET_NOT_EMPTY',
    `${where} already holds tasks; copy into a new file or board (--to-board), or remove its tasks first`,
  );
}

/** Writes every row into an empty file board, in one `BEGIN IMMEDIATE` transaction; SQLite's counters follow the ids. */
async function writeFile(path: string, rows: BoardRows, progress: (n: number) => void): Promise<string> {
  const kb = await openKanban({ dbPath: path });
  try {
    const db = kb.db;
    db.transaction(
      (tx) => {
        if (tx.select({ id: file.tasks.id }).from(file.tasks).limit(1).get()) throw notEmpty(kb.location);
        const put = <T extends object>(rowsOf: readonly T[], insert: (slice: T[]) => void) => {
          for (const slice of slices(rowsOf)) {
            insert(slice);
            progress(slice.length);
          }
        };
        put(rows.tasks, (s) => tx.insert(file.tasks).values(s).run());
        put(rows.taskLinks, (s) => tx.insert(file.taskLinks).values(s).run());
        put(rows.taskComments, (s) => tx.insert(file.taskComments).values(s).run());
        put(rows.taskEvents, (s) => tx.insert(file.taskEvents).values(s).run());
        put(rows.taskRuns, (s) => tx.insert(file.taskRuns).values(s).run());
        put(rows.kanbanNotifySubs, (s) => tx.insert(file.kanbanNotifySubs).values(s).run());
        put(rows.taskAttachments, (s) => tx.insert(file.taskAttachments).values(s).run());
        put(rows.recipeInstances, (s) => tx.insert(file.recipeInstances).values(s).run());
        put(rows.recipeInstanceTasks, (s) => tx.insert(file.recipeInstanceTasks).values(s).run());
      },
      { behavior: 'immediate' },
    );
    return kb.location;
  } finally {
    kb.close();
  }
}

/** A drizzle database on one connection working in the board's schema. */
async function onBoard<T>(
  url: string,
  board: string,
  fn: (db: NodePgDatabase, client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ connectionString: url, options: `-c search_path=${quoted(boardSchema(board))}` });
  try {
    await client.connect();
    return await fn(drizzle({ client }), client);
  } catch (error) {
    throw classifyPgError(error, describeServer(url));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The tables whose ids the server numbers: their identity is set past the copied ids. */
const NUMBERED = ['task_comments', 'task_events', 'task_runs', 'task_attachments'];

async function writeServer(
  url: string,
  board: string,
  rows: BoardRows,
  progress: (n: number) => void,
): Promise<string> {
  await ensurePgMigrated(url, board);
  const where = `board ${board} on ${describeServer(url)}`;
  return onBoard(url, board, async (db, client) => {
    await client.query('BEGIN');
    try {
      if ((await db.select({ id: server.tasks.id }).from(server.tasks).limit(1)).length) throw notEmpty(where);
      const put = async <T extends object>(rowsOf: readonly T[], insert: (slice: T[]) => Promise<unknown>) => {
        for (const slice of slices(rowsOf)) {
          await insert(slice);
          progress(slice.length);
        }
      };
      await put(rows.tasks, (s) => db.insert(server.tasks).values(s));
      await put(rows.taskLinks, (s) => db.insert(server.taskLinks).values(s));
      await put(rows.taskComments, (s) => db.insert(server.taskComments).values(s));
      await put(rows.taskEvents, (s) => db.insert(server.taskEvents).values(s));
      await put(rows.taskRuns, (s) => db.insert(server.taskRuns).values(s));
      await put(rows.kanbanNotifySubs, (s) => db.insert(server.kanbanNotifySubs).values(s));
      await put(rows.taskAttachments, (s) => db.insert(server.taskAttachments).values(s));
      await put(rows.recipeInstances, (s) => db.insert(server.recipeInstances).values(s));
      await put(rows.recipeInstanceTasks, (s) => db.insert(server.recipeInstanceTasks).values(s));
      for (const table of NUMBERED) {
        await client.query(
          `SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST((SELECT MAX(id) FROM ${quoted(table)}), 1),
            (SELECT MAX(id) FROM ${quoted(table)}) IS NOT NULL)`,
          [table],
        );
      }
      await client.query('COMMIT');
      return where;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Copies the board `source` holds to `target`. `progress` hears how many rows were written, as
 * they are, out of the total it is first told.
 */
export async function copyBoard(
  source: FileKanban | ServerKanban,
  sourceUrl: string | undefined,
  target: CopyTarget,
  progress: (written: number, total: number) => void = () => undefined,
): Promise<CopyReport> {
  let rows: BoardRows;
  let leftOut: string[] = [];
  if (isFileKanban(source)) {
    rows = readFile(source);
    leftOut = unknownToSchema(source);
  } else {
    if (sourceUrl === undefined || source.board === undefined) throw new Error('a server board needs its URL and slug');
    rows = await onBoard(sourceUrl, source.board, readServer);
  }
  const rowCounts = counts(rows);
  const total = Object.values(rowCounts).reduce((sum, n) => sum + n, 0);
  let written = 0;
  const step = (n: number) => {
    written += n;
    progress(written, total);
  };
  progress(0, total);
  const to =
    'path' in target
      ? await writeFile(target.path, rows, step)
      : await writeServer(target.url, target.board, rows, step);
  return { rows: rowCounts, leftOut, from: source.location, to };
}
