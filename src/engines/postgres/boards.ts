/**
 * Boards on a server, as `src/boards.ts` keeps them in folders: each board is a schema
 * `kanban_<slug>`, and what `board.json` says of a board (name, description, icon, color,
 * archived, creation, and which board is current) is the schema's comment, as JSON. Removing a
 * board renames its schema out of the boards' names (`kanban-removed:<slug>-<time>`), or drops it.
 */
import { Client } from 'pg';
import { type BoardMeta, type BoardMetaInput, DEFAULT_BOARD, normalizeSlug } from '../../boards';
import { KanbanError } from '../../errors';
import { classifyPgError, describeServer } from './errors';
import { boardSchema, ensurePgMigrated, forgetPgDatabase, quoted } from './migrate';

const PREFIX = boardSchema('');

async function onServer<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    return await fn(client);
  } catch (error) {
    throw classifyPgError(error, describeServer(url));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A schema comment as an object of what it says; empty when it holds no JSON object. */
function parsed(comment: string | null): Record<string, unknown> {
  try {
    const raw: unknown = JSON.parse(comment ?? '');
    return typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw))
      : {};
  } catch {
    return {};
  }
}

function meta(url: string, slug: string, raw: Record<string, unknown>): BoardMeta {
  const str = (key: string, fallback: string) => (typeof raw[key] === 'string' ? String(raw[key]) : fallback);
  return {
    slug,
    name: str('name', slug === DEFAULT_BOARD ? 'Default' : slug),
    description: str('description', ''),
    icon: str('icon', ''),
    color: str('color', ''),
    archived: raw.archived === true,
    createdAt: typeof raw.created_at === 'number' ? raw.created_at : null,
    dbPath: `board ${slug} on ${describeServer(url)}`,
  };
}

/** The server's boards (schemas `kanban_<slug>` holding a board's tables) with what their comments say. */
async function boardRows(client: Client): Promise<{ slug: string; raw: Record<string, unknown> }[]> {
  const { rows } = await client.query<{ schema: string; comment: string | null }>(
    `SELECT nspname AS schema, obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace
      WHERE starts_with(nspname, $1) AND to_regclass(quote_ident(nspname) || '.tasks') IS NOT NULL ORDER BY nspname`,
    [PREFIX],
  );
  return rows.map((row) => ({ slug: row.schema.slice(PREFIX.length), raw: parsed(row.comment) }));
}

async function exists(client: Client, slug: string): Promise<Record<string, unknown> | undefined> {
  return (await boardRows(client)).find((row) => row.slug === slug)?.raw;
}

async function comment(client: Client, slug: string, raw: Record<string, unknown>): Promise<void> {
  // COMMENT takes no parameters: the JSON goes in as a quoted literal.
  const literal = `'${JSON.stringify(raw).replaceAll("'", "''")}'`;
  await client.query(`COMMENT ON SCHEMA ${quoted(boardSchema(slug))} IS ${literal}`);
}

function notFound(url: string, slug: string): KanbanError {
  return new KanbanError(
    'BOARD_NOT_FOUND',
    `No board ${slug} on ${describeServer(url)}; \`kanban boards list\` shows the boards, \`kanban boards create ${slug}\` makes one`,
  );
}

/** `default` first (it exists once used), then the other boards by slug. */
export function listServerBoards(url: string, options: { includeArchived?: boolean } = {}): Promise<BoardMeta[]> {
  return onServer(url, async (client) => {
    const rows = await boardRows(client);
    const all = rows.some((row) => row.slug === DEFAULT_BOARD) ? rows : [{ slug: DEFAULT_BOARD, raw: {} }, ...rows];
    return all
      .sort(
        (a, b) => Number(b.slug === DEFAULT_BOARD) - Number(a.slug === DEFAULT_BOARD) || a.slug.localeCompare(b.slug),
      )
      .map((row) => meta(url, row.slug, row.raw))
      .filter((board) => options.includeArchived === true || !board.archived);
  });
}

/** Whether the board exists on the server (`default` always does: its first use makes it). */
export async function serverBoardExists(url: string, slug: string): Promise<boolean> {
  return slug === DEFAULT_BOARD || (await onServer(url, (client) => exists(client, slug))) !== undefined;
}

/** Makes (or updates) a board: its schema migrated, its comment holding `input` over what it said. */
export async function writeServerBoard(
  url: string,
  rawSlug: string,
  input: BoardMetaInput,
  now: number,
): Promise<BoardMeta> {
  const slug = normalizeSlug(rawSlug);
  await ensurePgMigrated(url, slug);
  return onServer(url, async (client) => {
    const current = (await exists(client, slug)) ?? {};
    const given = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
    const next = { ...current, ...given, slug, created_at: current.created_at ?? now };
    await comment(client, slug, next);
    return meta(url, slug, next);
  });
}

/** The board the server's comments name as current, if it still exists; else `default`. */
export function currentServerBoard(url: string): Promise<string> {
  return onServer(
    url,
    async (client) => (await boardRows(client)).find((row) => row.raw.current === true)?.slug ?? DEFAULT_BOARD,
  );
}

/**
 * The board a command works on a server, read in one exchange: `requested` (else KANBAN_BOARD,
 * else the server's current board); `BOARD_NOT_FOUND` unless it exists (`default` always does).
 */
export function serverBoardFor(url: string, requested: string | undefined): Promise<string> {
  return onServer(url, async (client) => {
    const rows = await boardRows(client);
    const current = rows.find((row) => row.raw.current === true)?.slug ?? DEFAULT_BOARD;
    const slug = normalizeSlug(requested ?? (process.env.KANBAN_BOARD || current));
    if (slug !== DEFAULT_BOARD && !rows.some((row) => row.slug === slug)) throw notFound(url, slug);
    return slug;
  });
}

/** Makes `slug` the server's current board, in one transaction with clearing the others. */
export function switchServerBoard(url: string, rawSlug: string): Promise<string> {
  const slug = normalizeSlug(rawSlug);
  return onServer(url, async (client) => {
    await client.query('BEGIN');
    const rows = await boardRows(client);
    if (slug !== DEFAULT_BOARD && !rows.some((row) => row.slug === slug)) throw notFound(url, slug);
    for (const row of rows) {
      if (row.raw.current === true || row.slug === slug)
        await comment(client, row.slug, { ...row.raw, current: row.slug === slug });
    }
    await client.query('COMMIT');
    return slug;
  });
}

/** Renames the board's schema out of the boards' names, or drops it with `delete`; `default` cannot be removed. */
export function removeServerBoard(
  url: string,
  rawSlug: string,
  options: { delete?: boolean; now: number },
): Promise<{ slug: string; action: 'archived' | 'deleted'; newPath?: string }> {
  const slug = normalizeSlug(rawSlug);
  if (slug === DEFAULT_BOARD) throw new KanbanError('INVALID_BOARD', 'The default board cannot be removed');
  return onServer(url, async (client) => {
    if ((await exists(client, slug)) === undefined) throw notFound(url, slug);
    const schema = quoted(boardSchema(slug));
    // This process must not think the board still migrated, should one of the same name be made again.
    forgetPgDatabase(url, slug);
    if (options.delete) {
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      return { slug, action: 'deleted' };
    }
    const removed = `kanban-removed:${slug}-${options.now}`;
    await client.query(`ALTER SCHEMA ${schema} RENAME TO ${quoted(removed)}`);
    return { slug, action: 'archived', newPath: `schema ${removed} on ${describeServer(url)}` };
  });
}
