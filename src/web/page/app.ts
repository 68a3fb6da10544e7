/**
 * The board page: a column per status, a drawer per task, live over the server's event stream.
 * Every piece of user text goes into the page as text (textContent, input values), never as HTML.
 */

interface Task {
  id: string;
  title: string;
  body: string | null;
  assignee: string | null;
  status: string;
  priority: number | null;
  consecutiveFailures: number;
  createdAt: number;
  blockKind: string | null;
}
interface Linked {
  id: string;
  title: string;
  status: string;
}
interface Detail {
  task: Task;
  parents: Linked[];
  children: Linked[];
  comments: { id: number; author: string; body: string; createdAt: number }[];
  runs: {
    id: number;
    status: string;
    outcome: string | null;
    error: string | null;
    summary: string | null;
    startedAt: number;
    endedAt: number | null;
  }[];
  events: { id: number; kind: string; payload: unknown; createdAt: number }[];
}

/** The newest original's column order; archived tasks leave the board. */
const STATUSES = ['triage', 'todo', 'scheduled', 'ready', 'running', 'blocked', 'review', 'done'];
/** What dropping a card on a column does, by the card's status. */
const DROPS: Record<string, (from: string) => string | undefined> = {
  done: () => 'complete',
  blocked: () => 'block',
  scheduled: () => 'schedule',
  ready: (from) =>
    from === 'running' ? 'reclaim' : from === 'blocked' || from === 'scheduled' ? 'unblock' : undefined,
};

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const found = document.querySelector<T>(`#${id}`);
  if (!found) throw new Error(`#${id} missing from the page`);
  return found;
};
const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? sessionStorage.getItem('kanban-token');
if (token) sessionStorage.setItem('kanban-token', token);

let board = new URLSearchParams(location.search).get('board') ?? '';
let tasks: Task[] = [];
let openTask: string | undefined;
/** The detail the drawer shows now, as JSON. */
let drawn = '';
let stream: AbortController | undefined;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function showError(message: string | undefined): void {
  const box = $('error');
  box.hidden = !message;
  box.textContent = message ?? '';
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['x-kanban-token'] = token;
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // The server's own JSON: its shapes are the library's types.
  const data: T & { code?: unknown; message?: unknown } = await response.json();
  if (!response.ok)
    throw new Error(`${String(data.message ?? response.statusText)} [${String(data.code ?? response.status)}]`);
  return data;
}

const boardPath = (rest = '') => `/boards/${encodeURIComponent(board)}${rest}`;
const age = (seconds: number) => {
  const s = Math.max(0, Date.now() / 1000 - seconds);
  return s < 3600 ? `${Math.floor(s / 60)}m` : s < 86400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
};
const time = (seconds: number | null) => (seconds === null ? '…' : new Date(seconds * 1000).toLocaleString());

async function act(what: () => Promise<unknown>): Promise<void> {
  try {
    showError(undefined);
    await what();
    await refresh();
  } catch (error) {
    showError(error instanceof Error ? error.message : String(error));
  }
}

function move(task: Task, action: string): Promise<void> {
  const body =
    action === 'block'
      ? { reason: 'blocked from the board' }
      : action === 'schedule'
        ? { reason: 'scheduled from the board' }
        : {};
  return act(() => call('POST', boardPath(`/tasks/${encodeURIComponent(task.id)}/${action}`), body));
}

function card(task: Task): HTMLElement {
  const meta = el('div', {
    className: 'meta',
    textContent: `${task.assignee ? `@${task.assignee}` : 'unassigned'} · p${task.priority ?? 0} · ${age(task.createdAt)}`,
  });
  if (task.consecutiveFailures > 0)
    meta.append(el('span', { className: 'failures', textContent: `${task.consecutiveFailures} failed` }));
  const node = el(
    'article',
    { className: 'card', draggable: true, title: task.id },
    el('div', { className: 'title', textContent: task.title }),
    meta,
  );
  node.dataset.taskId = task.id;
  return node;
}

function render(): void {
  const who = $<HTMLSelectElement>('assignee-filter').value;
  const query = $<HTMLInputElement>('search').value.trim().toLowerCase();
  const shown = tasks.filter(
    (t) =>
      (!who || t.assignee === who) && (!query || `${t.title}\n${t.body ?? ''}\n${t.id}`.toLowerCase().includes(query)),
  );
  const columns = STATUSES.map((status) => {
    const mine = shown.filter((t) => t.status === status);
    const column = el(
      'section',
      { className: 'column' },
      el('h2', { textContent: `${status} · ${mine.length}` }),
      ...mine.map(card),
    );
    column.dataset.status = status;
    column.addEventListener('dragover', (event) => {
      event.preventDefault();
      column.classList.add('over');
    });
    column.addEventListener('dragleave', () => column.classList.remove('over'));
    column.addEventListener('drop', (event) => {
      event.preventDefault();
      column.classList.remove('over');
      const task = tasks.find((t) => t.id === event.dataTransfer?.getData('text/plain'));
      if (!task || task.status === status) return;
      const action = DROPS[status]?.(task.status);
      if (action) void move(task, action);
      else showError(`A ${task.status} task cannot be moved to ${status} from the board`);
    });
    return column;
  });
  $('columns').replaceChildren(...columns);
  const filter = $<HTMLSelectElement>('assignee-filter');
  const assignees = [...new Set(tasks.map((t) => t.assignee).filter((a): a is string => a !== null))].sort();
  filter.replaceChildren(
    el('option', { value: '', textContent: 'everyone' }),
    ...assignees.map((a) => el('option', { value: a, textContent: a, selected: a === who })),
  );
}

async function refresh(): Promise<void> {
  tasks = await call<Task[]>('GET', boardPath('/tasks?view=cards'));
  render();
  if (openTask) await openDrawer(openTask);
}

function field(label: string, input: HTMLInputElement | HTMLTextAreaElement): HTMLElement {
  return el('label', {}, el('div', { textContent: label }), input);
}

async function openDrawer(id: string): Promise<void> {
  openTask = id;
  const detail = await call<Detail>('GET', boardPath(`/tasks/${encodeURIComponent(id)}`)).catch((error: unknown) => {
    showError(error instanceof Error ? error.message : String(error));
    return undefined;
  });
  const drawer = $('drawer');
  if (!detail) return;
  // Refreshes come from the page's own moves and from the stream; an unchanged task is not redrawn under the person's cursor.
  const shown = JSON.stringify(detail);
  if (drawer.dataset.taskId === id && !drawer.hidden && drawn === shown) return;
  drawn = shown;
  const { task } = detail;
  const title = el('input', { value: task.title, name: 'title' });
  const assignee = el('input', { value: task.assignee ?? '', name: 'assignee' });
  const priority = el('input', { value: String(task.priority ?? 0), type: 'number', name: 'priority' });
  const body = el('textarea', { value: task.body ?? '', name: 'body' });
  const save = el('button', { textContent: 'Save' });
  // Only what the person changed is sent: an untouched assignee of a running task is not a reassignment.
  save.addEventListener('click', () => {
    const changed: Record<string, unknown> = {};
    if (title.value !== task.title) changed.title = title.value;
    if (body.value !== (task.body ?? '')) changed.body = body.value;
    if (Number(priority.value) !== (task.priority ?? 0)) changed.priority = Number(priority.value);
    if ((assignee.value.trim() || null) !== task.assignee) changed.assignee = assignee.value.trim() || null;
    if (Object.keys(changed).length === 0) return;
    void act(() => call('PATCH', boardPath(`/tasks/${encodeURIComponent(id)}`), changed));
  });
  const actions = el(
    'div',
    { className: 'actions' },
    ...[
      'complete',
      'block',
      'unblock',
      'schedule',
      'reclaim',
      'promote',
      'request-review',
      'reopen-review',
      'archive',
    ].map((action) => {
      const button = el('button', { textContent: action });
      button.dataset.action = action;
      button.addEventListener('click', () => void move(task, action));
      return button;
    }),
  );
  const comment = el('textarea', { name: 'comment', placeholder: 'Add a comment' });
  const send = el('button', { textContent: 'Comment' });
  send.dataset.action = 'comment';
  send.addEventListener(
    'click',
    () =>
      void act(async () => {
        await call('POST', boardPath(`/tasks/${encodeURIComponent(id)}/comments`), {
          author: 'web',
          body: comment.value,
        });
        comment.value = '';
      }),
  );
  const close = el('button', { className: 'close', textContent: '×', title: 'Close' });
  close.addEventListener('click', () => {
    openTask = undefined;
    drawer.hidden = true;
  });
  const links = (list: Linked[]) =>
    el('ul', {}, ...list.map((t) => el('li', { textContent: `${t.id} ${t.status}: ${t.title}` })));
  // A live refresh must not throw away what a person is typing: edited fields keep their text.
  const typed =
    drawer.dataset.taskId === id
      ? [...drawer.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input[name], textarea[name]')].filter(
          (f) => f.value !== f.defaultValue,
        )
      : [];
  drawer.replaceChildren(
    close,
    el('h2', { textContent: task.title }),
    el('p', {
      textContent: `${task.id} · ${task.status}${task.blockKind ? ` (${task.blockKind})` : ''} · created ${time(task.createdAt)}`,
    }),
    field('Title', title),
    field('Assignee', assignee),
    field('Priority', priority),
    field('Body', body),
    save,
    actions,
    el('h3', { textContent: 'Waits for' }),
    links(detail.parents),
    el('h3', { textContent: 'Needed by' }),
    links(detail.children),
    el('h3', { textContent: `Comments (${detail.comments.length})` }),
    el(
      'ul',
      { className: 'comments' },
      ...detail.comments.map((c) => el('li', { textContent: `${c.author}: ${c.body}` })),
    ),
    comment,
    send,
    el('h3', { textContent: `Runs (${detail.runs.length})` }),
    el(
      'ul',
      {},
      ...detail.runs.map((r) =>
        el('li', {
          textContent: `#${r.id} ${r.outcome ?? r.status} ${time(r.startedAt)} → ${time(r.endedAt)}${r.error ? ` · ${r.error}` : r.summary ? ` · ${r.summary}` : ''}`,
        }),
      ),
    ),
    el('h3', { textContent: 'Events' }),
    el(
      'ul',
      {},
      ...detail.events.map((e) =>
        el('li', { textContent: `#${e.id} ${e.kind} ${e.payload ? JSON.stringify(e.payload) : ''}` }),
      ),
    ),
  );
  for (const before of typed) {
    const after = drawer.querySelector<HTMLInputElement | HTMLTextAreaElement>(`[name="${before.name}"]`);
    if (after) after.value = before.value;
  }
  drawer.dataset.taskId = id;
  drawer.hidden = false;
}

/** Reads the server's event stream with fetch (it carries the token header, which EventSource cannot), and refreshes on each change. */
async function listen(): Promise<void> {
  stream?.abort();
  const controller = new AbortController();
  stream = controller;
  const live = $('live');
  for (;;) {
    try {
      const headers: Record<string, string> = token ? { 'x-kanban-token': token } : {};
      const response = await fetch(`/api${boardPath('/stream')}`, { headers, signal: controller.signal });
      const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
      if (!response.ok || !reader) throw new Error(`stream: ${response.status}`);
      live.textContent = 'live';
      live.className = 'on';
      let buffer = '';
      let pending: number | undefined;
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        buffer += chunk.value;
        const messages = buffer.split('\n\n');
        buffer = messages.pop() ?? '';
        if (messages.some((m) => m.includes('event: change'))) {
          clearTimeout(pending);
          pending = window.setTimeout(() => void refresh(), 50);
        }
      }
    } catch {
      if (controller.signal.aborted) return;
    }
    live.textContent = 'reconnecting…';
    live.className = '';
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function switchBoard(slug: string): Promise<void> {
  board = slug;
  history.replaceState(null, '', `?board=${encodeURIComponent(slug)}${location.hash}`);
  openTask = undefined;
  $('drawer').hidden = true;
  await refresh();
  void listen();
}

async function start(): Promise<void> {
  const boards = await call<{ slug: string; name: string }[]>('GET', '/boards');
  if (!boards.some((b) => b.slug === board)) board = boards[0]?.slug ?? 'default';
  const select = $<HTMLSelectElement>('board');
  select.replaceChildren(
    ...boards.map((b) => el('option', { value: b.slug, textContent: b.name || b.slug, selected: b.slug === board })),
  );
  select.addEventListener('change', () => void switchBoard(select.value));
  // One listener each for every card (a board may hold thousands).
  const cardOf = (event: Event) =>
    event.target instanceof Element ? event.target.closest<HTMLElement>('.card')?.dataset.taskId : undefined;
  $('columns').addEventListener('click', (event) => {
    const id = cardOf(event);
    if (id) void openDrawer(id);
  });
  $('columns').addEventListener('dragstart', (event) => {
    const id = cardOf(event);
    if (id) event.dataTransfer?.setData('text/plain', id);
  });
  $('assignee-filter').addEventListener('change', render);
  $('search').addEventListener('input', render);
  const form = $<HTMLFormElement>('create');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    void act(async () => {
      await call('POST', boardPath('/tasks'), {
        title: text('title'),
        assignee: text('assignee') || null,
        priority: Number(text('priority') || 0),
      });
      form.reset();
    });
  });
  await switchBoard(board);
}

start().catch((error: unknown) => showError(error instanceof Error ? error.message : String(error)));
