/**
 * DDL derived from the Drizzle schema, for adopting files that the original program wrote: those
 * already hold some of our tables, so the generated `CREATE TABLE` migration cannot run on them.
 * A test checks that a file adopted this way ends with the same columns and indexes as a fresh one.
 */
import { is, SQL } from 'drizzle-orm';
import {
  getTableConfig,
  SQLiteBaseInteger,
  type SQLiteColumn,
  SQLiteSyncDialect,
  type SQLiteTable,
} from 'drizzle-orm/sqlite-core';
import {
  kanbanNotifySubs,
  recipeInstances,
  recipeInstanceTasks,
  taskAttachments,
  taskComments,
  taskEvents,
  taskLinks,
  taskRuns,
  tasks,
} from '../../core/schema';

export const KANBAN_TABLES: readonly SQLiteTable[] = [
  tasks,
  taskLinks,
  taskComments,
  taskEvents,
  taskRuns,
  kanbanNotifySubs,
  taskAttachments,
  recipeInstances,
  recipeInstanceTasks,
];

export const quote = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

function literal(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  throw new Error(`The schema uses a default that adoption cannot render: ${String(value)}`);
}

export function columnDefinition(column: SQLiteColumn): string {
  const parts = [quote(column.name), column.getSQLType()];
  if (column.primary) {
    parts.push(is(column, SQLiteBaseInteger) && column.autoIncrement ? 'PRIMARY KEY AUTOINCREMENT' : 'PRIMARY KEY');
  }
  if (column.default !== undefined) parts.push(`DEFAULT ${literal(column.default)}`);
  if (column.notNull) parts.push('NOT NULL');
  return parts.join(' ');
}

/** Whether `ALTER TABLE … ADD COLUMN` can add this column to a table that already has rows. */
export function canAddColumn(column: SQLiteColumn): boolean {
  return !column.primary && (!column.notNull || column.default !== undefined);
}

const dialect = new SQLiteSyncDialect();

/** A column, or an expression such as `"priority" DESC` rendered as drizzle-kit renders it for indexes. */
function indexColumnName(column: SQLiteColumn | SQL): string {
  return is(column, SQL) ? dialect.sqlToQuery(column, 'indexes').sql : quote(column.name);
}

export function createTableSql(table: SQLiteTable): string {
  const config = getTableConfig(table);
  const definitions = config.columns.map(columnDefinition);
  for (const key of config.primaryKeys) {
    definitions.push(`PRIMARY KEY(${key.columns.map((c) => quote(c.name)).join(', ')})`);
  }
  for (const key of config.foreignKeys) {
    const { columns, foreignColumns, foreignTable } = key.reference();
    const names = (list: readonly SQLiteColumn[]) => list.map((c) => quote(c.name)).join(', ');
    definitions.push(
      `FOREIGN KEY (${names(columns)}) REFERENCES ${quote(getTableConfig(foreignTable).name)}(${names(foreignColumns)})` +
        ` ON UPDATE ${key.onUpdate ?? 'no action'} ON DELETE ${key.onDelete ?? 'no action'}`,
    );
  }
  return `CREATE TABLE ${quote(config.name)} (\n\t${definitions.join(',\n\t')}\n)`;
}

export function addColumnSql(table: SQLiteTable, column: SQLiteColumn): string {
  return `ALTER TABLE ${quote(getTableConfig(table).name)} ADD COLUMN ${columnDefinition(column)}`;
}

/**
 * `CREATE INDEX IF NOT EXISTS` for every index of `table`, and a unique index for each `unique()`
 * column, named as drizzle-kit names it: an index that exists under its name is left alone.
 */
export function createIndexesSql(table: SQLiteTable): string[] {
  const config = getTableConfig(table);
  const on = (name: string, unique: boolean, columns: readonly string[]) =>
    `CREATE ${unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quote(name)} ON ${quote(config.name)} (${columns.join(', ')})`;
  const uniqueColumns = config.columns.filter((c) => c.isUnique);
  return [
    ...config.indexes.map(({ config: index }) => on(index.name, index.unique, index.columns.map(indexColumnName))),
    ...uniqueColumns.map((c) => on(c.uniqueName ?? `${config.name}_${c.name}_unique`, true, [quote(c.name)])),
  ];
}
