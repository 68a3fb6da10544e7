import { TASK_STATUSES, type Task, type TaskEvent } from '../core/schema';
import type { BoardStats } from '../core/activity';
import { fit, printable } from './text';

const time = (seconds: number | null) =>
  seconds === null ? '-' : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

export function taskLine(task: Task): string {
  const who = task.assignee ? ` @${task.assignee}` : '';
  const failures = task.consecutiveFailures > 0 ? ` failures=${task.consecutiveFailures}` : '';
  return `${task.id}  ${task.status.padEnd(9)} p${task.priority ?? 0}${printable(who)}  ${printable(task.title)}${failures}`;
}

export function taskDetail(task: Task): string {
  const lines = [
    taskLine(task),
    `  created ${time(task.createdAt)}  started ${time(task.startedAt)}  completed ${time(task.completedAt)}`,
  ];
  // Bodies and results keep their lines; each line is made printable on its own.
  const block = (label: string, text: string) =>
    text.split('\n').map((line, i) => `  ${i ? '' : label}${printable(line)}`);
  if (task.body) lines.push(...block('', task.body));
  if (task.blockKind) lines.push(`  block kind: ${task.blockKind} (${task.blockRecurrences} in a row)`);
  if (task.lastFailureError) lines.push(...block('last failure: ', task.lastFailureError));
  if (task.result) lines.push(...block('result: ', task.result));
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

/** The board's width when the output is not a terminal that says its own. */
export const DEFAULT_BOARD_WIDTH = 100;
const SEPARATOR = ' │ ';
const MIN_COLUMN = 4;

/**
 * The board as columns, one per status in use (archived left out), fitting `totalWidth` terminal cells:
 * each card is cut to its column, measured in cells (wide characters count two), control
 * characters and escape sequences in titles never reach the terminal.
 */
export function boardColumns(tasks: readonly Task[], totalWidth = DEFAULT_BOARD_WIDTH): string {
  // Eight statuses in 100 columns leave ten cells a card: only the statuses that hold a task get a
  // column, and a line below names the empty ones.
  const live = TASK_STATUSES.filter((s) => s !== 'archived');
  const used = live.filter((s) => tasks.some((t) => t.status === s));
  const statuses = used.length ? used : live;
  const empty = used.length ? live.filter((s) => !used.includes(s)) : [];
  const width = Math.max(
    MIN_COLUMN,
    Math.floor((totalWidth - SEPARATOR.length * (statuses.length - 1)) / statuses.length),
  );
  const columns = statuses.map((status) =>
    tasks.filter((t) => t.status === status).map((t) => `${t.id.slice(2)} ${t.title}`),
  );
  const cell = (text: string) => fit(text, width);
  const rows = Math.max(0, ...columns.map((c) => c.length));
  const header = statuses.map((s, i) => cell(`${s.toUpperCase()} (${columns[i]?.length ?? 0})`)).join(SEPARATOR);
  const rule = statuses.map(() => '─'.repeat(width)).join('─┼─');
  const body = Array.from({ length: rows }, (_, r) =>
    statuses.map((_s, i) => cell(columns[i]?.[r] ?? '')).join(SEPARATOR),
  );
  const footer = empty.length ? [fit(`(empty: ${empty.join(', ')})`, totalWidth).trimEnd()] : [];
  return [header, rule, ...body, ...footer].join('\n');
}
