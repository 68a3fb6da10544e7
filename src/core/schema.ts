/**
 * The kanban schema, declared once. SQL names, types and defaults follow the files the original
 * Python program writes (hermes_cli/kanban_db.py `SCHEMA_SQL` and the columns its
 * `_migrate_add_optional_columns` adds; the README's table of versions lists them), so both
 * programs can share one `kanban.db`: no CHECK constraints, because existing files could violate
 * them, and foreign keys only where the upstream declares them (its recipe tables).
 */
import { sql } from 'drizzle-orm';
import { customType, index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * JSON stored as TEXT. Reading is lenient like the Python program's `_json_or`: a value that other
 * writers left malformed reads as null instead of making every listing of the board throw.
 */
const jsonText = <T>(name: string) =>
  customType<{ data: T | null; driverData: string | null }>({
    dataType: () => 'text',
    // Prepared statements hand null to the encoder too: it stays SQL NULL, not the text 'null'.
    toDriver: (value) => (value === null ? null : JSON.stringify(value)),
    fromDriver: (value) => parseJsonOrNull<T>(value),
  })(name);

export function parseJsonOrNull<T>(value: string | null): T | null {
  if (value === null) return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

import { BLOCK_KINDS, DELIVERY_MODES, RUN_OUTCOMES, RUN_STATUSES, TASK_STATUSES, WORKSPACE_KINDS } from './model';

export { BLOCK_KINDS, DELIVERY_MODES, RUN_OUTCOMES, RUN_STATUSES, TASK_STATUSES, WORKSPACE_KINDS };

export const tasks = sqliteTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    body: text('body'),
    assignee: text('assignee'),
    status: text('status', { enum: TASK_STATUSES }).notNull(),
    priority: integer('priority').default(0),
    createdBy: text('created_by'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    completedAt: integer('completed_at'),
    workspaceKind: text('workspace_kind', { enum: WORKSPACE_KINDS }).notNull().default('scratch'),
    workspacePath: text('workspace_path'),
    claimLock: text('claim_lock'),
    claimExpires: integer('claim_expires'),
    tenant: text('tenant'),
    result: text('result'),
    idempotencyKey: text('idempotency_key'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    workerPid: integer('worker_pid'),
    lastFailureError: text('last_failure_error'),
    maxRuntimeSeconds: integer('max_runtime_seconds'),
    lastHeartbeatAt: integer('last_heartbeat_at'),
    currentRunId: integer('current_run_id'),
    workflowTemplateId: text('workflow_template_id'),
    currentStepKey: text('current_step_key'),
    skills: jsonText<string[]>('skills'),
    maxRetries: integer('max_retries'),
    // Columns of the fork's newest version (1bf75bced): kanban-db reads the ones its rules need
    // (block kind and recurrences, the claim gates) and carries the others for the original.
    branchName: text('branch_name'),
    projectId: text('project_id'),
    modelOverride: text('model_override'),
    goalMode: integer('goal_mode').notNull().default(0),
    goalMaxTurns: integer('goal_max_turns'),
    sessionId: text('session_id'),
    blockKind: text('block_kind', { enum: BLOCK_KINDS }),
    blockRecurrences: integer('block_recurrences').notNull().default(0),
    planAuditRequired: integer('plan_audit_required').notNull().default(0),
    planAuditMaxRounds: integer('plan_audit_max_rounds'),
    budgetUsd: real('budget_usd'),
    budgetSpentUsd: real('budget_spent_usd').notNull().default(0),
    budgetUnknownCostRuns: integer('budget_unknown_cost_runs').notNull().default(0),
    // The upstream's per-task routing (kanban_db.py `set_model_override`, `set_reasoning_effort`) and
    // its PR acceptance contract; kanban-db writes the first two and carries the third.
    providerOverride: text('provider_override'),
    reasoningEffort: text('reasoning_effort'),
    completionContract: text('completion_contract'),
  },
  (t) => [
    index('idx_tasks_assignee_status').on(t.assignee, t.status),
    index('idx_tasks_status').on(t.status),
    index('idx_tasks_tenant').on(t.tenant),
    index('idx_tasks_idempotency').on(t.idempotencyKey),
    // The dispatcher's claim order, so picking the next ready task reads one index entry instead
    // of sorting every ready task (bench row 6: a 10,000-task board claimed about 1.8× faster).
    index('idx_tasks_claim_order').on(t.status, sql`${t.priority} DESC`, t.createdAt, t.id),
    index('idx_tasks_session_id').on(t.sessionId),
  ],
);

export const taskLinks = sqliteTable(
  'task_links',
  {
    parentId: text('parent_id').notNull(),
    childId: text('child_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.parentId, t.childId] }),
    index('idx_links_child').on(t.childId),
    index('idx_links_parent').on(t.parentId),
  ],
);

export const taskComments = sqliteTable(
  'task_comments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    taskId: text('task_id').notNull(),
    author: text('author').notNull(),
    body: text('body').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('idx_comments_task').on(t.taskId, t.createdAt)],
);

export const taskEvents = sqliteTable(
  'task_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    taskId: text('task_id').notNull(),
    runId: integer('run_id'),
    kind: text('kind').notNull(),
    payload: jsonText<Record<string, unknown>>('payload'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('idx_events_task').on(t.taskId, t.createdAt), index('idx_events_run').on(t.runId, t.id)],
);

export const taskRuns = sqliteTable(
  'task_runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    taskId: text('task_id').notNull(),
    profile: text('profile'),
    stepKey: text('step_key'),
    status: text('status', { enum: RUN_STATUSES }).notNull(),
    claimLock: text('claim_lock'),
    claimExpires: integer('claim_expires'),
    workerPid: integer('worker_pid'),
    maxRuntimeSeconds: integer('max_runtime_seconds'),
    lastHeartbeatAt: integer('last_heartbeat_at'),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at'),
    outcome: text('outcome', { enum: RUN_OUTCOMES }),
    summary: text('summary'),
    metadata: jsonText<Record<string, unknown>>('metadata'),
    error: text('error'),
    // The fork's usage accounting (its `_record_run_usage_report`), carried for it.
    usageReportPath: text('usage_report_path'),
    usageReportIngestedAt: integer('usage_report_ingested_at'),
    estimatedCostUsd: real('estimated_cost_usd'),
    costStatus: text('cost_status'),
    costSource: text('cost_source'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    cacheReadTokens: integer('cache_read_tokens'),
    cacheWriteTokens: integer('cache_write_tokens'),
    reasoningTokens: integer('reasoning_tokens'),
    totalTokens: integer('total_tokens'),
    apiCalls: integer('api_calls'),
    model: text('model'),
    provider: text('provider'),
    usageSessionId: text('usage_session_id'),
  },
  (t) => [index('idx_runs_task').on(t.taskId, t.startedAt), index('idx_runs_status').on(t.status)],
);

export const kanbanNotifySubs = sqliteTable(
  'kanban_notify_subs',
  {
    taskId: text('task_id').notNull(),
    platform: text('platform').notNull(),
    chatId: text('chat_id').notNull(),
    threadId: text('thread_id').notNull().default(''),
    userId: text('user_id'),
    createdAt: integer('created_at').notNull(),
    lastEventId: integer('last_event_id').notNull().default(0),
    notifierProfile: text('notifier_profile'),
    // The upstream's delivery routing (kanban_db_notify.py `add_notify_sub`), carried for its notifier.
    userIdAlt: text('user_id_alt'),
    chatType: text('chat_type'),
    deliveryMode: text('delivery_mode', { enum: DELIVERY_MODES }).notNull().default('notify'),
    deliveryMetadata: text('delivery_metadata'),
    lastPingEventId: integer('last_ping_event_id').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.platform, t.chatId, t.threadId] }), index('idx_notify_task').on(t.taskId)],
);

/** Files attached to a task by the newest original; the blobs live outside the database. */
export const taskAttachments = sqliteTable(
  'task_attachments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    taskId: text('task_id').notNull(),
    filename: text('filename').notNull(),
    storedPath: text('stored_path').notNull(),
    contentType: text('content_type'),
    size: integer('size').notNull().default(0),
    uploadedBy: text('uploaded_by'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('idx_attachments_task').on(t.taskId, t.createdAt)],
);

/**
 * The upstream's recipe instances (kanban_recipes_store.py `migrate_recipe_tables`): a recipe run
 * and the tasks it created. Their foreign keys restrict deleting those tasks, which the upstream
 * enforces with `PRAGMA foreign_keys=ON` on every connection, as kanban-db does.
 */
export const recipeInstances = sqliteTable('recipe_instances', {
  id: text('id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  recipeId: text('recipe_id').notNull(),
  schemaVersion: integer('schema_version').notNull(),
  definitionDigest: text('definition_digest').notNull(),
  requestDigest: text('request_digest').notNull(),
  definitionJson: text('definition_json').notNull(),
  inputsJson: text('inputs_json').notNull(),
  bindingsJson: text('bindings_json').notNull(),
  effectivePlanJson: text('effective_plan_json').notNull(),
  createdBy: text('created_by'),
  createdAt: integer('created_at').notNull(),
  imported: integer('imported').notNull().default(0),
});

export const recipeInstanceTasks = sqliteTable(
  'recipe_instance_tasks',
  {
    instanceId: text('instance_id')
      .notNull()
      .references(() => recipeInstances.id, { onDelete: 'restrict' }),
    nodeKey: text('node_key').notNull(),
    taskId: text('task_id')
      .notNull()
      .unique()
      .references(() => tasks.id, { onDelete: 'restrict' }),
  },
  (t) => [primaryKey({ columns: [t.instanceId, t.nodeKey] })],
);

export type Task = typeof tasks.$inferSelect;
export type BlockKind = (typeof BLOCK_KINDS)[number];
export type Attachment = typeof taskAttachments.$inferSelect;
export type NewTask = typeof tasks.$inferInsert;
export type { TaskStatus } from './model';
export type TaskLink = typeof taskLinks.$inferSelect;
export type Comment = typeof taskComments.$inferSelect;
export type TaskEvent = typeof taskEvents.$inferSelect;
export type Run = typeof taskRuns.$inferSelect;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];
export type RunStatus = (typeof RUN_STATUSES)[number];
export type NotifySubscription = typeof kanbanNotifySubs.$inferSelect;
