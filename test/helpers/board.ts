import { randomBytes } from 'node:crypto';
import { Client, TypeOverrides, types } from 'pg';
import { boardSchema } from '../../src/engines/postgres/migrate';
import { type FileKanban, type Kanban, openKanban, type OpenFileOptions } from '../../src/kanban';
import { execScript, query, withTempDir } from './temp';

/** A settable clock in epoch seconds, so lease and time rules are tested without sleeping. */
export class FakeClock {
  constructor(public seconds = 1_800_000_000) {}
  readonly now = (): number => this.seconds;
  advance(by: number): void {
    this.seconds += by;
  }
}

/** The engines the contract suites run on, from one source. */
export const ENGINES = ['sqlite', 'postgres'] as const;
export type EngineName = (typeof ENGINES)[number];

/** Opens a board in a new temporary home with a fake clock; closes it and removes the folder afterwards. */
export async function withTempBoard<T>(
  fn: (kb: FileKanban, clock: FakeClock, home: string) => Promise<T>,
  options: OpenFileOptions = {},
): Promise<T> {
  return withTempDir(async (home) => {
    const clock = new FakeClock();
    const kb = await openKanban({ home, board: 'default', now: clock.now, ...options });
    try {
      return await fn(kb, clock, home);
    } finally {
      kb.close();
    }
  });
}

/** The database of the run's PostgreSQL server (test/global-setup.ts); fails loudly when there is none. */
export function testServerUrl(): string {
  const url = process.env.KANBAN_TEST_BOARDS_URL;
  if (url) return url;
  throw new Error(
    `No PostgreSQL server for the PostgreSQL suites: ${process.env.KANBAN_TEST_PG_MISSING ?? 'the global setup did not run'}`,
  );
}

const serverBoards = new WeakMap<Kanban, string>();

/** A new board on the run's server, named uniquely across the run's files: its own schema, so tests never share rows. */
export function newServerBoard(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** Opens a new board on `engine` with a fake clock, runs `fn` and closes it. */
export async function withBoard<T>(
  engine: EngineName,
  fn: (kb: Kanban, clock: FakeClock) => Promise<T>,
  options: OpenFileOptions = {},
): Promise<T> {
  if (engine === 'sqlite') return withTempBoard(fn, options);
  const clock = new FakeClock();
  const board = newServerBoard();
  const kb = await openKanban({ ...options, url: testServerUrl(), board, now: clock.now });
  serverBoards.set(kb, boardSchema(board));
  try {
    return await fn(kb, clock);
  } finally {
    kb.close();
  }
}

/** bigint counts as numbers, as libSQL returns them. */
const numbers = new TypeOverrides();
numbers.setTypeParser(types.builtins.INT8, Number);

/**
 * Runs SQL on the board the way another program would, outside the repository: `?` placeholders,
 * on the board's file or its server schema. For the few rows a test must write behind the rules' back.
 */
export async function raw(
  kb: Kanban,
  sql: string,
  params: (string | number | null)[] = [],
): Promise<Record<string, unknown>[]> {
  if ('path' in kb && typeof kb.path === 'string') return query(kb.path, sql, params);
  let n = 0;
  return onServerBoard(
    kb,
    async (client) =>
      (
        await client.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        )
      ).rows,
  );
}

/** Runs several `;`-separated statements without parameters, as `raw` does one. */
export async function rawScript(kb: Kanban, script: string): Promise<void> {
  if ('path' in kb && typeof kb.path === 'string') return execScript(kb.path, script);
  await onServerBoard(kb, (client) => client.query(script));
}

async function onServerBoard<T>(kb: Kanban, fn: (client: Client) => Promise<T>): Promise<T> {
  const schema = serverBoards.get(kb);
  if (!schema) throw new Error('raw SQL needs a board opened by withBoard');
  const client = new Client({ connectionString: testServerUrl(), options: `-c search_path=${schema}`, types: numbers });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Every row count of the board, to show that a refused call wrote nothing. */
export async function snapshot(kb: Kanban) {
  return {
    tasks: await kb.listTasks({ includeArchived: true }),
    events: await kb.listEvents(),
  };
}

/** Input outside the declared types, as untyped JavaScript callers send it (JSON.parse yields an untyped value). */
export function untyped(value: object) {
  return Object.assign(JSON.parse('{}'), value);
}
