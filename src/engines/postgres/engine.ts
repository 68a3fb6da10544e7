/**
 * The server engine: one `pg` pool per server, database and board in a process, whose connections
 * have the board's schema as their search path and a lock timeout of the handle's busy timeout.
 * A write is one READ COMMITTED transaction on one pooled connection; the store takes the row
 * locks the rules rely on (see `statements.ts`). A deadlock or serialization failure rolls the
 * transaction back and runs it again whole, as SQLITE_BUSY does on a file; the other failures
 * are classified by SQLSTATE for the server, never naming its password.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import { Pool, type PoolClient } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine, Store } from '../../core/port';
import { KanbanError } from '../../errors';
import { classifyPgError, socketCode, sqlState } from './errors';
import { quoted } from './migrate';
import { pgStore } from './statements';
import { channelListener, waking } from './wake';

/** SQLSTATEs after which the whole transaction is run again: serialization failure, deadlock. */
const RETRIED = ['40001', '40P01'];
const MAX_RETRIES = 20;

interface Stores {
  readonly write: Store;
  readonly read: Store;
}

/** A board's pool and what this process knows of its connections. */
export interface PgBoardPool {
  readonly pool: Pool;
  /** The server, database and board, for messages. */
  readonly where: string;
  readonly stores: WeakMap<PoolClient, Stores>;
  /** Connections that reported an error or ended: a call that met one lost its connection. */
  readonly broken: WeakSet<PoolClient>;
  /** The board's channel: its schema's name. */
  readonly channel: string;
  /** Connections whose open transaction may have made a task claimable: they notify as they commit. */
  readonly woke: WeakSet<PoolClient>;
  /** Calls `listener` whenever a transaction on the board may have made a task claimable, from any host. */
  listen(listener: () => void): () => void;
}

/** A pool whose connections work in `schema`, waiting at most `lockTimeoutMs` for a row lock. */
export function createBoardPool(url: string, schema: string, where: string, lockTimeoutMs: number): PgBoardPool {
  const pool = new Pool({
    connectionString: url,
    max: 10,
    // A connection prepares its statements once; keep it for idle minutes rather than pg's 10 s.
    idleTimeoutMillis: 300_000,
    // Idle connections do not keep the process alive: a program that ends without close() still ends.
    allowExitOnIdle: true,
    options: `-c search_path=${quoted(schema)} -c lock_timeout=${lockTimeoutMs}`,
  });
  const broken = new WeakSet<PoolClient>();
  // An idle connection the server closed must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => broken.add(client));
    client.on('end', () => broken.add(client));
  });
  const { listen } = channelListener(url, schema);
  return { pool, where, stores: new WeakMap(), broken, channel: schema, woke: new WeakSet(), listen };
}

function storesOf(board: PgBoardPool, client: PoolClient): Stores {
  let stores = board.stores.get(client);
  if (!stores) {
    const db = drizzle({ client });
    stores = { write: waking(pgStore(db, true), () => board.woke.add(client)), read: pgStore(db, false) };
    board.stores.set(client, stores);
  }
  return stores;
}

/** SQLSTATEs of a connection the server ended or lost: class 08, and the server's shutdowns and terminations (57P01-57P03). */
const lostConnection = (state: string) => state.startsWith('08') || ['57P01', '57P02', '57P03'].includes(state);

/** What a failure means to the caller: a lost connection, a classified server failure, or the rule's own refusal. */
function classify(board: PgBoardPool, client: PoolClient | undefined, error: unknown): unknown {
  if (error instanceof KanbanError) return error;
  const state = sqlState(error);
  // Once connected, a connection that ended (its socket failed, a SQLSTATE says so, or it just ended) was lost mid-call.
  const ended = (held: PoolClient) =>
    socketCode(error) !== undefined || (state === undefined ? board.broken.has(held) : lostConnection(state));
  if (client && ended(client)) {
    board.broken.add(client);
    return new KanbanError(
      'CONNECTION_LOST',
      `The connection to ${board.where} was lost during the call; its transaction was not committed (if the loss came during COMMIT, check the task before retrying)`,
      { cause: error },
    );
  }
  return classifyPgError(error, board.where);
}

async function onConnection<T>(board: PgBoardPool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  let client: PoolClient | undefined;
  try {
    client = await board.pool.connect();
    return await fn(client);
  } catch (error) {
    throw classify(board, client, error);
  } finally {
    // A broken connection is destroyed instead of going back to the pool: the next call reconnects.
    client?.release(client && board.broken.has(client));
  }
}

/** The rules' engine over a board's pool. */
export function pgEngine(board: PgBoardPool): Engine {
  const transaction = <T>(fn: (store: Store) => Promise<T>) =>
    onConnection(board, async (client) => {
      await client.query('BEGIN');
      board.woke.delete(client);
      try {
        const result = await fn(storesOf(board, client).write);
        // NOTIFY is transactional: listeners hear it once this commits, and never if it does not.
        // Sent with the COMMIT, as one simple query: no round trip of its own.
        const notify = board.woke.delete(client)
          ? `SELECT pg_notify(${client.escapeLiteral(board.channel)}, ''); `
          : '';
        await client.query(`${notify}COMMIT`);
        return result;
      } catch (error) {
        if (!board.broken.has(client)) await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  return {
    where: board.where,
    write: async (fn) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await transaction(fn);
        } catch (error) {
          if (!RETRIED.includes(sqlState(error) ?? '') || attempt >= MAX_RETRIES) throw error;
          await sleep(Math.random() * 2 ** Math.min(attempt, 6));
        }
      }
    },
    // One snapshot for a read of several statements (counts, a subscriber and its events).
    read: (fn) =>
      onConnection(board, async (client) => {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          return await fn(storesOf(board, client).read);
        } finally {
          if (!board.broken.has(client)) await client.query('COMMIT').catch(() => undefined);
        }
      }),
  };
}
