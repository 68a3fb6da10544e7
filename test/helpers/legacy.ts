/**
 * Board files in the shapes the original Python program wrote, built from the facts of the reference
 * sheet (`shared/reference/kanban-model.md`, "Older files in the wild").
 */
import { execScript } from './temp';

const BASE_TASK_COLUMNS = [
  'id TEXT PRIMARY KEY',
  'title TEXT NOT NULL',
  'body TEXT',
  'assignee TEXT',
  'status TEXT NOT NULL',
  'priority INTEGER DEFAULT 0',
  'created_by TEXT',
  'created_at INTEGER NOT NULL',
  'started_at INTEGER',
  'completed_at INTEGER',
  "workspace_kind TEXT NOT NULL DEFAULT 'scratch'",
  'workspace_path TEXT',
  'claim_lock TEXT',
  'claim_expires INTEGER',
  'tenant TEXT',
  'result TEXT',
  'idempotency_key TEXT',
];
const RUN_COLUMNS = ['worker_pid INTEGER', 'max_runtime_seconds INTEGER', 'last_heartbeat_at INTEGER'];
const V5_TAIL = [
  'current_run_id INTEGER',
  'workflow_template_id TEXT',
  'current_step_key TEXT',
  'skills TEXT',
  'max_retries INTEGER',
];

/** The columns the newest original adds to task_runs, in its order (the fork's `_migrate_add_optional_columns`). */
export const NEWEST_RUN_COLUMNS = [
  'usage_report_path TEXT',
  'usage_report_ingested_at INTEGER',
  'estimated_cost_usd REAL',
  'cost_status TEXT',
  'cost_source TEXT',
  'input_tokens INTEGER',
  'output_tokens INTEGER',
  'cache_read_tokens INTEGER',
  'cache_write_tokens INTEGER',
  'reasoning_tokens INTEGER',
  'total_tokens INTEGER',
  'api_calls INTEGER',
  'model TEXT',
  'provider TEXT',
  'usage_session_id TEXT',
];

/** The columns the newest original adds to tasks (the fork's `_migrate_add_optional_columns`). */
export const NEWEST_TASK_COLUMNS = [
  'branch_name',
  'project_id',
  'model_override',
  'goal_mode',
  'goal_max_turns',
  'session_id',
  'block_kind',
  'block_recurrences',
  'plan_audit_required',
  'plan_audit_max_rounds',
  'budget_usd',
  'budget_spent_usd',
  'budget_unknown_cost_runs',
];

export interface LegacyShape {
  readonly name: string;
  readonly taskColumns: readonly string[];
  readonly eventsHaveRunId: boolean;
  readonly hasRuns: boolean;
  readonly hasNotify: boolean;
  /** Statements of later Python versions that this layer must leave alone. */
  readonly extra?: string;
  /** The columns of `kanban_notify_subs`, when they are not the early ones. */
  readonly notifyColumns?: string;
  /** The column holding the failure counter before adoption. */
  readonly counter: 'spawn_failures' | 'consecutive_failures';
}

const EARLY_NOTIFY_COLUMNS =
  "task_id TEXT NOT NULL, platform TEXT NOT NULL, chat_id TEXT NOT NULL, thread_id TEXT NOT NULL DEFAULT '', user_id TEXT, created_at INTEGER NOT NULL, last_event_id INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (task_id, platform, chat_id, thread_id)";

/** The fork's task columns the upstream never creates (the upstream's INSERTs name their columns, so the fork's fill with defaults). */
export const FORK_ONLY_TASK_COLUMNS = [
  'plan_audit_required',
  'plan_audit_max_rounds',
  'budget_usd',
  'budget_spent_usd',
  'budget_unknown_cost_runs',
];

/** The upstream's recipe tables, as `migrate_recipe_tables` creates them (kanban_recipes_store.py). */
export const UPSTREAM_RECIPE_TABLES = `CREATE TABLE IF NOT EXISTS recipe_instances (id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE, recipe_id TEXT NOT NULL, schema_version INTEGER NOT NULL,
    definition_digest TEXT NOT NULL, request_digest TEXT NOT NULL, definition_json TEXT NOT NULL, inputs_json TEXT NOT NULL,
    bindings_json TEXT NOT NULL, effective_plan_json TEXT NOT NULL, created_by TEXT, created_at INTEGER NOT NULL,
    imported INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS recipe_instance_tasks (instance_id TEXT NOT NULL REFERENCES recipe_instances(id) ON DELETE RESTRICT,
    node_key TEXT NOT NULL, task_id TEXT NOT NULL UNIQUE REFERENCES tasks(id) ON DELETE RESTRICT,
    PRIMARY KEY(instance_id, node_key));`;

const EARLY_COUNTER = ['spawn_failures INTEGER NOT NULL DEFAULT 0', 'last_spawn_error TEXT'];
const NEW_COUNTER = ['consecutive_failures INTEGER NOT NULL DEFAULT 0', 'last_failure_error TEXT'];

/** The tasks columns of the fork's newest version (1bf75bced), in its order. */
const FORK_NEWEST_TASK_COLUMNS = [
  ...BASE_TASK_COLUMNS.slice(0, 12),
  'branch_name TEXT',
  'project_id TEXT',
  ...BASE_TASK_COLUMNS.slice(12),
  ...NEW_COUNTER,
  ...RUN_COLUMNS,
  ...V5_TAIL.slice(0, 4),
  'model_override TEXT',
  'max_retries INTEGER',
  'goal_mode INTEGER NOT NULL DEFAULT 0',
  'goal_max_turns INTEGER',
  'session_id TEXT',
  'block_kind TEXT',
  'block_recurrences INTEGER NOT NULL DEFAULT 0',
  'plan_audit_required INTEGER NOT NULL DEFAULT 0',
  'plan_audit_max_rounds INTEGER',
  'budget_usd REAL',
  'budget_spent_usd REAL NOT NULL DEFAULT 0',
  'budget_unknown_cost_runs INTEGER NOT NULL DEFAULT 0',
];

/** The tables and indexes the newest versions of both lineages add to an older file. */
const NEWEST_TABLES_AND_INDEXES = `CREATE TABLE task_attachments (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, filename TEXT NOT NULL,
        stored_path TEXT NOT NULL, content_type TEXT, size INTEGER NOT NULL DEFAULT 0, uploaded_by TEXT, created_at INTEGER NOT NULL);
      CREATE INDEX idx_attachments_task ON task_attachments(task_id, created_at);
      CREATE INDEX idx_tasks_session_id ON tasks(session_id);
      CREATE INDEX idx_tasks_tenant ON tasks(tenant);
      CREATE INDEX idx_tasks_idempotency ON tasks(idempotency_key);
      CREATE INDEX idx_events_run ON task_events(run_id, id);`;

export const LEGACY_SHAPES: readonly LegacyShape[] = [
  {
    name: '1 early: spawn_failures, no runs, no notify, no skills, events without run_id',
    taskColumns: [...BASE_TASK_COLUMNS, ...EARLY_COUNTER, ...RUN_COLUMNS],
    eventsHaveRunId: false,
    hasRuns: false,
    hasNotify: false,
    counter: 'spawn_failures',
  },
  {
    name: '2 renamed in place: consecutive_failures, no max_retries',
    taskColumns: [...BASE_TASK_COLUMNS, ...NEW_COUNTER, ...RUN_COLUMNS, 'current_run_id INTEGER', 'skills TEXT'],
    eventsHaveRunId: true,
    hasRuns: true,
    hasNotify: false,
    counter: 'consecutive_failures',
  },
  {
    name: '3 both: old columns kept beside copied new ones',
    taskColumns: [...BASE_TASK_COLUMNS, ...EARLY_COUNTER, ...RUN_COLUMNS, ...NEW_COUNTER, 'current_run_id INTEGER'],
    eventsHaveRunId: true,
    hasRuns: true,
    hasNotify: true,
    counter: 'consecutive_failures',
  },
  {
    name: '4 without max_retries, skills, run_id, task_runs and notify subs',
    taskColumns: [...BASE_TASK_COLUMNS, ...NEW_COUNTER, ...RUN_COLUMNS],
    eventsHaveRunId: false,
    hasRuns: false,
    hasNotify: false,
    counter: 'consecutive_failures',
  },
  {
    name: '5 the bug report version',
    taskColumns: [...BASE_TASK_COLUMNS, ...NEW_COUNTER, ...RUN_COLUMNS, ...V5_TAIL],
    eventsHaveRunId: true,
    hasRuns: true,
    hasNotify: true,
    counter: 'consecutive_failures',
  },
  {
    name: '6 newer: extra columns and tables',
    taskColumns: [
      ...BASE_TASK_COLUMNS,
      'branch_name TEXT',
      'project_id TEXT',
      ...NEW_COUNTER,
      ...RUN_COLUMNS,
      ...V5_TAIL,
      'model_override TEXT',
      'session_id TEXT',
      'goal_mode INTEGER NOT NULL DEFAULT 0',
      'block_kind TEXT',
    ],
    eventsHaveRunId: true,
    hasRuns: true,
    hasNotify: true,
    counter: 'consecutive_failures',
    extra: `CREATE TABLE task_attachments (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, filename TEXT NOT NULL,
        stored_path TEXT NOT NULL, content_type TEXT, size INTEGER NOT NULL DEFAULT 0, uploaded_by TEXT, created_at INTEGER NOT NULL);
      CREATE INDEX idx_tasks_session_id ON tasks(session_id);
      INSERT INTO task_attachments (task_id, filename, stored_path, created_at) VALUES ('t_0000000a', 'a.pdf', '/x/a.pdf', 1700000000);`,
  },
  {
    name: '7 the newest version seen (1bf75bced): every column and table it adds',
    taskColumns: FORK_NEWEST_TASK_COLUMNS,
    eventsHaveRunId: true,
    hasRuns: true,
    hasNotify: true,
    counter: 'consecutive_failures',
    extra: `${NEWEST_RUN_COLUMNS.map((c) => `ALTER TABLE task_runs ADD COLUMN ${c};`).join('\n')}
      ALTER TABLE kanban_notify_subs ADD COLUMN notifier_profile TEXT;
      ${NEWEST_TABLES_AND_INDEXES}
      INSERT INTO task_events (task_id, kind, payload, created_at) VALUES ('t_00000006', 'scheduled', '{"reason":"after the release"}', 1700000006);
      UPDATE tasks SET status = 'scheduled' WHERE id = 't_00000006';`,
  },
  {
    name: '8 the upstream newest (NousResearch 00067189, 009af9c5): recipe tables, delivery modes, no fork-only columns',
    taskColumns: FORK_NEWEST_TASK_COLUMNS.filter((c) => !FORK_ONLY_TASK_COLUMNS.some((f) => c.startsWith(`${f} `)))
      .flatMap((c) => (c.startsWith('model_override ') ? [c, 'provider_override TEXT', 'reasoning_effort TEXT'] : [c]))
      .concat('completion_contract TEXT'),
    eventsHaveRunId: true,
    hasRuns: true,
    hasNotify: true,
    counter: 'consecutive_failures',
    notifyColumns: `task_id TEXT NOT NULL, platform TEXT NOT NULL, chat_id TEXT NOT NULL, thread_id TEXT NOT NULL DEFAULT '',
      user_id TEXT, user_id_alt TEXT, chat_type TEXT, notifier_profile TEXT, delivery_mode TEXT NOT NULL DEFAULT 'notify',
      delivery_metadata TEXT, created_at INTEGER NOT NULL, last_event_id INTEGER NOT NULL DEFAULT 0,
      last_ping_event_id INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (task_id, platform, chat_id, thread_id)`,
    extra: `${NEWEST_TABLES_AND_INDEXES}
      ${UPSTREAM_RECIPE_TABLES}
      INSERT INTO recipe_instances (id, idempotency_key, recipe_id, schema_version, definition_digest, request_digest,
        definition_json, inputs_json, bindings_json, effective_plan_json, created_at)
        VALUES ('ri_0123456789abcdef0123456789abcdef', 'key-1', 'release', 1, 'd', 'r', '{}', '{}', '{}', '{}', 1700000000);
      INSERT INTO recipe_instance_tasks (instance_id, node_key, task_id)
        VALUES ('ri_0123456789abcdef0123456789abcdef', 'build', 't_00000006');
      INSERT INTO kanban_notify_subs (task_id, platform, chat_id, delivery_mode, created_at) VALUES
        ('t_00000002', 'tui', 'local', 'notify', 1700000000), ('t_00000002', 'api_server', 'sess', 'wake', 1700000000);
      UPDATE tasks SET completion_contract = 'local-only', reasoning_effort = 'high' WHERE id = 't_00000005';`,
  },
];

const has = (shape: LegacyShape, column: string) => shape.taskColumns.some((c) => c.startsWith(`${column} `));

/** Creates a legacy file with `taskCount` tasks (a few of each status), links, comments, events with legacy kinds, runs and subscriptions. */
export async function writeLegacyBoard(path: string, shape: LegacyShape, taskCount = 12): Promise<void> {
  const counterCols =
    shape.counter === 'spawn_failures'
      ? 'spawn_failures, last_spawn_error'
      : 'consecutive_failures, last_failure_error';
  const copyCols =
    has(shape, 'spawn_failures') && has(shape, 'consecutive_failures') ? ', spawn_failures, last_spawn_error' : '';
  const copyVals = copyCols ? ", n % 3, CASE WHEN n % 3 > 0 THEN 'spawn error ' || n END" : '';
  const statuses =
    "CASE n % 7 WHEN 0 THEN 'triage' WHEN 1 THEN 'todo' WHEN 2 THEN 'ready' WHEN 3 THEN 'running' WHEN 4 THEN 'blocked' WHEN 5 THEN 'done' ELSE 'archived' END";
  await execScript(
    path,
    `
    CREATE TABLE tasks (${shape.taskColumns.join(', ')});
    CREATE TABLE task_links (parent_id TEXT NOT NULL, child_id TEXT NOT NULL, PRIMARY KEY (parent_id, child_id));
    CREATE TABLE task_comments (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, author TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE task_events (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, ${shape.eventsHaveRunId ? 'run_id INTEGER,' : ''} kind TEXT NOT NULL, payload TEXT, created_at INTEGER NOT NULL);
    ${shape.hasRuns ? `CREATE TABLE task_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, profile TEXT, step_key TEXT, status TEXT NOT NULL, claim_lock TEXT, claim_expires INTEGER, worker_pid INTEGER, max_runtime_seconds INTEGER, last_heartbeat_at INTEGER, started_at INTEGER NOT NULL, ended_at INTEGER, outcome TEXT, summary TEXT, metadata TEXT, error TEXT);` : ''}
    ${shape.hasNotify ? `CREATE TABLE kanban_notify_subs (${shape.notifyColumns ?? EARLY_NOTIFY_COLUMNS});` : ''}
    CREATE INDEX idx_tasks_status ON tasks(status);
    WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${taskCount})
    INSERT INTO tasks (id, title, body, assignee, status, priority, created_at, started_at, claim_lock, claim_expires, ${counterCols}${copyCols})
      SELECT printf('t_%08x', n), 'task ' || n, 'body ' || n, CASE WHEN n % 2 = 0 THEN 'worker' END, ${statuses}, n % 5, 1700000000 + n,
        CASE WHEN n % 7 = 3 THEN 1700000100 + n END, CASE WHEN n % 7 = 3 THEN 'host:' || n END, CASE WHEN n % 7 = 3 THEN 1700001000 + n END,
        n % 3, CASE WHEN n % 3 > 0 THEN 'spawn error ' || n END${copyVals}
      FROM seq;
    INSERT INTO task_links (parent_id, child_id) SELECT printf('t_%08x', 1), printf('t_%08x', 2);
    INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t_00000001', 'ana', 'first', 1700000500);
    INSERT INTO task_events (task_id, kind, payload, created_at) VALUES
      ('t_00000001', 'created', '{"by":"ana"}', 1700000001), ('t_00000002', 'ready', NULL, 1700000002),
      ('t_00000003', 'priority', '{"priority":3}', 1700000003), ('t_00000004', 'spawn_auto_blocked', '{"failures":2}', 1700000004),
      ('t_00000005', 'completed', 'not json {', 1700000005);
    ${shape.hasNotify ? "INSERT INTO kanban_notify_subs (task_id, platform, chat_id, created_at, last_event_id) VALUES ('t_00000001', 'slack', 'c1', 1700000000, 1);" : ''}
    ${has(shape, 'current_run_id') && shape.hasRuns ? "INSERT INTO task_runs (task_id, status, started_at) VALUES ('t_0000000a', 'running', 1700000110); UPDATE tasks SET current_run_id = last_insert_rowid() WHERE id = 't_0000000a';" : ''}
    ${shape.extra ?? ''}
    `,
  );
}

/** The shape whose name starts with `number` and a space. */
export function shapeNamed(number: string): LegacyShape {
  const shape = LEGACY_SHAPES.find((s) => s.name.startsWith(`${number} `));
  if (!shape) throw new Error(`no legacy shape ${number}`);
  return shape;
}

export const EARLIEST_SHAPE = shapeNamed('1');
/** The fork's newest shape (1bf75bced). */
export const NEWEST_SHAPE = shapeNamed('7');
