/**
 * What a file already holds, read once per migration pass, and what a DDL statement would add: so
 * a statement whose object the original already created is skipped instead of failing ("duplicate
 * column") or adding a second copy (a unique index beside the upstream's inline `UNIQUE`).
 */
import { type Connection, rawRows } from './connect';

/**
 * Every table, index and column of the file as `table:t`, `index:i`, `column:t.c`, and every unique
 * index (named or SQLite's autoindex of an inline `UNIQUE`) as `unique:t(c1,c2)`.
 */
export function schemaObjects(conn: Connection): Set<string> {
  const rows = rawRows(
    conn,
    `SELECT m.type || ':' || m.name FROM sqlite_master m WHERE m.type IN ('table', 'index')
     UNION ALL SELECT 'column:' || m.name || '.' || c.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table'
     UNION ALL SELECT 'unique:' || m.name || '(' || (SELECT group_concat(name, ',') FROM
         (SELECT i.name FROM pragma_index_info(l.name) i ORDER BY i.seqno)) || ')'
       FROM sqlite_master m, pragma_index_list(m.name) l WHERE m.type = 'table' AND l."unique" = 1 AND l.partial = 0`,
  );
  return new Set(rows.map((row) => String(row[0])));
}

/** What a DDL statement creates, named as `schemaObjects` names it; a unique index also by its columns. */
export function createdBy(statement: string): string[] {
  const sql = statement.trim();
  const column = /^ALTER TABLE `([^`]+)` ADD (?:COLUMN )?`([^`]+)`/.exec(sql);
  if (column) return [`column:${column[1]}.${column[2]}`];
  const unique = /^CREATE UNIQUE INDEX (?:IF NOT EXISTS )?`([^`]+)` ON `([^`]+)` \(([^)]+)\)/.exec(sql);
  if (unique) return [`index:${unique[1]}`, `unique:${unique[2]}(${unique[3]?.replace(/[`\s]/g, '')})`];
  const object = /^CREATE (TABLE|INDEX) (?:IF NOT EXISTS )?`([^`]+)`/.exec(sql);
  return object ? [`${object[1]?.toLowerCase()}:${object[2]}`] : [];
}

/**
 * Runs each statement unless the file already has what it creates; returns the `column:t.c` keys
 * of the columns it added, so their follow-up (a copy, a backfill) runs exactly when they are new.
 */
export function applyMissing(conn: Connection, statements: readonly string[], present: Set<string>): string[] {
  const added: string[] = [];
  for (const statement of statements) {
    const creates = createdBy(statement);
    if (!statement.trim() || creates.some((key) => present.has(key))) continue;
    conn.exec(statement);
    for (const key of creates) present.add(key);
    added.push(...creates.filter((key) => key.startsWith('column:')));
  }
  return added;
}
