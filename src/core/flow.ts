/**
 * A board's flow over time, read from its event log: how many tasks had arrived (`created`),
 * started (their first `claimed`) and finished (their first `completed`) by the end of each day,
 * a cumulative flow; and per assignee, the median lead time (created → completed) and cycle time
 * (first claimed → completed) of the tasks that finished.
 */
import { read, type RepoContext } from './context';
import { flowInput, parse, type FlowOptions } from './input';

export type { FlowOptions };

/** One day (UTC) of the cumulative flow: tasks that had reached each stage by its end. */
export interface FlowDay {
  readonly day: string;
  readonly created: number;
  readonly started: number;
  readonly done: number;
}

export interface AssigneeTimes {
  /** The task's assignee now; null for unassigned tasks. */
  readonly assignee: string | null;
  readonly done: number;
  readonly leadSeconds: number;
  /** Null when none of its finished tasks was ever claimed (completed by hand). */
  readonly cycleSeconds: number | null;
}

export interface Flow {
  readonly days: FlowDay[];
  readonly assignees: AssigneeTimes[];
}

const DAY = 86_400;
type Stage = 'created' | 'started' | 'done';
type Stages = Partial<Record<Stage, number>>;
/** The event that marks a task reaching each stage (its first such event). */
const STAGE_OF = new Map<string, Stage>([
  ['created', 'created'],
  ['claimed', 'started'],
  ['completed', 'done'],
]);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** The last `days` days of the board's cumulative flow, and its lead and cycle times per assignee. */
export async function flow(ctx: RepoContext, raw?: FlowOptions): Promise<Flow> {
  const { days } = parse(flowInput, raw, 'options');
  return read(ctx, async (tx) => {
    const stages = new Map<string, Stages>();
    for (const event of await tx.q.events({ kinds: [...STAGE_OF.keys()] })) {
      const stage = STAGE_OF.get(event.kind);
      if (!stage) continue;
      const reached = stages.get(event.taskId) ?? {};
      reached[stage] ??= event.createdAt;
      stages.set(event.taskId, reached);
    }
    const all = [...stages.values()];
    const today = Math.floor(ctx.now() / DAY);
    const flowDays: FlowDay[] = [];
    for (let day = today - days + 1; day <= today; day++) {
      const end = (day + 1) * DAY;
      const by = (stage: Stage) => all.filter((s) => s[stage] !== undefined && (s[stage] ?? 0) < end).length;
      const date = new Date(day * DAY * 1000).toISOString().slice(0, 10);
      flowDays.push({ day: date, created: by('created'), started: by('started'), done: by('done') });
    }
    const owners = new Map((await tx.q.listTasks({ includeArchived: true })).map((t) => [t.id, t.assignee]));
    const times = new Map<string | null, { lead: number[]; cycle: number[] }>();
    for (const [id, s] of stages) {
      if (s.done === undefined || s.created === undefined || !owners.has(id)) continue;
      const owner = owners.get(id) ?? null;
      const mine = times.get(owner) ?? { lead: [], cycle: [] };
      mine.lead.push(s.done - s.created);
      if (s.started !== undefined) mine.cycle.push(s.done - s.started);
      times.set(owner, mine);
    }
    const assignees = [...times]
      .map(([assignee, t]) => ({
        assignee,
        done: t.lead.length,
        leadSeconds: median(t.lead),
        cycleSeconds: t.cycle.length ? median(t.cycle) : null,
      }))
      .sort((a, b) => (a.assignee ?? '\uffff').localeCompare(b.assignee ?? '\uffff'));
    return { days: flowDays, assignees };
  });
}
