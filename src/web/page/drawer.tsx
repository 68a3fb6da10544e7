/**
 * The drawer of one task: its fields to edit, its moves, what it waits for (parents to add and
 * remove) and what waits for it, comments, runs and events. Bodies and comments are Markdown,
 * made safe (`markdown.ts`); every other piece of user text is set as text.
 */
import { useEffect, useState } from 'preact/hooks';
import type { LinkedTask, TaskDetail } from '../wire';
import { call, taskPath, boardPath } from './api';

const MOVES = [
  'complete',
  'block',
  'unblock',
  'schedule',
  'reclaim',
  'promote',
  'request-review',
  'reopen-review',
  'archive',
] as const;
const FIELDS = ['title', 'assignee', 'priority', 'body'] as const;
type Field = (typeof FIELDS)[number];

const time = (seconds: number | null) => (seconds === null ? '…' : new Date(seconds * 1000).toLocaleString());

/** The body a move's call sends: the board names why it blocked or scheduled. */
export function moveBody(action: string): Record<string, string> {
  if (action === 'block') return { reason: 'blocked from the board' };
  if (action === 'schedule') return { reason: 'scheduled from the board' };
  return {};
}

/** The Markdown renderer (marked and DOMPurify) loads with the first drawer, not with the board. */
let renderer: Promise<typeof import('./markdown')> | undefined;

function Markdown({ text, class: className }: { text: string; class?: string }) {
  const [html, setHtml] = useState<string | undefined>();
  useEffect(() => {
    let current = true;
    renderer ??= import('./markdown');
    void renderer.then((module) => current && setHtml(module.markdown(text)));
    return () => {
      current = false;
    };
  }, [text]);
  // Sanitised by DOMPurify in markdown(): no script, handler or raw HTML survives. Until then, the text as text.
  if (html === undefined) return <div class={className}>{text}</div>;
  return <div class={className} dangerouslySetInnerHTML={{ __html: html }} />;
}

export interface DrawerProps {
  readonly board: string;
  readonly id: string;
  /** Bumped on every change of the board: the drawer reads its task again. */
  readonly version: number;
  /** Runs a call, shows its refusal, and refreshes the board. */
  act(what: () => Promise<unknown>): void;
  close(): void;
}

export function Drawer({ board, id, version, act, close }: DrawerProps) {
  const [detail, setDetail] = useState<TaskDetail | undefined>();
  // What the person typed and has not saved: a live refresh keeps it.
  const [edits, setEdits] = useState<Partial<Record<Field, string>>>({});
  const [comment, setComment] = useState('');
  const [parent, setParent] = useState('');
  useEffect(() => setEdits({}), [id]);
  useEffect(() => {
    let current = true;
    call<TaskDetail>('GET', taskPath(board, id)).then(
      (read) => current && setDetail(read),
      () => current && setDetail(undefined),
    );
    return () => {
      current = false;
    };
  }, [board, id, version]);
  if (!detail || detail.task.id !== id) return null;
  const { task } = detail;
  const stored: Record<Field, string> = {
    title: task.title,
    assignee: task.assignee ?? '',
    priority: String(task.priority ?? 0),
    body: task.body ?? '',
  };
  const value = (field: Field) => edits[field] ?? stored[field];
  const edit = (field: Field) => (event: Event) =>
    event.currentTarget instanceof HTMLInputElement || event.currentTarget instanceof HTMLTextAreaElement
      ? setEdits({ ...edits, [field]: event.currentTarget.value })
      : undefined;
  // Only what the person changed is sent: an untouched assignee of a running task is not a reassignment.
  const save = () => {
    const changed: Record<string, unknown> = {};
    for (const field of FIELDS) {
      const typed = edits[field];
      if (typed === undefined || typed === stored[field]) continue;
      changed[field] = field === 'priority' ? Number(typed) : field === 'assignee' ? typed.trim() || null : typed;
    }
    if (Object.keys(changed).length === 0) return;
    act(async () => {
      await call('PATCH', taskPath(board, id), changed);
      setEdits({});
    });
  };
  const link = (method: 'POST' | 'DELETE', parentId: string) =>
    act(async () => {
      await call(method, boardPath(board, '/links'), { parent: parentId, child: id });
      if (method === 'POST') setParent('');
    });
  const input = (field: Field, label: string) => (
    <div class="field">
      <label for={`field-${field}`}>{label}</label>
      {field === 'body' ? (
        <textarea id={`field-${field}`} name={field} value={value(field)} onInput={edit(field)} />
      ) : field === 'priority' ? (
        <input id={`field-${field}`} name={field} type="number" value={value(field)} onInput={edit(field)} />
      ) : (
        <input id={`field-${field}`} name={field} type="text" value={value(field)} onInput={edit(field)} />
      )}
    </div>
  );
  const linked = (list: LinkedTask[], remove: boolean) => (
    <ul>
      {list.map((t) => (
        <li key={t.id}>
          {`${t.id} ${t.status}: ${t.title}`}
          {remove && (
            <button
              type="button"
              data-action="unlink"
              aria-label={`Stop waiting for ${t.title}`}
              onClick={() => link('DELETE', t.id)}
            >
              ×
            </button>
          )}
        </li>
      ))}
    </ul>
  );
  return (
    <aside id="drawer" data-testid="drawer" data-task-id={id} aria-label={`Task ${task.title}`}>
      <button type="button" class="close" title="Close" aria-label="Close the task" onClick={close}>
        ×
      </button>
      <h2>{task.title}</h2>
      <p>{`${task.id} · ${task.status}${task.blockKind ? ` (${task.blockKind})` : ''} · created ${time(task.createdAt)}`}</p>
      {input('title', 'Title')}
      {input('assignee', 'Assignee')}
      {input('priority', 'Priority')}
      {input('body', 'Body (Markdown)')}
      <button type="button" onClick={save}>
        Save
      </button>
      {task.body && <Markdown class="body-md" text={task.body} />}
      <div class="actions">
        {MOVES.map((action) => (
          <button
            type="button"
            key={action}
            data-action={action}
            onClick={() => act(() => call('POST', taskPath(board, id, `/${action}`), moveBody(action)))}
          >
            {action}
          </button>
        ))}
        <button
          type="button"
          class="danger"
          data-action="delete"
          onClick={() => {
            if (!confirm(`Delete “${task.title}” with its runs, events and comments?`)) return;
            act(async () => {
              await call('DELETE', taskPath(board, id));
              close();
            });
          }}
        >
          delete
        </button>
      </div>
      <h3>Waits for</h3>
      {linked(detail.parents, true)}
      <form
        class="link"
        onSubmit={(event) => {
          event.preventDefault();
          if (parent.trim()) link('POST', parent.trim());
        }}
      >
        <input
          name="parent"
          placeholder="Parent task id"
          aria-label="Parent task id"
          value={parent}
          onInput={(event) => setParent(event.currentTarget.value)}
        />
        <button type="submit" data-action="link">
          Wait for it
        </button>
      </form>
      <h3>Needed by</h3>
      {linked(detail.children, false)}
      <h3>{`Comments (${detail.comments.length})`}</h3>
      <ul class="comments">
        {detail.comments.map((c) => (
          <li key={c.id}>
            <b>{c.author}</b>
            {': '}
            <Markdown class="md" text={c.body} />
          </li>
        ))}
      </ul>
      <textarea
        name="comment"
        placeholder="Add a comment (Markdown)"
        aria-label="Add a comment"
        value={comment}
        onInput={(event) => setComment(event.currentTarget.value)}
      />
      <button
        type="button"
        data-action="comment"
        onClick={() =>
          act(async () => {
            await call('POST', taskPath(board, id, '/comments'), { author: 'web', body: comment });
            setComment('');
          })
        }
      >
        Comment
      </button>
      <h3>{`Runs (${detail.runs.length})`}</h3>
      <ul class="runs">
        {detail.runs.map((r) => (
          <li key={r.id}>
            {`#${r.id} ${r.outcome ?? r.status} ${time(r.startedAt)} → ${time(r.endedAt)}${r.error ? ` · ${r.error}` : r.summary ? ` · ${r.summary}` : ''}`}
          </li>
        ))}
      </ul>
      <h3>Events</h3>
      <ul>
        {detail.events.map((e) => (
          <li key={e.id}>{`#${e.id} ${e.kind} ${e.payload ? JSON.stringify(e.payload) : ''}`}</li>
        ))}
      </ul>
    </aside>
  );
}
