/**
 * The kanban schema for PostgreSQL: the same tables, columns, nullability, defaults and indexes as
 * the SQLite schema (`src/core/schema.ts`; a test holds them equal), so a board means the same on
 * either engine. Times stay epoch seconds and JSON stays text, as in the file; ids, counters of
 * events and times are 64-bit (`bigint` read as a number) as SQLite's integers are.
 */
import { sql } from 'drizzle-orm';
import { bigint, customType, doublePrecision, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import {
  BLOCK_KINDS,
  DELIVERY_MODES,
  parseJsonOrNull,
  RUN_OUTCOMES,
  RUN_STATUSES,
  TASK_STATUSES,
  WORKSPACE_KINDS,
} from '../../core/schema';

/** JSON stored as text, read leniently, as the SQLite schema's `jsonText`. */
const jsonText = <T>(name: string) =>
  customType<{ data: T | null; driverData: string | null }>({
    dataType: () => 'text',
    toDriver: (value) => (value === null ? null : JSON.stringify(value)),
    fromDriver: (value) => parseJsonOrNull<T>(value),
  })(name);

/** A 64-bit integer read as a JavaScript number: ids and epoch seconds, as SQLite's INTEGER. */
const int64 = (name: string) => bigint(name, { mode: 'number' });
/** An id the database numbers, which a copy between engines may also set (so it keeps event ids). */
const serialId = (name: string) => int64(name).primaryKey().generatedByDefaultAsIdentity();

export const tasks = pgTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    body: text('body'),
    assignee: text('assignee'),
    status: text('status', { enum: TASK_STATUSES }).notNull(),
    priority: integer('priority').default(0),
    createdBy: text('created_by'),
    createdAt: int64('created_at').notNull(),
    startedAt: int64('started_at'),
    completedAt: int64('completed_at'),
    workspaceKind: text('workspace_kind', { enum: WORKSPACE_KINDS }).notNull().default('scratch'),
    workspacePath: text('workspace_path'),
    claimLock: text('claim_lock'),
    claimExpires: int64('claim_expires'),
    tenant: text('tenant'),
    result: text('result'),
    idempotencyKey: text('idempotency_key'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    workerPid: integer('worker_pid'),
    lastFailureError: text('last_failure_error'),
    maxRuntimeSeconds: int64('max_runtime_seconds'),
    lastHeartbeatAt: int64('last_heartbeat_at'),
    currentRunId: int64('current_run_id'),
    workflowTemplateId: text('workflow_template_id'),
    currentStepKey: text('current_step_key'),
    skills: jsonText<string[]>('skills'),
    maxRetries: integer('max_retries'),
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
    budgetUsd: doublePrecision('budget_usd'),
    budgetSpentUsd: doublePrecision('budget_spent_usd').notNull().default(0),
    budgetUnknownCostRuns: integer('budget_unknown_cost_runs').notNull().default(0),
    providerOverride: text('provider_override'),
    reasoningEffort: text('reasoning_effort'),
    completionContract: text('completion_contract'),
  },
  (t) => [
    index('idx_tasks_assignee_status').on(t.assignee, t.status),
    index('idx_tasks_status').on(t.status),
    index('idx_tasks_tenant').on(t.tenant),
    index('idx_tasks_idempotency').on(t.idempotencyKey),
    index('idx_tasks_claim_order').on(t.status, sql`${t.priority} DESC NULLS LAST`, t.createdAt, t.id),
    index('idx_tasks_session_id').on(t.sessionId),
  ],
);

export const taskLinks = pgTable(
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

export const taskComments = pgTable(
  'task_comments',
  {
    id: serialId('id'),
    taskId: text('task_id').notNull(),
    author: text('author').notNull(),
    body: text('body').notNull(),
    createdAt: int64('created_at').notNull(),
  },
  (t) => [index('idx_comments_task').on(t.taskId, t.createdAt)],
);

export const taskEvents = pgTable(
  'task_events',
  {
    id: serialId('id'),
    taskId: text('task_id').notNull(),
    runId: int64('run_id'),
    kind: text('kind').notNull(),
    payload: jsonText<Record<string, unknown>>('payload'),
    createdAt: int64('created_at').notNull(),
  },
  (t) => [index('idx_events_task').on(t.taskId, t.createdAt), index('idx_events_run').on(t.runId, t.id)],
);

export const taskRuns = pgTable(
  'task_runs',
  {
    id: serialId('id'),
    taskId: text('task_id').notNull(),
    profile: text('profile'),
    stepKey: text('step_key'),
    status: text('status', { enum: RUN_STATUSES }).notNull(),
    claimLock: text('claim_lock'),
    claimExpires: int64('claim_expires'),
    workerPid: integer('worker_pid'),
    maxRuntimeSeconds: int64('max_runtime_seconds'),
    lastHeartbeatAt: int64('last_heartbeat_at'),
    startedAt: int64('started_at').notNull(),
    endedAt: int64('ended_at'),
    outcome: text('outcome', { enum: RUN_OUTCOMES }),
    summary: text('summary'),
    metadata: jsonText<Record<string, unknown>>('metadata'),
    error: text('error'),
    usageReportPath: text('usage_report_path'),
    usageReportIngestedAt: int64('usage_report_ingested_at'),
    estimatedCostUsd: doublePrecision('estimated_cost_usd'),
    costStatus: text('cost_status'),
    costSource: text('cost_source'),
    inputTokens: int64('input_tokens'),
    outputTokens: int64('output_tokens'),
    cacheReadTokens: int64('cache_read_tokens'),
    cacheWriteTokens: int64('cache_write_tokens'),
    reasoningTokens: int64('reasoning_tokens'),
    totalTokens: int64('total_tokens'),
    apiCalls: integer('api_calls'),
    model: text('model'),
    provider: text('provider'),
    usageSessionId: text('usage_session_id'),
  },
  (t) => [index('idx_runs_task').on(t.taskId, t.startedAt), index('idx_runs_status').on(t.status)],
);

export const kanbanNotifySubs = pgTable(
  'kanban_notify_subs',
  {
    taskId: text('task_id').notNull(),
    platform: text('platform').notNull(),
    chatId: text('chat_id').notNull(),
    threadId: text('thread_id').notNull().default(''),
    userId: text('user_id'),
    createdAt: int64('created_at').notNull(),
    lastEventId: int64('last_event_id').notNull().default(0),
    notifierProfile: text('notifier_profile'),
    userIdAlt: text('user_id_alt'),
    chatType: text('chat_type'),
    deliveryMode: text('delivery_mode', { enum: DELIVERY_MODES }).notNull().default('notify'),
    deliveryMetadata: text('delivery_metadata'),
    lastPingEventId: int64('last_ping_event_id').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.platform, t.chatId, t.threadId] }), index('idx_notify_task').on(t.taskId)],
);

export const taskAttachments = pgTable(
  'task_attachments',
  {
    id: serialId('id'),
    taskId: text('task_id').notNull(),
    filename: text('filename').notNull(),
    storedPath: text('stored_path').notNull(),
    contentType: text('content_type'),
    size: int64('size').notNull().default(0),
    uploadedBy: text('uploaded_by'),
    createdAt: int64('created_at').notNull(),
  },
  (t) => [index('idx_attachments_task').on(t.taskId, t.createdAt)],
);

export const recipeInstances = pgTable('recipe_instances', {
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
  createdAt: int64('created_at').notNull(),
  imported: integer('imported').notNull().default(0),
});

export const recipeInstanceTasks = pgTable(
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
