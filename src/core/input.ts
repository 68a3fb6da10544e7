/**
 * Input checking at the boundary: every method parses its input here before it touches the file.
 * Column rules come from the Drizzle schema through drizzle-zod; the rest follow the original's
 * checks (upstream hermes_cli/kanban_db.py), named where they are made.
 */
import { createInsertSchema } from 'drizzle-zod';
import { z } from 'zod';
import { KanbanError } from '../errors';
import { BLOCK_KINDS, DELIVERY_MODES, type RUN_OUTCOMES, TASK_STATUSES, tasks } from './schema';

/**
 * SQLite's text ends at a NUL byte through this driver, so a value holding one would be cut
 * silently: it is refused instead, naming the field.
 */
const NO_NUL = { message: 'contains a NUL byte (\\0), which the board cannot store; remove it' };
const plain = z.string().refine((value) => !value.includes('\0'), NO_NUL);
const text = plain.trim().min(1);
const count = z.int().min(0);
const taskId = text;
const assignee = plain.trim().toLowerCase().min(1);

/**
 * A task's reasoning effort (upstream `set_reasoning_effort`): `none` turns thinking off, the others
 * are `hermes_constants.VALID_REASONING_EFFORTS`; NULL inherits the worker profile's.
 */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max', 'ultra'] as const;

const taskColumns = createInsertSchema(tasks, {
  title: text,
  body: plain.nullish(),
  tenant: plain.nullish(),
  idempotencyKey: plain.nullish(),
  createdBy: plain.nullish(),
  workspacePath: plain.nullish(),
  assignee: assignee.nullish(),
  skills: z.array(plain).nullish(),
  maxRetries: z.int().min(1).nullish(),
  maxRuntimeSeconds: z.int().min(1).nullish(),
  modelOverride: plain.trim().nullish(),
  providerOverride: plain.trim().nullish(),
  reasoningEffort: plain.trim().toLowerCase().pipe(z.enum(REASONING_EFFORTS)).nullish(),
});

/** The upstream's `set_model_override` rule: a provider names where a model runs, so it needs one. */
const providerNeedsModel = (input: { modelOverride?: string | null; providerOverride?: string | null }) =>
  !input.providerOverride || Boolean(input.modelOverride);
const PROVIDER_NEEDS_MODEL = {
  message: 'a provider override needs a model override',
  path: ['providerOverride'],
};

export const createTaskInput = taskColumns
  .pick({
    title: true,
    body: true,
    assignee: true,
    priority: true,
    tenant: true,
    idempotencyKey: true,
    maxRetries: true,
    maxRuntimeSeconds: true,
    skills: true,
    createdBy: true,
    workspaceKind: true,
    workspacePath: true,
    modelOverride: true,
    providerOverride: true,
    reasoningEffort: true,
  })
  .extend({
    parents: z.array(z.string()).default([]),
    triage: z.boolean().default(false),
    /** `blocked`: created blocked, and the block is sticky until unblocked (upstream `initial_status`). */
    initialStatus: z.enum(['blocked']).optional(),
  })
  .strict()
  .refine(providerNeedsModel, PROVIDER_NEEDS_MODEL);
export type CreateTaskInput = z.input<typeof createTaskInput>;

const EDITABLE = [
  'title',
  'body',
  'priority',
  'assignee',
  'modelOverride',
  'providerOverride',
  'reasoningEffort',
] as const;

/**
 * The fields a person edits on a task, any of them and at least one. A provider is set with its
 * model (`modelOverride` present), as `setModelOverride` sets them.
 */
export const editTaskInput = taskColumns
  .pick({
    title: true,
    body: true,
    priority: true,
    assignee: true,
    modelOverride: true,
    providerOverride: true,
    reasoningEffort: true,
  })
  .partial()
  .strict()
  .refine((edit) => Object.values(edit).some((value) => value !== undefined), {
    message: `name at least one of ${EDITABLE.join(', ')}`,
  })
  .refine((edit) => edit.providerOverride === undefined || edit.modelOverride !== undefined, PROVIDER_NEEDS_MODEL);
export type EditTaskInput = z.input<typeof editTaskInput>;

export const modelOverrideInput = z
  .object({ modelOverride: plain.trim().nullable(), providerOverride: plain.trim().nullish() })
  .strict()
  .refine(providerNeedsModel, PROVIDER_NEEDS_MODEL);
export type ModelOverride = z.input<typeof modelOverrideInput>;
export const reasoningEffortInput = plain.trim().toLowerCase().pipe(z.enum(REASONING_EFFORTS)).nullable();

export const promoteInput = z
  .object({ reason: text.optional(), actor: text.optional(), dryRun: z.boolean().default(false) })
  .strict()
  .default({ dryRun: false });
export type PromoteOptions = z.input<typeof promoteInput>;
export const reclaimInput = z
  .object({ reason: text.optional(), runId: z.int().min(1).optional(), assignee: assignee.nullable().optional() })
  .strict()
  .default({});
export const unblockInput = z.object({ reason: text.optional(), author: text.optional() }).strict().default({});
export type UnblockOptions = z.input<typeof unblockInput>;
export type ReclaimOptions = z.input<typeof reclaimInput>;

const statuses = z.enum(TASK_STATUSES);
export const listTasksInput = z
  .object({
    status: z.union([statuses, z.array(statuses)]).optional(),
    assignee: assignee.optional(),
    tenant: z.string().optional(),
    includeArchived: z.boolean().default(false),
    limit: count.optional(),
  })
  .strict()
  .default({ includeArchived: false });
export type ListTasksFilter = z.input<typeof listTasksInput>;

const claimOptions = {
  claimer: text.optional(),
  ttlSeconds: z.int().min(1).optional(),
};
export const claimInput = z.object(claimOptions).strict().default({});
export type ClaimOptions = z.input<typeof claimInput>;
export const claimNextInput = z
  .object({
    ...claimOptions,
    assignee: assignee.optional(),
    assignedOnly: z.boolean().optional(),
    tenant: z.string().optional(),
  })
  .strict()
  .default({});
export type ClaimNextOptions = z.input<typeof claimNextInput>;
/** How many days of flow to read back from today. */
export const flowInput = z
  .object({ days: z.int().min(1).max(366).default(14) })
  .strict()
  .default({ days: 14 });
export type FlowOptions = z.input<typeof flowInput>;

/** How many tasks one `claimNextTasks` call may take: a positive whole number. */
export const claimCountInput = z.int().min(1);

const runId = z.int().min(1).optional();
export const heartbeatInput = z
  .object({ runId, ttlSeconds: z.int().min(1).optional() })
  .strict()
  .default({});
export type HeartbeatOptions = z.input<typeof heartbeatInput>;
const completeFields = { runId, result: plain.nullish(), summary: plain.nullish() };
export const completeInput = z.object(completeFields).strict().default({});
export type CompleteOptions = z.input<typeof completeInput>;
/** Completions committed together: at most 1,000 a call, each task once. */
export const completionsInput = z
  .array(z.object({ id: taskId, ...completeFields }).strict())
  .max(1_000)
  .refine((items) => new Set(items.map((item) => item.id)).size === items.length, 'names a task twice');
export type TaskCompletion = z.input<typeof completionsInput>[number];
export const completeAndClaimInput = z
  .object({ ...completeFields, claimNext: claimNextInput })
  .strict()
  .default({ claimNext: {} });
export type CompleteAndClaimOptions = z.input<typeof completeAndClaimInput>;
export const blockInput = z.object({ runId, reason: text, kind: z.enum(BLOCK_KINDS).nullish() }).strict();
export type BlockOptions = z.input<typeof blockInput>;
export const scheduleInput = z.object({ runId, reason: text.optional() }).strict().default({});
export type ScheduleOptions = z.input<typeof scheduleInput>;

export const FAILURE_OUTCOMES = [
  'crashed',
  'timed_out',
  'spawn_failed',
] as const satisfies readonly (typeof RUN_OUTCOMES)[number][];
export const failureInput = z
  .object({
    runId,
    error: plain,
    outcome: z.enum(FAILURE_OUTCOMES).default('crashed'),
    limit: z.int().min(1).optional(),
  })
  .strict();
export type FailureInput = z.input<typeof failureInput>;
export type FailureOutcome = (typeof FAILURE_OUTCOMES)[number];

export const requestReviewInput = z
  .object({
    runId: z.int().min(1).optional(),
    summary: plain.nullish(),
    reviewer: assignee.optional(),
    metadata: z.record(z.string(), z.unknown()).nullish(),
    force: z.boolean().default(false),
  })
  .strict()
  .default({ force: false });
export type RequestReviewOptions = z.input<typeof requestReviewInput>;
export const requestChangesInput = z.object({ runId: z.int().min(1).optional(), reason: text }).strict();
export type RequestChangesOptions = z.input<typeof requestChangesInput>;
export const reopenReviewInput = z.object({ reason: text.optional(), author: text.optional() }).strict().default({});
export type ReopenReviewOptions = z.input<typeof reopenReviewInput>;

export const purgeInput = z.object({ olderThanDays: z.number().min(0) }).strict();
export type PurgeOptions = z.input<typeof purgeInput>;

export const commentInput = z.object({ author: text, body: text }).strict();
export type CommentInput = z.input<typeof commentInput>;

export const eventsInput = z
  .object({
    taskId: taskId.optional(),
    afterId: count.optional(),
    kinds: z.array(z.string()).optional(),
    limit: count.optional(),
  })
  .strict()
  .default({});
export type EventsFilter = z.input<typeof eventsInput>;

/** What a chat is, for the upstream's notifier rebuilding where to wake an agent. */
export const CHAT_TYPES = ['dm', 'group', 'channel', 'thread'] as const;
export const subscriptionInput = z
  .object({
    taskId,
    platform: text,
    chatId: text,
    threadId: plain.default(''),
    userId: plain.nullish(),
    userIdAlt: plain.nullish(),
    chatType: z.enum(CHAT_TYPES).optional(),
    notifierProfile: plain.nullish(),
    deliveryMode: z.enum(DELIVERY_MODES).optional(),
  })
  .strict();
export type SubscriptionInput = z.input<typeof subscriptionInput>;
// A key may be a whole subscription row: its other fields are ignored.
export const subscriptionKey = subscriptionInput
  .pick({ taskId: true, platform: true, chatId: true, threadId: true })
  .strip();
export type SubscriptionKey = z.input<typeof subscriptionKey>;

export { assignee as assigneeInput };

/** Parses `value` or refuses with INVALID_INPUT naming the first offending field. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : what;
  throw new KanbanError('INVALID_INPUT', `Invalid ${field}: ${issue?.message ?? 'rejected'}`, { cause: result.error });
}
