/** The board: a column per status, optionally in a lane per assignee; cards that open, drag and select. */
import { memo } from 'preact/compat';
import { useEffect, useRef } from 'preact/hooks';
import type { CardTask } from '../wire';

/** The newest original's column order; archived tasks leave the board. */
export const STATUSES = ['triage', 'todo', 'scheduled', 'ready', 'running', 'blocked', 'review', 'done'] as const;

/** What moving a card to a column does, by the card's status; undefined when the board cannot. */
export function moveFor(from: string, to: string): string | undefined {
  if (to === 'done') return 'complete';
  if (to === 'blocked') return 'block';
  if (to === 'scheduled') return 'schedule';
  if (to === 'ready')
    return from === 'running' ? 'reclaim' : ['blocked', 'scheduled'].includes(from) ? 'unblock' : undefined;
  return undefined;
}

/** The board's display order: priority, highest first (none last), then age, then id. */
function displayOrder(a: CardTask, b: CardTask): number {
  if (a.priority !== b.priority) return a.priority === null ? 1 : b.priority === null ? -1 : b.priority - a.priority;
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The cards with those of the tasks `asked` names replaced by `fresh` (a task gone is dropped), in display order. */
export function merged(cards: readonly CardTask[], asked: ReadonlySet<string>, fresh: readonly CardTask[]): CardTask[] {
  return [...cards.filter((card) => !asked.has(card.id)), ...fresh].sort(displayOrder);
}

const age = (seconds: number) => {
  const s = Math.max(0, Date.now() / 1000 - seconds);
  return s < 3600 ? `${Math.floor(s / 60)}m` : s < 86400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
};

/** A running task past half its lease since its last heartbeat: its worker may be gone. */
export function stale(task: CardTask, now = Date.now() / 1000): boolean {
  if (task.status !== 'running' || task.claimExpires === null) return false;
  const beat = task.lastHeartbeatAt ?? task.startedAt ?? task.createdAt;
  return now - beat > (task.claimExpires - beat) / 2;
}

export interface BoardActions {
  open(id: string): void;
  drop(id: string, status: string): void;
  toggle(id: string): void;
}

/**
 * Touch screens have no HTML drag and drop: a card's grip follows the finger (or pen), and lifting
 * it over a column drops the card there, as dropping it with a mouse does.
 */
function gripDrag(event: PointerEvent, id: string, drop: (id: string, status: string) => void): void {
  const grip = event.target;
  const card = grip instanceof HTMLElement ? grip.closest<HTMLElement>('.card') : null;
  if (event.pointerType === 'mouse' || !card) return;
  event.preventDefault();
  const [x0, y0] = [event.clientX, event.clientY];
  let over: HTMLElement | undefined;
  card.classList.add('dragging');
  const move = (e: PointerEvent) => {
    card.style.transform = `translate(${e.clientX - x0}px, ${e.clientY - y0}px)`;
    const under = document.elementFromPoint(e.clientX, e.clientY)?.closest<HTMLElement>('.column') ?? undefined;
    if (under === over) return;
    over?.classList.remove('over');
    over = under;
    over?.classList.add('over');
  };
  const end = (e: PointerEvent) => {
    window.removeEventListener('pointermove', move);
    window.removeEventListener('pointerup', end);
    window.removeEventListener('pointercancel', end);
    card.classList.remove('dragging');
    card.style.transform = '';
    over?.classList.remove('over');
    if (e.type === 'pointerup' && over?.dataset.status) drop(id, over.dataset.status);
  };
  window.addEventListener('pointermove', move);
  window.addEventListener('pointerup', end);
  window.addEventListener('pointercancel', end);
}

/**
 * One card: markup only. The board listens once for all of its cards (a board may hold thousands),
 * and a card is drawn again only when its task or its selection changes. Its checkbox shows while
 * the board is in selection mode (`selected` is then a boolean).
 */
const Card = memo(function Card({ task, selected }: { task: CardTask; selected: boolean | undefined }) {
  const classes = ['card', stale(task) ? 'stale' : '', selected ? 'selected' : ''].filter(Boolean).join(' ');
  return (
    <article class={classes} draggable title={task.id} data-task-id={task.id}>
      <span class="grip" aria-hidden="true" title="Drag to another column">
        ⠿
      </span>
      {selected !== undefined && (
        <input type="checkbox" class="pick" checked={selected} aria-label={`Select ${task.title}`} />
      )}
      <button type="button" class="title" aria-describedby="card-keys">
        {task.title}
      </button>
      <div class="meta">
        {`${task.assignee ? `@${task.assignee}` : 'unassigned'} · p${task.priority ?? 0} · ${age(task.createdAt)}`}
        {task.consecutiveFailures > 0 && <span class="failures">{`${task.consecutiveFailures} failed`}</span>}
        {stale(task) && <span class="stale-note">no heartbeat</span>}
      </div>
    </article>
  );
});

/** What a group of columns draws: its tasks, the selection (in selection mode) and the board's actions. */
interface GroupProps {
  readonly tasks: CardTask[];
  readonly selected: ReadonlySet<string> | undefined;
  readonly act: BoardActions;
}

function Column({ status, tasks, selected, act }: GroupProps & { readonly status: string }) {
  return (
    <section
      class="column"
      data-status={status}
      aria-label={`${status}: ${tasks.length}`}
      onDragOver={(event) => {
        event.preventDefault();
        event.currentTarget.classList.add('over');
      }}
      onDragLeave={(event) => event.currentTarget.classList.remove('over')}
      onDrop={(event) => {
        event.preventDefault();
        event.currentTarget.classList.remove('over');
        const id = event.dataTransfer?.getData('text/plain');
        if (id) act.drop(id, status);
      }}
    >
      <h2>{`${status} · ${tasks.length}`}</h2>
      {tasks.map((task) => (
        <Card key={task.id} task={task} selected={selected?.has(task.id)} />
      ))}
    </section>
  );
}

function Columns({ tasks, selected, act }: GroupProps) {
  return (
    <div class="columns">
      {STATUSES.map((status) => (
        <Column
          key={status}
          status={status}
          tasks={tasks.filter((t) => t.status === status)}
          selected={selected}
          act={act}
        />
      ))}
    </div>
  );
}

const titleOf = (card: Element | null | undefined) => card?.querySelector<HTMLElement>('.title') ?? undefined;

/**
 * Keys on a card: up and down move between the cards of its column, left and right to the next
 * column holding cards (within its lane); with shift, left and right move the card itself to the
 * nearest column in that direction that it can go to. Returns the card to focus after a move.
 */
function onCardKey(event: KeyboardEvent, tasks: CardTask[], act: BoardActions): string | undefined {
  const title = event.target instanceof HTMLElement ? event.target : undefined;
  const card = title?.closest<HTMLElement>('.card');
  const column = card?.closest<HTMLElement>('.column');
  const group = column?.parentElement;
  if (!title?.matches('.card .title') || !card || !column || !group) return undefined;
  const columns = [...group.querySelectorAll<HTMLElement>(':scope > .column')];
  const cards = (of: Element) => [...of.querySelectorAll<HTMLElement>('.card')];
  const here = cards(column).indexOf(card);
  const step = { ArrowUp: -1, ArrowDown: 1, ArrowLeft: -1, ArrowRight: 1 }[event.key];
  if (step === undefined) return undefined;
  event.preventDefault();
  const id = card.dataset.taskId ?? '';
  if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
    titleOf(cards(column)[here + step])?.focus();
    return undefined;
  }
  const from = columns.indexOf(column);
  const beyond = step > 0 ? columns.slice(from + 1) : columns.slice(0, from).reverse();
  if (!event.shiftKey) {
    const next = beyond.find((c) => cards(c).length > 0);
    if (next) titleOf(cards(next)[Math.min(here, cards(next).length - 1)])?.focus();
    return undefined;
  }
  const task = tasks.find((t) => t.id === id);
  const target = beyond.find((c) => task && moveFor(task.status, c.dataset.status ?? '') !== undefined);
  act.drop(id, target?.dataset.status ?? column.dataset.status ?? '');
  return id;
}

/**
 * The board's one listener of each kind for every card: a title opens its task (and takes the
 * arrow keys), a checkbox selects, a card drags, a grip drags on touch screens.
 */
function listenToCards(root: HTMLElement, act: BoardActions, keys: (event: KeyboardEvent) => void): () => void {
  const idOf = (target: EventTarget | null) =>
    target instanceof Element ? target.closest<HTMLElement>('.card')?.dataset.taskId : undefined;
  const on = {
    click: (event: Event) => {
      const id = idOf(event.target);
      if (!id || !(event.target instanceof Element)) return;
      if (event.target.matches('input.pick')) act.toggle(id);
      else if (event.target.closest('.title')) act.open(id);
    },
    keydown: (event: Event) => {
      if (event instanceof KeyboardEvent) keys(event);
    },
    dragstart: (event: Event) => {
      const id = idOf(event.target);
      if (id && event instanceof DragEvent) event.dataTransfer?.setData('text/plain', id);
    },
    pointerdown: (event: Event) => {
      const id = idOf(event.target);
      if (id && event instanceof PointerEvent && event.target instanceof Element && event.target.matches('.grip'))
        gripDrag(event, id, act.drop);
    },
  };
  for (const [type, listener] of Object.entries(on)) root.addEventListener(type, listener);
  return () => {
    for (const [type, listener] of Object.entries(on)) root.removeEventListener(type, listener);
  };
}

/**
 * The cards shown: every column, or a lane of columns per assignee (unassigned last). With
 * `selected`, the board is in selection mode: each card shows its checkbox.
 */
export function Board(props: GroupProps & { readonly lanes: boolean }) {
  const { tasks, lanes, selected, act } = props;
  const root = useRef<HTMLDivElement>(null);
  // A card moved by keys is drawn anew in its new column: focus follows it there once the board
  // is read again after the move (or stays, if the move was refused).
  const follow = useRef<{ id: string; before: CardTask[] } | undefined>(undefined);
  useEffect(() => {
    const moved = follow.current;
    if (!moved || moved.before === tasks) return;
    follow.current = undefined;
    titleOf(document.querySelector(`.card[data-task-id="${CSS.escape(moved.id)}"]`))?.focus();
  }, [tasks]);
  const latest = useRef(tasks);
  latest.current = tasks;
  useEffect(() => {
    if (!root.current) return undefined;
    return listenToCards(root.current, act, (event) => {
      const id = onCardKey(event, latest.current, act);
      if (id) follow.current = { id, before: latest.current };
    });
  }, [act]);
  return (
    <div class="board" ref={root}>
      {lanes ? (
        <Lanes tasks={tasks} selected={selected} act={act} />
      ) : (
        <Columns tasks={tasks} selected={selected} act={act} />
      )}
    </div>
  );
}

function Lanes({ tasks, selected, act }: GroupProps) {
  const names = [...new Set(tasks.map((t) => t.assignee ?? ''))].sort((a, b) =>
    a === '' ? 1 : b === '' ? -1 : a.localeCompare(b),
  );
  return (
    <div class="lanes">
      {names.map((name) => {
        const mine = tasks.filter((t) => (t.assignee ?? '') === name);
        return (
          <section class="lane" key={name} data-assignee={name} aria-label={`${name || 'unassigned'}: ${mine.length}`}>
            <h2 class="lane-title">{`${name ? `@${name}` : 'unassigned'} · ${mine.length}`}</h2>
            <Columns tasks={mine} selected={selected} act={act} />
          </section>
        );
      })}
    </div>
  );
}
