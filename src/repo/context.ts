import { KanbanError } from '../errors';
import type { ConnectionOptions } from '../db/connect';
import type { Engine, Sync, SyncDb } from '../db/engine';
import type { RetryBackoff, Statements } from './statements';

/** What every repository operation needs: the engine and its prepared statements, a clock, the claimer. */
export interface RepoContext {
  readonly engine: Engine;
  /** The query builder, for the statements too rare to keep prepared. */
  readonly db: SyncDb;
  readonly q: Statements;
  readonly path: string;
  /** Epoch seconds. */
  readonly now: () => number;
  /** Written into `claim_lock`, `host:pid` style. */
  readonly claimer: string;
  readonly newTaskId: () => string;
  /** How long failed tasks wait before `claimNextTask` picks them again. */
  readonly retryBackoff: RetryBackoff;
  readonly connection: ConnectionOptions;
  /** False once the handle was closed: every call is then refused with `CLOSED`. */
  readonly isOpen: () => boolean;
}

function closed(ctx: RepoContext): Promise<never> {
  return Promise.reject(
    new KanbanError('CLOSED', `This handle of ${ctx.path} was closed; open the board again to use it`),
  );
}

/**
 * One write transaction (`BEGIN IMMEDIATE`): `fn` is synchronous, so nothing else of this process
 * runs inside it. A refusal thrown inside rolls everything back, so a refused call writes nothing.
 */
export function write<T>(ctx: RepoContext, fn: (now: number) => Sync<T>): Promise<T> {
  if (!ctx.isOpen()) return closed(ctx);
  return ctx.engine.write(() => fn(ctx.now()), ctx.connection);
}

/** Reads outside a transaction, with the same busy handling and error classification as writes. */
export function read<T>(ctx: RepoContext, fn: () => Sync<T>): Promise<T> {
  if (!ctx.isOpen()) return closed(ctx);
  return ctx.engine.read(fn, ctx.connection);
}
