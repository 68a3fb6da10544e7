import { get } from 'node:http';
import { openKanban } from '../../src/kanban';
import { startServer, type BoardServer } from '../../src/web/server';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newServerBoard, testServerUrl } from '../helpers/board';
import { startTestServer } from '../helpers/postgres';
import { execScript, withTempDir } from '../helpers/temp';

interface Call {
  status: number;
  json: () => unknown;
}

async function withServer(
  fn: (
    call: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Call>,
    ids: { a: string; b: string },
    server: BoardServer,
    home: string,
  ) => Promise<void>,
  token?: string,
): Promise<void> {
  await withTempDir(async (home) => {
    const kb = await openKanban({ home, board: 'default' });
    const a = await kb.createTask({ title: 'alpha', assignee: 'w' });
    const b = await kb.createTask({ title: 'beta', body: 'searchable words' });
    kb.close();
    const server = await startServer({ home, port: 0, ...(token && { token }) });
    try {
      await fn(
        async (method, path, body, headers = {}) => {
          const response = await fetch(`${server.url}api${path}`, {
            method,
            headers: { 'content-type': 'application/json', ...headers },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          const text = await response.text();
          return { status: response.status, json: () => JSON.parse(text) };
        },
        { a: a.id, b: b.id },
        server,
        home,
      );
    } finally {
      await server.close();
    }
  });
}

describe('the web API', () => {
  it('lists boards, tasks with filters and search, a task with its links, comments, runs and events, and stats', async () => {
    await withServer(async (call, { a, b }) => {
      expect((await call('GET', '/boards')).json()).toEqual([{ slug: 'default', name: 'Default' }]);
      expect(
        ((await call('GET', '/boards/default/tasks?assignee=w')).json() as { id: string }[]).map((t) => t.id),
      ).toEqual([a]);
      expect(
        ((await call('GET', '/boards/default/tasks?q=SEARCHABLE')).json() as { id: string }[]).map((t) => t.id),
      ).toEqual([b]);
      expect(((await call('GET', '/boards/default/tasks?status=ready&status=done')).json() as unknown[]).length).toBe(
        2,
      );
      expect((await call('POST', '/boards/default/links', { parent: a, child: b })).status).toBe(201);
      const detail = await call('GET', `/boards/default/tasks/${b}`);
      expect(detail.json()).toMatchObject({
        task: { id: b, status: 'todo' },
        parents: [{ id: a, title: 'alpha' }],
        children: [],
        comments: [],
        runs: [],
      });
      expect((await call('DELETE', '/boards/default/links', { parent: a, child: b })).json()).toMatchObject({
        linked: false,
      });
      expect((await call('POST', `/boards/default/tasks/${a}/comments`, { author: 'ana', body: 'hi' })).status).toBe(
        201,
      );
      expect((await call('GET', `/boards/default/tasks/${a}/comments`)).json()).toMatchObject([
        { author: 'ana', body: 'hi' },
      ]);
      expect((await call('GET', `/boards/default/tasks/${a}/runs`)).json()).toEqual([]);
      expect(((await call('GET', '/boards/default/events?after=0')).json() as unknown[]).length).toBeGreaterThan(3);
      expect((await call('GET', '/boards/default/stats')).json()).toMatchObject({ total: 2 });
    });
  });

  it('reads the cards of named tasks only, those that exist, at most 100 a request', async () => {
    await withServer(async (call, { a }) => {
      const read = await call('GET', `/boards/default/cards?id=${a}&id=t_missing&id=${a}`);
      expect(read.status).toBe(200);
      // A card's fields and no more.
      expect(read.json()).toEqual([
        {
          id: a,
          title: 'alpha',
          body: null,
          assignee: 'w',
          status: 'ready',
          priority: 0,
          consecutiveFailures: 0,
          createdAt: expect.any(Number),
          blockKind: null,
          claimExpires: null,
          lastHeartbeatAt: null,
          startedAt: null,
        },
      ]);
      const many = Array.from({ length: 101 }, (_, i) => `id=t_${i}`).join('&');
      expect((await call('GET', `/boards/default/cards?${many}`)).json()).toMatchObject({ code: 'INVALID_INPUT' });
    });
  });

  it('creates, edits, assigns and moves tasks', async () => {
    await withServer(async (call, { a, b }) => {
      const created = await call('POST', '/boards/default/tasks', { title: 'gamma', priority: 4 });
      expect(created.status).toBe(201);
      expect(created.json()).toMatchObject({ title: 'gamma', priority: 4, status: 'ready' });
      expect(
        (await call('PATCH', `/boards/default/tasks/${a}`, { title: 'alpha 2', priority: 9, assignee: 'ana' })).json(),
      ).toMatchObject({ title: 'alpha 2', priority: 9, assignee: 'ana' });
      expect(
        (await call('POST', `/boards/default/tasks/${a}/block`, { reason: 'which key?', kind: 'needs_input' })).json(),
      ).toMatchObject({ status: 'blocked', blockKind: 'needs_input' });
      expect((await call('POST', `/boards/default/tasks/${a}/unblock`)).json()).toMatchObject({ status: 'ready' });
      expect((await call('POST', `/boards/default/tasks/${a}/schedule`, { reason: 'Monday' })).json()).toMatchObject({
        status: 'scheduled',
      });
      expect((await call('POST', `/boards/default/tasks/${b}/complete`, { result: 'ok' })).json()).toMatchObject({
        status: 'done',
        result: 'ok',
      });
      expect((await call('POST', `/boards/default/tasks/${b}/archive`)).json()).toMatchObject({ status: 'archived' });
      expect((await call('POST', `/boards/default/tasks/${a}/reclaim`)).status).toBe(409);
    });
  });

  it('edits in one commit: a refused field writes none, and a running task’s title is edited without reassigning it', async () => {
    await withServer(async (call, { a }, _server, home) => {
      const refused = await call('PATCH', `/boards/default/tasks/${a}`, {
        assignee: 'bob',
        reasoningEffort: 'extreme',
      });
      expect([refused.status, (refused.json() as { code: string }).code]).toEqual([400, 'INVALID_INPUT']);
      expect((await call('GET', `/boards/default/tasks/${a}`)).json()).toMatchObject({ task: { assignee: 'w' } });
      const kb = await openKanban({ home, board: 'default' });
      await kb.claimTask(a);
      kb.close();
      const edited = await call('PATCH', `/boards/default/tasks/${a}`, { title: 'alpha, renamed while it runs' });
      expect([edited.status, edited.json()]).toEqual([
        200,
        expect.objectContaining({ title: 'alpha, renamed while it runs', status: 'running', assignee: 'w' }),
      ]);
      expect((await call('PATCH', `/boards/default/tasks/${a}`, { assignee: 'bob' })).status).toBe(409);
    });
  });

  it('moves a task through review: request review, reopen, promote', async () => {
    await withServer(async (call, { a }) => {
      const moved = (path: string, body?: unknown) => call('POST', `/boards/default/tasks/${a}/${path}`, body);
      expect((await moved('request-review', { reviewer: 'critic' })).json()).toMatchObject({
        status: 'review',
        assignee: 'critic',
      });
      expect((await moved('reopen-review', { reason: 'not yet' })).json()).toMatchObject({
        status: 'ready',
        assignee: 'w',
      });
      expect((await moved('promote')).status).toBe(409);
      expect((await moved('fly')).status).toBe(404);
    });
  });

  it('answers a storage failure with its code and what to do, and logs the file it names', async () => {
    await withTempDir(async (home) => {
      writeFileSync(join(home, 'kanban.db'), 'this is not a database, and it is long enough to have a header');
      const logged: string[] = [];
      const server = await startServer({ home, port: 0, log: (line) => logged.push(line) });
      try {
        const response = await fetch(`${server.url}api/boards/default/tasks`);
        const body = await response.text();
        expect([response.status, JSON.parse(body).code]).toEqual([500, 'NOT_A_DATABASE']);
        expect(body).not.toContain(home);
        expect(logged.join('\n')).toContain(join(home, 'kanban.db'));
        // The failed open is not kept: once the file is moved aside, the next request serves a new board.
        rmSync(join(home, 'kanban.db'));
        expect((await fetch(`${server.url}api/boards/default/tasks`)).status).toBe(200);
      } finally {
        await server.close();
      }
    });
  });

  it('answers an unexpected failure as INTERNAL without its insides, and logs them', async () => {
    await withTempDir(async (home) => {
      const kb = await openKanban({ home, board: 'default' });
      const task = await kb.createTask({ title: 'x' });
      kb.close();
      await execScript(join(home, 'kanban.db'), 'DROP TABLE task_comments');
      const logged: string[] = [];
      const server = await startServer({ home, port: 0, log: (line) => logged.push(line) });
      try {
        const response = await fetch(`${server.url}api/boards/default/tasks/${task.id}/comments`);
        const body = await response.text();
        expect([response.status, JSON.parse(body).code]).toEqual([500, 'INTERNAL']);
        expect(body).not.toContain('task_comments');
        expect(logged.join('\n')).toContain('no such table: task_comments');
      } finally {
        await server.close();
      }
    });
  });

  it.each([
    ['POST', '/boards/default/tasks', { title: '' }, 'INVALID_INPUT'],
    ['POST', '/boards/default/tasks', { title: 'x', surprise: 1 }, 'INVALID_INPUT'],
    ['PATCH', '/boards/default/tasks/:a', { priority: 'high' }, 'INVALID_INPUT'],
    ['POST', '/boards/default/tasks/:a/block', { reason: 'x', kind: 'tired' }, 'INVALID_INPUT'],
    ['POST', '/boards/default/tasks/:a/comments', { author: 'ana' }, 'INVALID_INPUT'],
    ['POST', '/boards/default/links', { parent: ':a', child: ':a' }, 'CYCLE'],
    ['GET', '/boards/default/tasks?status=sleeping', undefined, 'INVALID_INPUT'],
  ])('%s %s with bad input is 400 with the code', async (method, path, body, code) => {
    await withServer(async (call, { a }) => {
      const fill = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null).replaceAll(':a', a));
      const response = await call(method, path.replace(':a', a), body === undefined ? undefined : fill(body));
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({ code, message: expect.any(String) });
    });
  });

  it.each([
    ['GET', '/boards/default/tasks/t_nope'],
    ['PATCH', '/boards/default/tasks/t_nope'],
    ['POST', '/boards/default/tasks/t_nope/complete'],
    ['GET', '/boards/default/tasks/t_nope/comments'],
    ['POST', '/boards/default/tasks/t_nope/comments'],
    ['GET', '/boards/default/tasks/t_nope/runs'],
    ['DELETE', '/boards/default/links'],
    ['GET', '/boards/nope/tasks'],
    ['GET', '/boards/nope/stream'],
  ])('%s %s of something missing is 404', async (method, path) => {
    await withServer(async (call, { a }) => {
      const body =
        method === 'GET'
          ? undefined
          : path.endsWith('links')
            ? { parent: a, child: 't_nope' }
            : path.endsWith('comments')
              ? { author: 'a', body: 'b' }
              : path.endsWith('complete')
                ? {}
                : { title: 'x' };
      const response = await call(method, path, body);
      expect(response.status).toBe(404);
      expect((response.json() as { code: string }).code).toMatch(/NOT_FOUND/);
    });
  });

  it('streams the board’s new events as Server-Sent Events', async () => {
    await withServer(async (call, { a }, server) => {
      const stream = await fetch(`${server.url}api/boards/default/stream`);
      const reader = stream.body?.pipeThrough(new TextDecoderStream()).getReader();
      let seen = '';
      const first = await reader?.read();
      seen += first?.value ?? '';
      expect(seen).toContain('event: ready');
      await call('POST', `/boards/default/tasks/${a}/comments`, { author: 'ana', body: 'live' });
      while (!seen.includes('"kind":"commented"')) seen += (await reader?.read())?.value ?? '';
      expect(seen).toMatch(/event: change\ndata: \{"id":\d+,"taskId":"t_.*"kind":"commented".*\}\nid: \d+/);
      await reader?.cancel();
    });
  });

  describe('with a token', () => {
    it.each([
      ['no token', {}],
      ['a wrong token', { authorization: 'Bearer wrong' }],
      ['a wrong header token', { 'x-kanban-token': 'secret!' }],
    ])('refuses a request with %s: 401', async (_what, headers) => {
      await withServer(async (call) => {
        for (const [method, path, body] of [
          ['GET', '/boards/default/tasks', undefined],
          ['POST', '/boards/default/tasks', { title: 'x' }],
        ] as const) {
          const response = await call(method, path, body, headers);
          expect(response.status).toBe(401);
          expect(response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
        }
      }, 'secret');
    });

    it('accepts the token as a bearer or in x-kanban-token, from any origin', async () => {
      await withServer(async (call) => {
        expect((await call('GET', '/boards', undefined, { authorization: 'Bearer secret' })).status).toBe(200);
        expect(
          (
            await call(
              'POST',
              '/boards/default/tasks',
              { title: 'x' },
              { 'x-kanban-token': 'secret', origin: 'http://elsewhere.example' },
            )
          ).status,
        ).toBe(201);
      }, 'secret');
    });
  });

  it('refuses writes from another site and requests naming another host, without a token', async () => {
    await withServer(async (call, _ids, server) => {
      expect(
        (await call('POST', '/boards/default/tasks', { title: 'x' }, { origin: 'http://evil.example' })).json(),
      ).toMatchObject({ code: 'CROSS_SITE' });
      expect(
        (await call('POST', '/boards/default/tasks', { title: 'x' }, { 'sec-fetch-site': 'cross-site' })).json(),
      ).toMatchObject({ code: 'CROSS_SITE' });
      expect(((await call('GET', '/boards/default/tasks')).json() as unknown[]).length).toBe(2);
      // fetch will not send another Host; a page reached through DNS rebinding would.
      const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(`${server.url}api/boards`);
        get(
          { host: url.hostname, port: url.port, path: url.pathname, headers: { host: 'evil.example' } },
          (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => (body += chunk.toString()));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          },
        ).on('error', reject);
      });
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.body)).toMatchObject({ code: 'FORBIDDEN_HOST' });
    });
  });

  it('refuses to listen beyond the loopback without a token', async () => {
    await expect(startServer({ host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: 'TOKEN_REQUIRED' });
  });
});

describe('the web API on a server', () => {
  it('serves the boards of a PostgreSQL server: their tasks, a move, stats; a missing slug is BOARD_NOT_FOUND', async () => {
    const url = await (await startTestServer()).database('web_api_boards');
    const board = newServerBoard();
    const kb = await openKanban({ url, board });
    const task = await kb.createTask({ title: 'on the server' });
    const server = await startServer({ url, port: 0 });
    try {
      const call = async (method: string, path: string) => {
        const response = await fetch(`${server.url}api${path}`, { method });
        return { status: response.status, json: await response.json() };
      };
      expect((await call('GET', '/boards')).json).toEqual([
        { slug: 'default', name: 'Default' },
        { slug: board, name: board },
      ]);
      expect((await call('GET', `/boards/${board}/tasks`)).json).toMatchObject([{ id: task.id, status: 'ready' }]);
      expect((await call('POST', `/boards/${board}/tasks/${task.id}/complete`)).json).toMatchObject({ status: 'done' });
      expect((await kb.getTask(task.id)).status).toBe('done');
      expect((await call('GET', `/boards/${board}/stats`)).json).toMatchObject({ total: 1 });
      expect(await call('GET', '/boards/other/tasks')).toMatchObject({
        status: 404,
        json: { code: 'BOARD_NOT_FOUND' },
      });
    } finally {
      await server.close();
      kb.close();
    }
  });
});

describe.each(['home', 'server'] as const)('managing boards through the API (%s)', (where) => {
  it('creates, renames and removes boards; refuses a taken slug, the default board, and an empty name', async () => {
    await withTempDir(async (home) => {
      const url = where === 'server' ? await (await startTestServer()).database('web_api_manage') : undefined;
      const server = await startServer({ ...(url ? { url } : { home }), port: 0 });
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${server.url}api${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: response.status, json: await response.json() };
      };
      try {
        expect(await call('POST', '/boards', { slug: 'ops', name: 'Operations' })).toEqual({
          status: 201,
          json: { slug: 'ops', name: 'Operations' },
        });
        expect(await call('POST', '/boards', { slug: 'ops' })).toMatchObject({
          status: 400,
          json: { code: 'INVALID_BOARD' },
        });
        expect((await call('POST', '/boards/ops/tasks', { title: 'on ops' })).status).toBe(201);
        expect(await call('PATCH', '/boards/ops', { name: 'Ops team' })).toMatchObject({
          status: 200,
          json: { name: 'Ops team' },
        });
        expect(await call('PATCH', '/boards/ops', { name: ' ' })).toMatchObject({
          status: 400,
          json: { code: 'INVALID_INPUT' },
        });
        expect((await call('GET', '/boards')).json).toEqual([
          { slug: 'default', name: 'Default' },
          { slug: 'ops', name: 'Ops team' },
        ]);
        expect(await call('DELETE', '/boards/default')).toMatchObject({ status: 400, json: { code: 'INVALID_BOARD' } });
        expect(await call('DELETE', '/boards/ops')).toMatchObject({ status: 200, json: { removed: true } });
        expect((await call('GET', '/boards')).json).toEqual([{ slug: 'default', name: 'Default' }]);
        expect(await call('GET', '/boards/ops/tasks')).toMatchObject({
          status: 404,
          json: { code: 'BOARD_NOT_FOUND' },
        });
      } finally {
        await server.close();
      }
    });
  });
});
