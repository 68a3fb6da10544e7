import { KanbanError } from '../errors';
import type { RetryBackoff } from './model';
import type { Engine, Store } from './port';

/** What every rule needs besides the board: a clock, the claimer, how ids are made, the retry wait. */
export interface RepoContext {
  readonly engine: Engine;
  /** Epoch seconds. */
  readonly now: () => number;
  /** Written into `claim_lock`, `host:pid` style. */
  readonly claimer: string;
  readonly newTaskId: () => string;
  /** How long failed tasks wait before `claimNextTask` picks them again. */
  readonly retryBackoff: RetryBackoff;
  /** False once the handle was closed: every call is then refused with `CLOSED`. */
  readonly isOpen: () => boolean;
}

/** A rule's view inside one transaction: the context and the store that runs in it. */
export interface Tx extends RepoContext {
  readonly q: Store;
}

function closed(ctx: RepoContext): Promise<never> {
  return Promise.reject(
    new KanbanError('CLOSED', `This handle of ${ctx.engine.where} was closed; open the board again to use it`),
  );
}

/**
 * One write transaction: the engine serialises it against every other writer of the board (on
 * SQLite `BEGIN IMMEDIATE`; on PostgreSQL the rows' locks). A refusal thrown inside rolls
 * everything back, so a refused call writes nothing.
 */
export function write<T>(ctx: RepoContext, fn: (tx: Tx, now: number) => Promise<T>): Promise<T> {
  if (!ctx.isOpen()) return closed(ctx);
  return ctx.engine.write((q) => fn({ ...ctx, q }, ctx.now()));
}

/** Reads, with the same busy handling and error classification as writes. */
export function read<T>(ctx: RepoContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!ctx.isOpen()) return closed(ctx);
  return ctx.engine.read((q) => fn({ ...ctx, q }));
}
