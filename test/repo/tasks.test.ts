import { tasks } from '../../src/core/schema';
import { KanbanError, isKanbanError } from '../../src/errors';
import { ENGINES, raw, snapshot, untyped, withBoard, withTempBoard } from '../helpers/board';

describe.each(ENGINES)('on %s', (engine) => {
  describe('creating tasks', () => {
    it('gives ids of t_ and 8 hex characters, epoch-second times and a created event', async () => {
      await withBoard(engine, async (kb, clock) => {
        const task = await kb.createTask({ title: 'Write the report', assignee: '  Writer ', skills: ['search'] });
        expect(task.id).toMatch(/^t_[0-9a-f]{8}$/);
        expect(task).toMatchObject({
          status: 'ready',
          assignee: 'writer',
          createdAt: clock.seconds,
          skills: ['search'],
          priority: 0,
        });
        expect((await kb.listEvents({ taskId: task.id })).map((e) => e.kind)).toEqual(['created']);
      });
    });

    it('draws another id when a new id is taken, leaving the task that has it alone', async () => {
      const ids = ['t_0000000a', 't_0000000a', 't_0000000a', 't_0000000b'];
      await withBoard(
        engine,
        async (kb) => {
          const first = await kb.createTask({ title: 'first' });
          const second = await kb.createTask({ title: 'second' });
          expect([first.id, second.id]).toEqual(['t_0000000a', 't_0000000b']);
          expect((await kb.getTask('t_0000000a')).title).toBe('first');
          expect((await kb.listEvents()).map((e) => [e.taskId, e.kind])).toEqual([
            ['t_0000000a', 'created'],
            ['t_0000000b', 'created'],
          ]);
        },
        { newTaskId: () => ids.shift() ?? 't_ffffffff' },
      );
    });

    it('is ready without parents or with all parents done, todo otherwise, triage when asked', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent' });
        expect((await kb.createTask({ title: 'child', parents: [parent.id] })).status).toBe('todo');
        expect((await kb.createTask({ title: 'triaged', triage: true })).status).toBe('triage');
        await kb.completeTask(parent.id);
        expect((await kb.createTask({ title: 'late child', parents: [parent.id] })).status).toBe('ready');
      });
    });

    it('returns the first non-archived task for a repeated idempotency key', async () => {
      await withBoard(engine, async (kb) => {
        const first = await kb.createTask({ title: 'once', idempotencyKey: 'k1' });
        expect((await kb.createTask({ title: 'twice', idempotencyKey: 'k1' })).id).toBe(first.id);
        await kb.archiveTask(first.id);
        const third = await kb.createTask({ title: 'after archive', idempotencyKey: 'k1' });
        expect(third.id).not.toBe(first.id);
        expect(await kb.listTasks({ includeArchived: true })).toHaveLength(2);
      });
    });

    it.each([
      ['an empty title', { title: '   ' }, 'title'],
      ['a fractional priority', { title: 'x', priority: 1.5 }, 'priority'],
      ['an infinite priority', { title: 'x', priority: Infinity }, 'priority'],
      ['skills that are not a list of strings', { title: 'x', skills: 'search' }, 'skills'],
      ['an unknown parent', { title: 'x', parents: ['t_00000000'] }, 'parents'],
      ['an unknown field', { title: 'x', colour: 'red' }, 'task'],
    ])('refuses %s with INVALID_INPUT naming the field, writing nothing', async (_what, input, field) => {
      await withBoard(engine, async (kb) => {
        await kb.createTask({ title: 'existing' });
        const before = await snapshot(kb);
        const error = await kb.createTask(untyped(input)).catch((e: unknown) => e);
        expect(isKanbanError(error, 'INVALID_INPUT')).toBe(true);
        expect(error instanceof KanbanError && error.message).toContain(field);
        expect(await snapshot(kb)).toEqual(before);
      });
    });
  });

  describe('text with NUL bytes', () => {
    it('is refused at the boundary with INVALID_INPUT naming the field, writing nothing, instead of being cut', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'fine' });
        const claim = await kb.claimTask(task.id);
        const before = await snapshot(kb);
        const refusals: [string, Promise<unknown>][] = [
          ['title', kb.createTask({ title: 'a\0b' })],
          ['body', kb.createTask({ title: 'ok', body: 'x\0y' })],
          ['body', kb.addComment(task.id, { author: 'me', body: 'x\0' })],
          ['result', kb.completeTask(task.id, { runId: claim?.runId, result: 'r\0' })],
          ['error', kb.recordFailure(task.id, { runId: claim?.runId, error: 'e\0' })],
        ];
        for (const [field, refused] of refusals) {
          const error = await refused.catch((e: unknown) => e);
          expect(error).toMatchObject({
            code: 'INVALID_INPUT',
            message: expect.stringContaining(`Invalid ${field}: contains a NUL byte`),
          });
        }
        expect(await snapshot(kb)).toEqual(before);
      });
    });

    it('keeps other control characters and any Unicode byte for byte', async () => {
      await withBoard(engine, async (kb) => {
        const title = 'tab\there\u0001\u001b[31m red 🟥 中文 \uFFFF';
        expect((await kb.getTask((await kb.createTask({ title, body: title })).id)).body).toBe(title);
      });
    });
  });

  describe('deleting tasks', () => {
    it('deletes a task with its runs, events and comments, leaving one deleted event', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'gone soon', assignee: 'w' });
        const other = await kb.createTask({ title: 'stays' });
        const claim = await kb.claimTask(task.id);
        await kb.completeTask(task.id, { runId: claim?.runId });
        await kb.addComment(task.id, { author: 'me', body: 'note' });
        await kb.deleteTask(task.id);
        expect(await kb.findTask(task.id)).toBeUndefined();
        expect(await kb.listRuns(task.id)).toEqual([]);
        expect(await kb.listComments(task.id)).toEqual([]);
        expect((await kb.listEvents({ taskId: task.id })).map((e) => [e.kind, e.payload])).toEqual([
          ['deleted', { title: 'gone soon', from: 'done' }],
        ]);
        expect((await kb.getTask(other.id)).title).toBe('stays');
        await expect(kb.deleteTask(task.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    it('refuses a linked, running or recipe-named task with nothing written', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent' });
        const child = await kb.createTask({ title: 'child', parents: [parent.id] });
        const running = await kb.createTask({ title: 'running' });
        await kb.claimTask(running.id);
        const named = await kb.createTask({ title: 'in a recipe' });
        await raw(
          kb,
          `INSERT INTO recipe_instances (id, idempotency_key, recipe_id, schema_version, definition_digest, request_digest,
            definition_json, inputs_json, bindings_json, effective_plan_json, created_at)
            VALUES ('ri_1', 'key-1', 'release', 1, 'd', 'r', '{}', '{}', '{}', '{}', 1700000000)`,
        );
        await raw(kb, 'INSERT INTO recipe_instance_tasks (instance_id, node_key, task_id) VALUES (?, ?, ?)', [
          'ri_1',
          'build',
          named.id,
        ]);
        const before = await snapshot(kb);
        for (const [id, code] of [
          [parent.id, 'REFERENCED'],
          [child.id, 'REFERENCED'],
          [named.id, 'REFERENCED'],
          [running.id, 'INVALID_TRANSITION'],
        ])
          await expect(kb.deleteTask(id ?? '')).rejects.toMatchObject({ code });
        expect(await snapshot(kb)).toEqual(before);
      });
    });
  });

  describe('reading tasks', () => {
    it('getTask throws NOT_FOUND where findTask returns undefined', async () => {
      await withBoard(engine, async (kb) => {
        expect(await kb.findTask('t_00000000')).toBeUndefined();
        await expect(kb.getTask('t_00000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    it('lists by priority, then creation, hiding archived tasks unless asked', async () => {
      await withBoard(engine, async (kb, clock) => {
        const low = await kb.createTask({ title: 'low', priority: 1 });
        clock.advance(1);
        const high = await kb.createTask({ title: 'high', priority: 5, assignee: 'a', tenant: 't1' });
        clock.advance(1);
        const lowLater = await kb.createTask({ title: 'low later', priority: 1 });
        const gone = await kb.createTask({ title: 'gone', priority: 9 });
        await kb.archiveTask(gone.id);
        expect((await kb.listTasks()).map((t) => t.id)).toEqual([high.id, low.id, lowLater.id]);
        expect((await kb.listTasks({ includeArchived: true }))[0]?.id).toBe(gone.id);
        expect((await kb.listTasks({ status: 'archived' })).map((t) => t.id)).toEqual([gone.id]);
        expect((await kb.listTasks({ assignee: 'A' })).map((t) => t.id)).toEqual([high.id]);
        expect((await kb.listTasks({ tenant: 't1' })).map((t) => t.id)).toEqual([high.id]);
        expect(await kb.listTasks({ limit: 1 })).toHaveLength(1);
      });
    });

    it.each([
      ['an unknown status', { status: 'doing' }],
      ['a negative limit', { limit: -1 }],
    ])('refuses a filter with %s', async (_what, filter) => {
      await withBoard(engine, async (kb) => {
        await expect(kb.listTasks(untyped(filter))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      });
    });

    it('counts tasks per status and per assignee', async () => {
      await withBoard(engine, async (kb) => {
        await kb.createTask({ title: 'a', assignee: 'w1' });
        const b = await kb.createTask({ title: 'b', assignee: 'w1' });
        await kb.createTask({ title: 'c' });
        await kb.completeTask(b.id);
        const stats = await kb.stats();
        expect(stats.byStatus).toMatchObject({ ready: 2, done: 1, running: 0 });
        expect(stats.byAssignee).toEqual({ w1: 2, '': 1 });
        expect(stats.total).toBe(3);
      });
    });
  });
});

describe('a board in a file', () => {
  it('finds a task it just created, and kb.db answers drizzle queries, relational ones too', async () => {
    await withTempBoard(async (kb) => {
      const task = await kb.createTask({ title: 'read me', skills: ['sql'] });
      expect(await kb.findTask(task.id)).toEqual(task);
      expect(await kb.getTask(task.id)).toEqual(task);
      expect(await kb.db.query.tasks.findFirst({ where: (t, { eq }) => eq(t.id, task.id) })).toEqual(task);
      expect(await kb.db.select({ title: tasks.title }).from(tasks)).toEqual([{ title: 'read me' }]);
    });
  });
});
