/** The types of drizzle's synchronous SQLite database over this engine's connection. */
import type Database from 'libsql';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type * as schema from '../../core/schema';

/** drizzle's query builder in sync mode over the engine's connection. */
export type SyncDb = BaseSQLiteDatabase<'sync', Database.RunResult>;
/** The same with the schema, for relational queries (`db.query.tasks.findMany(…)`). */
export type SchemaDb = BaseSQLiteDatabase<'sync', Database.RunResult, typeof schema>;

/** A synchronous result: a promise here would let work escape the transaction it belongs to. */
export type Sync<T> = T extends PromiseLike<unknown> ? never : T;
