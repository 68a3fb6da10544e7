/**
 * Adoption of a `kanban.db` that the original Python program wrote, at any of its schema versions.
 * Runs inside the migration's write transaction, so a crash or a refusal leaves the file as it was.
 * Nothing is dropped or rewritten beyond what the original's own upgrade does (hermes_cli/
 * kanban_db_connect.py `_migrate_add_optional_columns`); unknown columns and tables are left alone.
 */
import { getTableConfig } from 'drizzle-orm/sqlite-core';
import { KanbanError } from '../../errors';
import { applyMissing, schemaObjects } from './catalog';
import { rawRows, type Connection } from './connect';
import { addColumnSql, canAddColumn, createIndexesSql, createTableSql, KANBAN_TABLES, quote } from './ddl';

export interface AdoptionReport {
  readonly createdTables: readonly string[];
  /** `table.column` for each column added. */
  readonly addedColumns: readonly string[];
  /** Legacy columns whose values were copied into their successors (`spawn_failures → consecutive_failures`). */
  readonly copiedColumns: readonly string[];
  /** Added columns given the values the original gives old rows (`kanban_notify_subs.delivery_mode`). */
  readonly backfilledColumns: readonly string[];
  /** `task_runs` rows synthesised for `running` tasks that had none. */
  readonly backfilledRuns: number;
  /** Events whose legacy kind was renamed. */
  readonly renamedEvents: number;
}

/** Legacy columns and the columns that replaced them. */
const RENAMED_COLUMNS = [
  { table: 'tasks', from: 'spawn_failures', to: 'consecutive_failures' },
  { table: 'tasks', from: 'last_spawn_error', to: 'last_failure_error' },
] as const;

const RENAMED_EVENT_KINDS: Readonly<Record<string, string>> = {
  ready: 'promoted',
  priority: 'reprioritized',
  spawn_auto_blocked: 'gave_up',
};

function tableNames(conn: Connection): Set<string> {
  return new Set(rawRows(conn, "SELECT name FROM sqlite_master WHERE type = 'table'").map((row) => String(row[0])));
}

function columnNames(conn: Connection, table: string): Set<string> {
  return new Set(rawRows(conn, 'SELECT name FROM pragma_table_info(?)', table).map((row) => String(row[0])));
}

/** True when the file holds any table of the kanban schema, i.e. it was written by another program. */
export function holdsKanbanTables(conn: Connection): boolean {
  const names = tableNames(conn);
  return KANBAN_TABLES.some((table) => names.has(getTableConfig(table).name));
}

export function adoptExistingFile(conn: Connection, now: number): AdoptionReport {
  const present = schemaObjects(conn);
  const createdTables: string[] = [];
  const addedColumns: string[] = [];
  for (const table of KANBAN_TABLES) {
    const config = getTableConfig(table);
    if (!present.has(`table:${config.name}`)) {
      conn.exec(createTableSql(table));
      createdTables.push(config.name);
      continue;
    }
    for (const column of config.columns) {
      if (present.has(`column:${config.name}.${column.name}`)) continue;
      if (!canAddColumn(column)) {
        throw new KanbanError(
          'UNRECOGNISED_SCHEMA',
          `Table ${config.name} lacks the required column ${column.name}, which no known version of the board lacks; the file was left unchanged`,
        );
      }
      conn.exec(addColumnSql(table, column));
      addedColumns.push(`${config.name}.${column.name}`);
    }
  }
  const filled = fillAddedColumns(conn, addedColumns, present);
  // Indexes last: an index on a column an old file lacked can only exist once the column does.
  for (const table of KANBAN_TABLES) applyMissing(conn, createIndexesSql(table), present);
  return {
    createdTables,
    addedColumns,
    ...filled,
    backfilledRuns: backfillOpenRuns(conn, now),
    renamedEvents: renameLegacyEventKinds(conn),
  };
}

/**
 * What the original does right after adding a column (`table.column`) to a file that lacked it,
 * done by adoption and by migrations alike so both programs agree on old rows: a successor column
 * takes its legacy column's values; the upstream's `delivery_mode` marks every subscriber but the
 * terminal UI's `notify+wake` (kanban_db_connect.py `_migrate_add_optional_columns`).
 */
export function fillAddedColumns(
  conn: Connection,
  added: readonly string[],
  present: ReadonlySet<string>,
): Pick<AdoptionReport, 'copiedColumns' | 'backfilledColumns'> {
  const copiedColumns: string[] = [];
  const backfilledColumns: string[] = [];
  for (const { table, from, to } of RENAMED_COLUMNS) {
    if (!added.includes(`${table}.${to}`) || !present.has(`column:${table}.${from}`)) continue;
    conn.exec(`UPDATE ${quote(table)} SET ${quote(to)} = COALESCE(${quote(from)}, ${quote(to)})`);
    copiedColumns.push(`${table}.${from} → ${to}`);
  }
  if (added.includes('kanban_notify_subs.delivery_mode')) {
    conn.exec("UPDATE kanban_notify_subs SET delivery_mode = 'notify+wake' WHERE platform != 'tui'");
    backfilledColumns.push('kanban_notify_subs.delivery_mode');
  }
  return { copiedColumns, backfilledColumns };
}

/** A `running` task from before runs existed gets one synthesised open run, once. */
function backfillOpenRuns(conn: Connection, now: number): number {
  const inserted = conn
    .prepare(
      `INSERT INTO task_runs (task_id, profile, status, claim_lock, claim_expires, worker_pid,
            max_runtime_seconds, last_heartbeat_at, started_at)
          SELECT t.id, t.assignee, 'running', t.claim_lock, t.claim_expires, t.worker_pid,
            t.max_runtime_seconds, t.last_heartbeat_at, COALESCE(t.started_at, ?)
          FROM tasks t
          WHERE t.status = 'running' AND t.current_run_id IS NULL
            AND NOT EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = t.id AND r.ended_at IS NULL)`,
    )
    .run(now);
  conn.exec(`UPDATE tasks SET current_run_id = (
      SELECT MAX(r.id) FROM task_runs r WHERE r.task_id = tasks.id AND r.ended_at IS NULL)
    WHERE status = 'running' AND current_run_id IS NULL`);
  return inserted.changes;
}

function renameLegacyEventKinds(conn: Connection): number {
  const legacy = Object.keys(RENAMED_EVENT_KINDS);
  const cases = legacy.map((kind) => `WHEN '${kind}' THEN '${RENAMED_EVENT_KINDS[kind]}'`).join(' ');
  const sql = `UPDATE task_events SET kind = CASE kind ${cases} END WHERE kind IN (${legacy.map(() => '?').join(', ')})`;
  return conn.prepare(sql).run(...legacy).changes;
}

/**
 * Versions of the original before `consecutive_failures` count failures in `spawn_failures` and
 * keep the error in `last_spawn_error`. Where a file still has those columns, an older original
 * may go on writing them after adoption, so triggers copy each write of either column of a pair
 * into the other: a failure recorded by either program is seen by both breakers, and a reset by
 * either resets both. They are plain SQL triggers, so the original opens and uses the file as
 * before; a trigger's own write does not set off the other (SQLite's recursive_triggers is off,
 * and the WHEN clauses skip rows already equal).
 */
export function keepLegacyCountersInStep(conn: Connection): void {
  const columns = columnNames(conn, 'tasks');
  for (const { from, to } of RENAMED_COLUMNS) {
    if (!columns.has(from) || !columns.has(to)) continue;
    for (const [source, target] of [
      [from, to],
      [to, from],
    ] as const) {
      conn.exec(`CREATE TRIGGER IF NOT EXISTS ${quote(`kanban_db_sync_${source}_to_${target}`)}
        AFTER UPDATE OF ${quote(source)} ON tasks
        WHEN NEW.${quote(source)} IS NOT NEW.${quote(target)} AND NEW.${quote(target)} IS OLD.${quote(target)}
        BEGIN UPDATE tasks SET ${quote(target)} = NEW.${quote(source)} WHERE id = NEW.id; END`);
    }
  }
}
