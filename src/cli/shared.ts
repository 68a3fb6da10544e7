import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { boardExists, normalizeSlug, resolveHome } from '../boards';
import { serverBoardFor } from '../engines/postgres/boards';
import { isKanbanError, KanbanError } from '../errors';
import { type FileKanban, isServerUrl, openKanban, type ServerKanban } from '../kanban';

export interface GlobalOptions {
  home?: string;
  board?: string;
  db?: string;
  json?: boolean;
  busyTimeout?: number;
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** `--busy-timeout` as the library's connection option. */
export function connectionOptions(command: Command): { busyTimeoutMs?: number } {
  const { busyTimeout } = globals(command);
  return busyTimeout === undefined ? {} : { busyTimeoutMs: busyTimeout };
}

/** The server URL `--db` or KANBAN_DB names, if either names one rather than a file. */
export function serverUrl(command: Command): string | undefined {
  const target = globals(command).db ?? process.env.KANBAN_DB;
  return target !== undefined && isServerUrl(target) ? target : undefined;
}

/** The global options, once a `--board` they name is known to exist (unless `--db` names one file). */
export async function requireBoard(command: Command): Promise<GlobalOptions> {
  const options = globals(command);
  const url = serverUrl(command);
  if (url) {
    return { ...options, board: await serverBoardFor(url, options.board) };
  }
  if (options.board === undefined || options.db) return options;
  const home = resolveHome(options.home);
  const slug = normalizeSlug(options.board);
  if (!boardExists(home, slug)) {
    throw new KanbanError(
      'BOARD_NOT_FOUND',
      `No board ${slug} under ${home}; \`kanban boards list\` shows the boards, \`kanban boards create ${slug}\` makes one`,
    );
  }
  return options;
}

/**
 * Opens the board the global options name, in its file or on the server `--db` (or KANBAN_DB)
 * names, runs `fn`, and closes it. A `--board` whose file does not exist is refused: only
 * `boards create` makes boards in files.
 */
export async function withBoard<T>(command: Command, fn: (kb: FileKanban | ServerKanban) => Promise<T>): Promise<T> {
  const { home, board, db } = await requireBoard(command);
  const url = serverUrl(command);
  const kb = await openKanban({
    ...(url ? { url } : { ...(home && { home }), ...(db && { dbPath: db }) }),
    ...(board !== undefined && { board }),
    ...connectionOptions(command),
  });
  try {
    return await fn(kb);
  } finally {
    kb.close();
  }
}

/** Prints `value` as one JSON document with --json, else the text `render` makes of it. */
export function print<T>(command: Command, value: T, render: (value: T) => string): void {
  process.stdout.write(globals(command).json ? `${JSON.stringify(value, null, 2)}\n` : `${render(value)}\n`);
}

export function integer(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n))
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a whole number.`);
  return n;
}

/** A whole number of at least 1: counts, widths, times. */
export function positive(value: string): number {
  return atLeast(1, value);
}

/** A whole number of at least 0: waits that may be switched off. */
export function nonNegative(value: string): number {
  return atLeast(0, value);
}

function atLeast(min: number, value: string): number {
  const n = integer(value);
  if (n < min) throw new InvalidArgumentError(`${JSON.stringify(value)} must be at least ${min}.`);
  return n;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A commander argument parser accepting one of `choices`, typed as that union. */
export function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    const found = choices.find((c) => c === value);
    if (found === undefined) throw new InvalidArgumentError(`Use one of: ${choices.join(', ')}.`);
    return found;
  };
}

/** Like `oneOf`, for an option that may be repeated. */
export function manyOf<T extends string>(choices: readonly T[]) {
  const one = oneOf(choices);
  return (value: string, previous: T[] = []): T[] => [...previous, one(value)];
}

/** What a verb of several ids did to one of them. */
export type Outcome<T> =
  | { readonly id: string; readonly ok: true; readonly value: T }
  | { readonly id: string; readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/**
 * Applies `fn` to each id on its own, as the original's verbs of several ids do: each is its own
 * commit, a refusal of one does not stop the others. Prints each outcome (or the list with --json);
 * any refusal makes the exit code 1. An error that is not a refusal (a bug) still stops the verb.
 * With one id, prints its result as the single-id verb does (the task itself with --json).
 */
export async function eachId<T>(
  command: Command,
  ids: readonly string[],
  fn: (id: string) => Promise<T>,
  render: (value: T) => string,
): Promise<void> {
  const unique = [...new Set(ids)];
  // One id is the verb as it always was: its result, or its refusal as the error.
  if (unique.length === 1 && unique[0] !== undefined) return print(command, await fn(unique[0]), render);
  const outcomes: Outcome<T>[] = [];
  for (const id of unique) {
    try {
      outcomes.push({ id, ok: true, value: await fn(id) });
    } catch (error) {
      if (!isKanbanError(error)) throw error;
      outcomes.push({ id, ok: false, error: { code: error.code, message: error.message } });
    }
  }
  if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
  if (globals(command).json) return print(command, outcomes, () => '');
  for (const o of outcomes) {
    if (o.ok) process.stdout.write(`${render(o.value)}\n`);
    else process.stderr.write(`kanban: ${o.id}: ${o.error.message} [${o.error.code}]\n`);
  }
}

/** `none`, `-` and `null` (any case) mean nobody, as the original's `assign` reads them. */
export function profileOrNone(value: string): string | null {
  return ['none', '-', 'null'].includes(value.trim().toLowerCase()) ? null : value;
}

/** Who a comment written from the command line is by: $USER, else `cli`. */
export function author(): string {
  return process.env.USER ?? 'cli';
}
