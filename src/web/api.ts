/** The board's JSON API over the repository: the library's inputs and errors, mapped to HTTP. */
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { setTimeout as sleep } from 'node:timers/promises';
import { TASK_STATUSES, type TaskStatus } from '../core/schema';
import { KanbanError, isKanbanError, type KanbanErrorCode } from '../errors';
import type { Kanban } from '../kanban';
import { boardFeed, type Feed } from './feed';
import type { Boards } from './boards';
import { cardOf, type TaskDetail } from './wire';
import {
  blockInput,
  commentInput,
  completeInput,
  createTaskInput,
  editTaskInput,
  parse,
  promoteInput,
  reclaimInput,
  reopenReviewInput,
  requestChangesInput,
  requestReviewInput,
  scheduleInput,
  unblockInput,
} from '../core/input';

/** How often a board's one reader looks for new events: every open page sees a change within this. */
export const STREAM_POLL_MS = 100;
const STREAM_KEEPALIVE_MS = 15_000;

const STATUS_OF: Partial<Record<KanbanErrorCode, 400 | 404 | 409 | 503>> = {
  INVALID_INPUT: 400,
  INVALID_BOARD: 400,
  CYCLE: 400,
  NOT_FOUND: 404,
  BOARD_NOT_FOUND: 404,
  INVALID_TRANSITION: 409,
  STALE_RUN: 409,
  REFERENCED: 409,
  BUSY: 503,
};

/** What the page is told of the storage's failures, whose own messages name the file on the server. */
const STORAGE_MESSAGES: Partial<Record<KanbanErrorCode, string>> = {
  BUSY: 'The board is busy with another writer; retry in a moment',
  CORRUPT: 'The board’s file is damaged; nothing was written. The server’s log says which file',
  IO_ERROR: 'The board’s file could not be read or written; nothing was written. The server’s log says why',
  DISK_FULL: 'The server’s disk is full; nothing was written',
  READ_ONLY: 'The board cannot be written on this server; nothing was written',
  NOT_A_DATABASE: 'The board’s file is not a database. The server’s log says which file',
  CANNOT_OPEN: 'The board’s storage cannot be opened. The server’s log says why',
  CLOSED: 'The board was closed on the server; retry',
};

async function body(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return Object.fromEntries(Object.entries(value));
  } catch {
    // refused below
  }
  throw new KanbanError('INVALID_INPUT', 'The request body must be a JSON object');
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The API. An unexpected error is logged with its stack and answered as `INTERNAL` with a message
 * that tells nothing of the server's insides (paths, SQL, a driver's words).
 */
export function api(boards: Boards, log: (line: string) => void): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    if (isKanbanError(error)) {
      const status = STATUS_OF[error.code] ?? 500;
      // The storage's own words name the board's file on the server: the page is told what to do, the log the rest.
      const storage = STORAGE_MESSAGES[error.code];
      if (!storage) return c.json({ code: error.code, message: error.message }, status);
      log(`kanban serve: ${c.req.method} ${c.req.path} failed: ${error.message}`);
      return c.json({ code: error.code, message: storage }, status);
    }
    log(`kanban serve: ${c.req.method} ${c.req.path} failed: ${error.stack ?? error.message}`);
    return c.json({ code: 'INTERNAL', message: 'The server failed to answer this request; its log says why' }, 500);
  });
  app.notFound((c) => c.json({ code: 'NOT_FOUND', message: `No route ${c.req.method} ${c.req.path}` }, 404));

  const board = (c: Context) => boards.open(c.req.param('board') ?? '');
  const id = (c: Context) => c.req.param('id') ?? '';

  app.get('/boards', async (c) => c.json(await boards.list()));
  app.post('/boards', async (c) => {
    const { slug, name } = await body(c);
    return c.json(await boards.create(str(slug) ?? '', str(name)), 201);
  });
  app.patch('/boards/:board', async (c) => {
    const { name } = await body(c);
    const given = str(name)?.trim();
    if (!given) throw new KanbanError('INVALID_INPUT', 'A board’s new name must be a non-empty string');
    return c.json(await boards.rename(c.req.param('board'), given));
  });
  app.delete('/boards/:board', async (c) => {
    await boards.remove(c.req.param('board'));
    return c.json({ slug: c.req.param('board'), removed: true });
  });
  /** The cards of the tasks named (`?id=…`, at most 100), those that exist: a page following changes reads only these. */
  app.get('/boards/:board/cards', async (c) => {
    const kb = await board(c);
    const ids = [...new Set(c.req.queries('id') ?? [])];
    if (ids.length > 100)
      throw new KanbanError('INVALID_INPUT', 'At most 100 ids a request; read the whole list instead');
    const found = await Promise.all(ids.map((taskId) => kb.findTask(taskId)));
    return c.json(found.flatMap((task) => (task ? [cardOf(task)] : [])));
  });
  app.get('/boards/:board/tasks', async (c) => {
    const kb = await board(c);
    const status = c.req.queries('status');
    const unknown = status?.find((s) => !TASK_STATUSES.some((known) => known === s));
    if (unknown)
      throw new KanbanError('INVALID_INPUT', `Invalid status: ${unknown} (one of ${TASK_STATUSES.join(', ')})`);
    const statuses = status?.filter((s): s is TaskStatus => TASK_STATUSES.some((known) => known === s));
    const tasks = await kb.listTasks({
      status: statuses,
      assignee: c.req.query('assignee') || undefined,
      includeArchived: c.req.query('archived') === '1',
    });
    const q = c.req.query('q')?.toLowerCase();
    const found = q ? tasks.filter((t) => `${t.title}\n${t.body ?? ''}\n${t.id}`.toLowerCase().includes(q)) : tasks;
    // `view=cards`: only what a card shows and the page searches, a fifth of the bytes on a big board.
    if (c.req.query('view') !== 'cards') return c.json(found);
    return c.json(found.map(cardOf));
  });
  app.post('/boards/:board/tasks', async (c) => {
    const kb = await board(c);
    return c.json(await kb.createTask(parse(createTaskInput, await body(c), 'task')), 201);
  });
  app.get('/boards/:board/tasks/:id', async (c) => {
    const kb = await board(c);
    const task = await kb.getTask(id(c));
    const [comments, runs, events, links] = [
      await kb.listComments(task.id),
      await kb.listRuns(task.id),
      await kb.listEvents({ taskId: task.id }),
      await kb.listLinks(task.id),
    ];
    const detail: TaskDetail = { task, ...links, comments, runs, events };
    return c.json(detail);
  });
  app.delete('/boards/:board/tasks/:id', async (c) => {
    await (await board(c)).deleteTask(id(c));
    return c.json({ id: id(c), deleted: true });
  });
  // One commit for every field sent: a refused one writes none of them.
  app.patch('/boards/:board/tasks/:id', async (c) =>
    c.json(await (await board(c)).editTask(id(c), parse(editTaskInput, await body(c), 'edit'))),
  );
  const moves: Record<string, (kb: Kanban, id: string, input: Record<string, unknown>) => Promise<unknown>> = {
    complete: (kb, id, input) => kb.completeTask(id, parse(completeInput, input, 'complete')),
    block: (kb, id, input) => kb.blockTask(id, parse(blockInput, input, 'block')),
    unblock: (kb, id, input) => kb.unblockTask(id, parse(unblockInput, input, 'unblock')),
    schedule: (kb, id, input) => kb.scheduleTask(id, parse(scheduleInput, input, 'schedule')),
    archive: (kb, id) => kb.archiveTask(id),
    reclaim: (kb, id, input) => kb.reclaimTask(id, parse(reclaimInput, input, 'reclaim')),
    promote: (kb, id, input) => kb.promoteTask(id, parse(promoteInput, input, 'promote')),
    'request-review': (kb, id, input) => kb.requestReview(id, parse(requestReviewInput, input, 'request review')),
    'request-changes': (kb, id, input) => kb.requestChanges(id, parse(requestChangesInput, input, 'request changes')),
    'reopen-review': (kb, id, input) => kb.reopenReview(id, parse(reopenReviewInput, input, 'reopen review')),
  };
  app.post(`/boards/:board/tasks/:id/:move{${Object.keys(moves).join('|')}}`, async (c) => {
    const move = moves[c.req.param('move')];
    if (!move) throw new Error(`The route matched a move with no handler: ${c.req.param('move')}`);
    return c.json(await move(await board(c), id(c), await body(c)));
  });
  app.post('/boards/:board/links', async (c) => {
    const kb = await board(c);
    const { parent, child } = await body(c);
    await kb.linkTasks(str(parent) ?? '', str(child) ?? '');
    return c.json({ parent, child, linked: true }, 201);
  });
  app.delete('/boards/:board/links', async (c) => {
    const kb = await board(c);
    const { parent, child } = await body(c);
    await kb.unlinkTasks(str(parent) ?? '', str(child) ?? '');
    return c.json({ parent, child, linked: false });
  });
  // A missing task is 404 here too, not an empty list.
  const existing = async (c: Context) => {
    const kb = await board(c);
    return { kb, task: await kb.getTask(id(c)) };
  };
  app.get('/boards/:board/tasks/:id/comments', async (c) => {
    const { kb, task } = await existing(c);
    return c.json(await kb.listComments(task.id));
  });
  app.post('/boards/:board/tasks/:id/comments', async (c) =>
    c.json(await (await board(c)).addComment(id(c), parse(commentInput, await body(c), 'comment')), 201),
  );
  app.get('/boards/:board/tasks/:id/runs', async (c) => {
    const { kb, task } = await existing(c);
    return c.json(await kb.listRuns(task.id));
  });
  app.get('/boards/:board/events', async (c) => {
    const after = c.req.query('after');
    return c.json(
      await (await board(c)).listEvents({ afterId: after === undefined ? undefined : Number(after), limit: 500 }),
    );
  });
  app.get('/boards/:board/stats', async (c) => c.json(await (await board(c)).stats()));
  app.get('/boards/:board/diagnostics', async (c) => c.json(await (await board(c)).diagnostics()));
  app.get('/boards/:board/flow', async (c) => {
    const days = c.req.query('days');
    return c.json(await (await board(c)).flow(days === undefined ? {} : { days: Number(days) }));
  });

  const feeds = new WeakMap<Kanban, Feed>();
  const feedOf = (kb: Kanban) => {
    const known = feeds.get(kb);
    if (known) return known;
    const feed = boardFeed(kb, STREAM_POLL_MS, log);
    feeds.set(kb, feed);
    return feed;
  };

  /**
   * Server-Sent Events: one `change` per new event of the board, whoever wrote it (any process,
   * either program). Every open stream of a board is fed by the board's one reader.
   */
  app.get('/boards/:board/stream', async (c) => {
    const kb = await board(c);
    const asked = c.req.query('after');
    const start = asked === undefined ? await kb.lastEventId() : Number(asked);
    const after = Number.isSafeInteger(start) ? start : 0;
    return streamSSE(c, async (stream) => {
      await stream.writeSSE({ event: 'ready', data: JSON.stringify({ after }) });
      const stop = feedOf(kb).subscribe(after, async (events) => {
        for (const event of events)
          await stream.writeSSE({ event: 'change', id: String(event.id), data: JSON.stringify(event) });
      });
      const closed = new AbortController();
      stream.onAbort(() => closed.abort());
      try {
        while (!stream.aborted && !stream.closed) {
          await sleep(STREAM_KEEPALIVE_MS, undefined, { signal: closed.signal }).catch(() => undefined);
          if (!stream.aborted && !stream.closed) await stream.write(': keepalive\n\n');
        }
      } finally {
        stop();
      }
    });
  });
  return app;
}
