import { getTableName, is, SQL } from 'drizzle-orm';
import { PgDialect, PgTable, getTableConfig as pgConfig } from 'drizzle-orm/pg-core';
import { SQLiteSyncDialect, SQLiteTable, getTableConfig as sqliteConfig } from 'drizzle-orm/sqlite-core';
import * as sqlite from '../../src/core/schema';
import * as postgres from '../../src/engines/postgres/schema';

type Config = ReturnType<typeof sqliteConfig> | ReturnType<typeof pgConfig>;

/** What a table declares in terms both dialects share (not the SQL types, which differ by engine). */
function shape(config: Config, render: (sql: SQL) => string) {
  const indexColumn = (c: unknown) =>
    is(c, SQL) ? render(c) : typeof c === 'object' && c !== null && 'name' in c ? `"${String(c.name)}"` : '?';
  return {
    columns: config.columns.map((c) => [
      c.name,
      { notNull: c.notNull, default: c.default, primary: c.primary, unique: c.isUnique },
    ]),
    primaryKeys: config.primaryKeys.map((k) => k.columns.map((c) => c.name)),
    foreignKeys: config.foreignKeys.map((k) => {
      const { columns, foreignTable, foreignColumns } = k.reference();
      return `${columns.map((c) => c.name)} → ${getTableName(foreignTable)}(${foreignColumns.map((c) => c.name)}) ${k.onDelete}`;
    }),
    indexes: config.indexes.map((i) => [i.config.name, i.config.unique, i.config.columns.map(indexColumn)]),
  };
}

const sqliteDialect = new SQLiteSyncDialect();
const asPostgresOrder = (expression: string) => expression.replace(/ DESC$/, ' DESC NULLS LAST');
const pgDialect = new PgDialect();

describe('the SQLite and PostgreSQL schemas', () => {
  it('declare the same tables, columns, nullability, defaults, keys and indexes', () => {
    const fromSqlite = Object.values<unknown>(sqlite)
      .filter((value): value is SQLiteTable => is(value, SQLiteTable))
      // SQLite sorts NULL below every value, so its `DESC` is PostgreSQL's `DESC NULLS LAST`.
      .map(
        (t) =>
          [getTableName(t), shape(sqliteConfig(t), (q) => asPostgresOrder(sqliteDialect.sqlToQuery(q).sql))] as const,
      );
    const fromPostgres = Object.values<unknown>(postgres)
      .filter((value): value is PgTable => is(value, PgTable))
      .map((t) => [getTableName(t), shape(pgConfig(t), (q) => pgDialect.sqlToQuery(q).sql)] as const);
    expect(fromSqlite).toHaveLength(9);
    expect(Object.fromEntries(fromPostgres)).toEqual(Object.fromEntries(fromSqlite));
  });
});
