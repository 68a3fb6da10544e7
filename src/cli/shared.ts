import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { openKanban, type Kanban } from '../kanban';

export interface GlobalOptions {
  home?: string;
  board?: string;
  db?: string;
  json?: boolean;
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** Opens the board the global options name, runs `fn`, and closes it. */
export async function withBoard<T>(command: Command, fn: (kb: Kanban) => Promise<T>): Promise<T> {
  const { home, board, db } = globals(command);
  const kb = await openKanban({ ...(home && { home }), ...(board !== undefined && { board }), ...(db && { dbPath: db }) });
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
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${JSON.stringify(value)} is not a whole number.`);
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
