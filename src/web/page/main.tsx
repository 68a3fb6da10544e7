/**
 * The board page: Preact components over the board's API, live over its event stream. A change
 * anywhere (this page, another, the CLI, a gateway, the original program) re-reads the cards and
 * Preact redraws only what differs, so an open drawer, a selection or a half-typed field stay.
 */
import { render } from 'preact';
import { lazy, Suspense } from 'preact/compat';
import 'uplot/dist/uPlot.min.css';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { BoardEntry, CardTask } from '../wire';
import { boardPath, call, cards, follow, someCards, taskPath } from './api';
import { Board, merged, moveFor } from './board';
import { Diagnostics } from './diagnostics';
import { Drawer, moveBody } from './drawer';

/** The charts and their library load when first shown. */
const Charts = lazy(() => import('./charts').then((module) => ({ default: module.Charts })));

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const LANES_KEY = 'kanban-lanes';

function Bulk(props: {
  board: string;
  tasks: CardTask[];
  selected: ReadonlySet<string>;
  clear(): void;
  act(what: () => Promise<unknown>): void;
}) {
  const { board, tasks, selected, clear, act } = props;
  const [assignee, setAssignee] = useState('');
  const chosen = tasks.filter((t) => selected.has(t.id));
  /** Runs `each` over the chosen tasks; one refusal does not stop the others, and all refusals are told. */
  const over = (each: (task: CardTask) => Promise<unknown>) =>
    act(async () => {
      const refused: string[] = [];
      for (const task of chosen)
        await each(task).catch((error: unknown) => refused.push(`${task.title}: ${message(error)}`));
      clear();
      if (refused.length) throw new Error(`${refused.length} of ${chosen.length} refused: ${refused.join('; ')}`);
    });
  const moveTo = (status: string) =>
    over(async (task) => {
      if (task.status === status) return;
      const action = moveFor(task.status, status);
      if (!action) throw new Error(`a ${task.status} task cannot be moved to ${status} from the board`);
      await call('POST', taskPath(board, task.id, `/${action}`), moveBody(action));
    });
  return (
    <div class="bulk" role="toolbar" aria-label="Selected tasks" data-testid="bulk">
      <span>{`${chosen.length} selected`}</span>
      <label>
        Move to{' '}
        <select
          data-testid="bulk-move"
          value=""
          onChange={(event) => event.currentTarget.value && moveTo(event.currentTarget.value)}
        >
          <option value="">…</option>
          {['ready', 'blocked', 'scheduled', 'done'].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          over((task) => call('PATCH', taskPath(board, task.id), { assignee: assignee.trim() || null }));
        }}
      >
        <input
          data-testid="bulk-assignee"
          placeholder="assignee"
          aria-label="Assign the selected tasks to"
          value={assignee}
          onInput={(event) => setAssignee(event.currentTarget.value)}
        />
        <button type="submit">Assign</button>
      </form>
      <button
        type="button"
        data-testid="bulk-archive"
        onClick={() => over((task) => call('POST', taskPath(board, task.id, '/archive')))}
      >
        Archive
      </button>
      <button type="button" onClick={clear}>
        Clear
      </button>
    </div>
  );
}

/** A labelled checkbox of the header: a view the page shows or not. */
function Toggle({ id, label, on, set }: { id: string; label: string; on: boolean; set(on: boolean): void }) {
  return (
    <label>
      <input type="checkbox" data-testid={id} checked={on} onChange={(e) => set(e.currentTarget.checked)} /> {label}
    </label>
  );
}

/** Making, renaming and removing boards, as `kanban boards` does. */
function BoardMenu(props: {
  boards: BoardEntry[];
  board: string;
  reload(select?: string): Promise<void>;
  act(what: () => Promise<unknown>): void;
}) {
  const { boards, board, reload, act } = props;
  const current = boards.find((b) => b.slug === board);
  return (
    <span class="board-menu">
      <button
        type="button"
        data-testid="board-new"
        onClick={() => {
          const slug = prompt('Slug of the new board (lowercase letters, digits, - and _)')?.trim();
          if (slug) act(async () => reload((await call<BoardEntry>('POST', '/boards', { slug })).slug));
        }}
      >
        New board
      </button>
      <button
        type="button"
        data-testid="board-rename"
        onClick={() => {
          const name = prompt(`New name of board ${board}`, current?.name ?? board)?.trim();
          if (name) act(async () => reload((await call<BoardEntry>('PATCH', boardPath(board), { name })).slug));
        }}
      >
        Rename
      </button>
      <button
        type="button"
        data-testid="board-remove"
        disabled={board === 'default'}
        onClick={() => {
          if (!confirm(`Remove board ${current?.name ?? board}? It is archived, not deleted.`)) return;
          act(async () => {
            await call('DELETE', boardPath(board));
            await reload('default');
          });
        }}
      >
        Remove
      </button>
    </span>
  );
}

function App() {
  const [boards, setBoards] = useState<BoardEntry[]>([]);
  // The board asked for (or `default`) is read at once, beside the list of boards, which corrects it if it is gone.
  const [board, setBoard] = useState(new URLSearchParams(location.search).get('board') || 'default');
  const [tasks, setTasks] = useState<CardTask[]>([]);
  const [version, setVersion] = useState(0);
  const [who, setWho] = useState('');
  const [query, setQuery] = useState('');
  const [lanes, setLanes] = useState(localStorage.getItem(LANES_KEY) === '1');
  const [charts, setCharts] = useState(false);
  const [picking, setPicking] = useState(false);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [open, setOpen] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [live, setLive] = useState<boolean | undefined>();

  /** Reads the cards again: only those of `changed` when a few tasks changed, else all of them. */
  // The board shown now: a read begun for another board (before a switch) is dropped when it ends.
  const shownBoard = useRef(board);
  shownBoard.current = board;
  const refresh = useCallback(
    async (changed?: ReadonlySet<string>) => {
      if (!board) return;
      if (changed && changed.size <= 100) {
        const fresh = await someCards(board, [...changed]);
        if (shownBoard.current === board) setTasks((before) => merged(before, changed, fresh));
      } else {
        const all = await cards(board);
        if (shownBoard.current === board) setTasks(all);
      }
      setVersion((v) => v + 1);
    },
    [board],
  );
  const act = useCallback(
    (what: () => Promise<unknown>) => {
      setError(undefined);
      void what()
        .catch((failed: unknown) => setError(message(failed)))
        .finally(() => void refresh().catch((failed: unknown) => setError(message(failed))));
    },
    [refresh],
  );

  /** Reads the boards again and shows `select`, else the board shown if it still exists, else the first. */
  const reload = useCallback(async (select?: string) => {
    const found = await call<BoardEntry[]>('GET', '/boards');
    setBoards(found);
    setBoard((shown) => {
      const wanted = select ?? shown;
      return found.some((b) => b.slug === wanted) ? wanted : (found[0]?.slug ?? 'default');
    });
  }, []);
  useEffect(() => {
    reload().catch((failed: unknown) => setError(message(failed)));
  }, [reload]);
  useEffect(() => {
    if (!board) return;
    history.replaceState(null, '', `?board=${encodeURIComponent(board)}${location.hash}`);
    setOpen(undefined);
    setSelected(new Set());
    setTasks([]);
    setError(undefined);
    let current = true;
    void refresh().catch((failed: unknown) => current && setError(message(failed)));
    const stop = new AbortController();
    let pending: number | undefined;
    // The tasks changed since the last read; undefined once anything may have (a reconnected stream).
    let touched: Set<string> | undefined = new Set();
    const changed = (ids: readonly string[] | undefined) => {
      touched = ids && touched ? new Set([...touched, ...ids]) : undefined;
      clearTimeout(pending);
      pending = window.setTimeout(() => {
        const these = touched;
        touched = new Set();
        void refresh(these).catch(() => undefined);
      }, 30);
    };
    void follow(board, changed, setLive, stop.signal);
    return () => {
      current = false;
      clearTimeout(pending);
      stop.abort();
    };
  }, [board, refresh]);

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return tasks.filter(
      (t) => (!who || t.assignee === who) && (!q || `${t.title}\n${t.body ?? ''}\n${t.id}`.toLowerCase().includes(q)),
    );
  }, [tasks, who, query]);
  const assignees = useMemo(
    () => [...new Set(tasks.map((t) => t.assignee).filter((a): a is string => a !== null))].sort(),
    [tasks],
  );
  // The cards' actions stay the same object while the board changes, so unchanged cards are not drawn again.
  const latest = useRef(tasks);
  latest.current = tasks;
  const boardActions = useMemo(
    () => ({
      open: setOpen,
      toggle: (id: string) =>
        setSelected((before) => {
          const after = new Set(before);
          if (!after.delete(id)) after.add(id);
          return after;
        }),
      drop: (id: string, status: string) => {
        const task = latest.current.find((t) => t.id === id);
        if (!task || task.status === status) return;
        const action = moveFor(task.status, status);
        if (!action) setError(`A ${task.status} task cannot be moved to ${status} from the board`);
        else act(() => call('POST', taskPath(board, id, `/${action}`), moveBody(action)));
      },
    }),
    [board, act],
  );
  const [title, setTitle] = useState('');
  const [assignee, setAssignee] = useState('');
  const [priority, setPriority] = useState('0');

  return (
    <>
      <header>
        <h1>kanban</h1>
        <label>
          Board{' '}
          <select id="board" data-testid="board-select" value={board} onChange={(e) => setBoard(e.currentTarget.value)}>
            {boards.map((b) => (
              <option key={b.slug} value={b.slug}>
                {b.name || b.slug}
              </option>
            ))}
          </select>
        </label>
        <BoardMenu boards={boards} board={board} reload={reload} act={act} />
        <label>
          Assignee{' '}
          <select
            id="assignee-filter"
            data-testid="assignee-filter"
            value={who}
            onChange={(e) => setWho(e.currentTarget.value)}
          >
            <option value="">everyone</option>
            {assignees.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <input
          id="search"
          type="search"
          placeholder="Search titles and bodies"
          aria-label="Search titles and bodies"
          data-testid="search"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <Toggle
          id="lanes"
          label="Lanes by assignee"
          on={lanes}
          set={(on) => {
            setLanes(on);
            localStorage.setItem(LANES_KEY, on ? '1' : '0');
          }}
        />
        <Toggle
          id="select-mode"
          label="Select"
          on={picking}
          set={(on) => {
            setPicking(on);
            if (!on) setSelected(new Set());
          }}
        />
        <Toggle id="charts-toggle" label="Charts" on={charts} set={setCharts} />
        <form
          id="create"
          data-testid="create-form"
          onSubmit={(event) => {
            event.preventDefault();
            act(async () => {
              await call('POST', boardPath(board, '/tasks'), {
                title: title.trim(),
                assignee: assignee.trim() || null,
                priority: Number(priority || 0),
              });
              setTitle('');
              setAssignee('');
              setPriority('0');
            });
          }}
        >
          <input
            name="title"
            placeholder="New task title"
            aria-label="New task title"
            required
            data-testid="create-title"
            value={title}
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
          <input
            name="assignee"
            placeholder="assignee"
            aria-label="New task's assignee"
            size={10}
            data-testid="create-assignee"
            value={assignee}
            onInput={(e) => setAssignee(e.currentTarget.value)}
          />
          <input
            name="priority"
            type="number"
            size={3}
            aria-label="priority"
            value={priority}
            onInput={(e) => setPriority(e.currentTarget.value)}
          />
          <button type="submit">Create</button>
        </form>
        <span id="live" data-testid="live" role="status" class={live ? 'on' : ''}>
          {live === undefined ? 'connecting…' : live ? 'live' : 'reconnecting…'}
        </span>
      </header>
      <p id="error" role="alert" data-testid="error" hidden={!error}>
        {error ?? ''}
      </p>
      {board && <Diagnostics board={board} version={version} open={setOpen} />}
      {board && charts && (
        <Suspense fallback={<p class="charts">Loading the charts…</p>}>
          <Charts board={board} version={version} />
        </Suspense>
      )}
      {selected.size > 0 && (
        <Bulk board={board} tasks={tasks} selected={selected} clear={() => setSelected(new Set())} act={act} />
      )}
      <p id="card-keys" hidden>
        Arrows move between cards and columns; shift and left or right moves the card to another column.
      </p>
      <main id="columns" data-testid="columns" aria-label={`Board ${board}`}>
        <Board tasks={shown} lanes={lanes} selected={picking ? selected : undefined} act={boardActions} />
      </main>
      {open && <Drawer board={board} id={open} version={version} act={act} close={() => setOpen(undefined)} />}
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
