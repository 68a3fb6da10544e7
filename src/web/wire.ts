/**
 * The JSON the board's API sends and the page reads: one type-only module for both sides, built
 * from the schema's types. The page imports types only, so none of the library reaches the browser.
 */
import type { Comment, Run, Task, TaskEvent } from '../core/schema';
import type { LinkedTask } from '../core/port';
import type { Diagnostic } from '../core/health';
import type { Flow } from '../core/flow';

export type { Diagnostic, Flow, LinkedTask };

/** What a card shows and the page searches: `GET …/tasks?view=cards`. */
export type CardTask = Pick<
  Task,
  'id' | 'title' | 'body' | 'assignee' | 'status' | 'priority' | 'consecutiveFailures' | 'createdAt' | 'blockKind'
> &
  Pick<Task, 'claimExpires' | 'lastHeartbeatAt' | 'startedAt'>;

/** One task and everything the drawer shows of it: `GET …/tasks/:id`. */
export interface TaskDetail {
  readonly task: Task;
  readonly parents: LinkedTask[];
  readonly children: LinkedTask[];
  readonly comments: Comment[];
  readonly runs: Run[];
  readonly events: TaskEvent[];
}

/** A board the server shows: `GET /boards`. */
export interface BoardEntry {
  readonly slug: string;
  readonly name: string;
}

/** A refusal: every error answer's body. */
export interface ApiError {
  readonly code: string;
  readonly message: string;
}

/** The card's fields of a task, as the list sends them. */
export function cardOf(task: Task): CardTask {
  const { id, title, body, assignee, status, priority, consecutiveFailures, createdAt, blockKind } = task;
  const { claimExpires, lastHeartbeatAt, startedAt } = task;
  return {
    id,
    title,
    body,
    assignee,
    status,
    priority,
    consecutiveFailures,
    createdAt,
    blockKind,
    claimExpires,
    lastHeartbeatAt,
    startedAt,
  };
}
