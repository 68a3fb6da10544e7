import { TASK_STATUSES, type Task, type TaskEvent } from '../db/schema';
import type { BoardStats } from '../repo/activity';

const time = (seconds: number | null) => (seconds === null ? '-' : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z'));

export function taskLine(task: Task): string {
  const who = task.assignee ? ` @${task.assignee}` : '';
  const failures = task.consecutiveFailures > 0 ? ` failures=${task.consecutiveFailures}` : '';
  return `${task.id}  ${task.status.padEnd(8)} p${task.priority ?? 0}${who}  ${task.title}${failures}`;
}

export function taskDetail(task: Task): string {
  const lines = [taskLine(task), `  created ${time(task.createdAt)}  started ${time(task.startedAt)}  completed ${time(task.completedAt)}`];
  if (task.body) lines.push(`  ${task.body}`);
  if (task.lastFailureError) lines.push(`  last failure: ${task.lastFailureError}`);
  if (task.result) lines.push(`  result: ${task.result}`);
  return lines.join('\n');
}

export function eventLine(event: TaskEvent): string {
  const payload = event.payload ? ` ${JSON.stringify(event.payload)}` : '';
  const run = event.runId === null ? '' : ` run=${event.runId}`;
  return `#${event.id} ${time(event.createdAt)} ${event.taskId} ${event.kind}${run}${payload}`;
}

export function statsText(stats: BoardStats): string {
  const statuses = TASK_STATUSES.map((s) => `${s}=${stats.byStatus[s]}`).join(' ');
  const assignees = Object.entries(stats.byAssignee)
    .map(([who, n]) => `${who || '(unassigned)'}=${n}`)
    .join(' ');
  return `${stats.total} tasks: ${statuses}\nby assignee: ${assignees || '-'}`;
}

/** The board as columns, one per status (archived left out), each card cut to the column width. */
export function boardColumns(tasks: readonly Task[], width = 18): string {
  const statuses = TASK_STATUSES.filter((s) => s !== 'archived');
  const columns = statuses.map((status) => tasks.filter((t) => t.status === status).map((t) => `${t.id.slice(2)} ${t.title}`));
  const cell = (text: string) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));
  const rows = Math.max(0, ...columns.map((c) => c.length));
  const header = statuses.map((s, i) => cell(`${s.toUpperCase()} (${columns[i]?.length ?? 0})`)).join(' │ ');
  const rule = statuses.map(() => '─'.repeat(width)).join('─┼─');
  const body = Array.from({ length: rows }, (_, r) => statuses.map((_s, i) => cell(columns[i]?.[r] ?? '')).join(' │ '));
  return [header, rule, ...body].join('\n');
}
