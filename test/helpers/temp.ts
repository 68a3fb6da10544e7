import { createClient, type Client, type InValue, type Row } from '@libsql/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Runs `fn` with a new temporary folder and removes it afterwards, whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-db-test-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A plain libSQL connection, for building and inspecting files the way another program would. */
export function rawClient(path: string): Client {
  return createClient({ url: pathToFileURL(path).href, timeout: 10_000 });
}

export async function query(path: string, sql: string, args: InValue[] = []): Promise<Row[]> {
  const client = rawClient(path);
  try {
    return (await client.execute({ sql, args })).rows;
  } finally {
    client.close();
  }
}

export async function execScript(path: string, script: string): Promise<void> {
  const client = rawClient(path);
  try {
    await client.executeMultiple(script);
  } finally {
    client.close();
  }
}

/** Every table's columns (name, declared type, not-null, default, pk) and every index, for comparing schemas. */
export interface ColumnShape {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}
export interface TableShape {
  columns: ColumnShape[];
  indexes: Record<string, string[]>;
}

export async function schemaOf(path: string): Promise<Record<string, TableShape>> {
  const tables = await query(
    path,
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  const out: Record<string, TableShape> = {};
  for (const { name } of tables) {
    const columns = await query(
      path,
      'SELECT name, upper(type) AS type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid',
      [String(name)],
    );
    // A unique index is named by its columns: the upstream declares `UNIQUE` inline (an autoindex), drizzle an index.
    const indexes = await query(
      path,
      `SELECT name, "unique" FROM pragma_index_list(?) WHERE origin = 'c' OR (origin = 'u' AND "unique" = 1) ORDER BY name`,
      [String(name)],
    );
    const indexColumns: Record<string, string[]> = {};
    for (const index of indexes) {
      const cols = await query(path, 'SELECT name, "desc" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno', [
        String(index.name),
      ]);
      const names = cols.map((c) => `${String(c.name)}${Number(c.desc) ? ' DESC' : ''}`);
      indexColumns[Number(index.unique) ? `unique(${names.join(',')})` : String(index.name)] = names;
    }
    out[String(name)] = {
      columns: columns.map((c) => ({
        name: String(c.name),
        type: String(c.type),
        notnull: Number(c.notnull),
        dflt_value: c.dflt_value === null ? null : String(c.dflt_value),
        pk: Number(c.pk),
      })),
      indexes: indexColumns,
    };
  }
  return out;
}
