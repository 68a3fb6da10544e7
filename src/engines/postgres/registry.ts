/**
 * Per-process state of the boards on servers: one pool per server, database, board and lock
 * timeout, shared by every handle of it and closed with the last one.
 */
import { createBoardPool, type PgBoardPool } from './engine';
import { describeServer } from './errors';
import { boardSchema, databaseKey } from './migrate';

interface Shared {
  readonly board: PgBoardPool;
  users: number;
}

const pools = new Map<string, Shared>();

/** The board's pool, made on first use, and how to give this use back (the last one ends the pool). */
export function acquireBoardPool(
  url: string,
  slug: string,
  lockTimeoutMs: number,
): { readonly board: PgBoardPool; readonly release: () => void } {
  const schema = boardSchema(slug);
  const key = `${databaseKey(url)}#${schema}#${lockTimeoutMs}`;
  let shared = pools.get(key);
  if (!shared) {
    const where = `board ${slug} on ${describeServer(url)}`;
    shared = { board: createBoardPool(url, schema, where, lockTimeoutMs), users: 0 };
    pools.set(key, shared);
  }
  shared.users++;
  const held = shared;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (--held.users > 0) return;
    pools.delete(key);
    void held.board.pool.end().catch(() => undefined);
  };
  return { board: held.board, release };
}
