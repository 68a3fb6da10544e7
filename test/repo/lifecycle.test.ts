import type { Kanban } from '../../src/kanban';
import { DEFAULT_CLAIM_TTL_SECONDS } from '../../src/core/claims';
import { ENGINES, type FakeClock, raw, snapshot, withBoard } from '../helpers/board';

describe.each(ENGINES)('on %s', (engine) => {
  describe('claiming', () => {
    it('moves ready to running once, opening a run and a claimed event that carries its id', async () => {
      await withBoard(engine, async (kb, clock) => {
        const task = await kb.createTask({ title: 't', assignee: 'w', maxRuntimeSeconds: 60 });
        const claim = await kb.claimTask(task.id, { claimer: 'host:1' });
        expect(claim?.task).toMatchObject({
          status: 'running',
          claimLock: 'host:1',
          claimExpires: clock.seconds + DEFAULT_CLAIM_TTL_SECONDS,
          startedAt: clock.seconds,
          currentRunId: claim?.runId,
        });
        expect(await kb.claimTask(task.id)).toBeUndefined();
        const runs = await kb.listRuns(task.id);
        expect(runs).toEqual([
          expect.objectContaining({ id: claim?.runId, status: 'running', profile: 'w', maxRuntimeSeconds: 60 }),
        ]);
        const [claimed] = await kb.listEvents({ taskId: task.id, kinds: ['claimed'] });
        expect(claimed?.runId).toBe(claim?.runId);
        expect(claimed?.payload).toEqual({ lock: 'host:1', expires: claim?.task.claimExpires, run_id: claim?.runId });
      });
    });

    it('picks the highest-priority ready task, optionally for one assignee, and undefined when none is left', async () => {
      await withBoard(engine, async (kb) => {
        await kb.createTask({ title: 'low', priority: 1, assignee: 'a' });
        const high = await kb.createTask({ title: 'high', priority: 3, assignee: 'b' });
        expect((await kb.claimNextTask())?.task.id).toBe(high.id);
        expect(await kb.claimNextTask({ assignee: 'b' })).toBeUndefined();
        expect((await kb.claimNextTask({ assignee: 'A' }))?.task.title).toBe('low');
        expect(await kb.claimNextTask()).toBeUndefined();
      });
    });

    it('sends a ready task with an unfinished parent back to todo with claim_rejected', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'p' });
        const child = await kb.createTask({ title: 'c' });
        // Another writer (the Python program, say) linked it without demoting the child.
        await raw(kb, 'INSERT INTO task_links (parent_id, child_id) VALUES (?, ?)', [parent.id, child.id]);
        expect(await kb.claimTask(child.id)).toBeUndefined();
        expect((await kb.getTask(child.id)).status).toBe('todo');
        expect((await kb.listEvents({ taskId: child.id })).map((e) => e.kind)).toContain('claim_rejected');
      });
    });

    it('claimNextTasks claims up to n tasks in claim order in one call, then fewer, then none', async () => {
      await withBoard(engine, async (kb) => {
        const ids = [];
        for (let priority = 5; priority > 0; priority--)
          ids.push((await kb.createTask({ title: `p${priority}`, priority })).id);
        await expect(kb.claimNextTasks(0)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
        const first = await kb.claimNextTasks(3, { claimer: 'host:1' });
        expect(first.map((claim) => claim.task.id)).toEqual(ids.slice(0, 3));
        expect(new Set(first.map((claim) => claim.runId)).size).toBe(3);
        expect(first.every((claim) => claim.task.status === 'running' && claim.task.claimLock === 'host:1')).toBe(true);
        expect((await kb.claimNextTasks(5)).map((claim) => claim.task.id)).toEqual(ids.slice(3));
        expect(await kb.claimNextTasks(2)).toEqual([]);
        expect(await kb.listTasks({ status: 'running' })).toHaveLength(5);
      });
    });

    it('claimNextTasks sends candidates with an unfinished parent to todo and claims the ones after them instead', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent', priority: 0 });
        const ids = [];
        for (let priority = 5; priority > 0; priority--)
          ids.push((await kb.createTask({ title: `p${priority}`, priority })).id);
        // Another writer linked the two first without demoting them.
        for (const child of ids.slice(0, 2))
          await raw(kb, 'INSERT INTO task_links (parent_id, child_id) VALUES (?, ?)', [parent.id, child]);
        const claims = await kb.claimNextTasks(3);
        expect(claims.map((claim) => claim.task.id)).toEqual(ids.slice(2));
        for (const id of ids.slice(0, 2)) expect((await kb.getTask(id)).status).toBe('todo');
        expect(await kb.listEvents({ kinds: ['claim_rejected'] })).toHaveLength(2);
      });
    });

    it('completeTasks completes several tasks in one call, and refuses all of them when one is refused', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent' });
        const child = await kb.createTask({ title: 'child', parents: [parent.id] });
        const other = await kb.createTask({ title: 'other' });
        const [first, second] = await kb.claimNextTasks(2);
        if (!first || !second) throw new Error('two claims expected');
        const before = await snapshot(kb);
        const stale = { id: second.task.id, runId: second.runId + 100 };
        await expect(kb.completeTasks([{ id: first.task.id, runId: first.runId }, stale])).rejects.toMatchObject({
          code: 'STALE_RUN',
        });
        await expect(kb.completeTasks([{ id: first.task.id }, { id: first.task.id }])).rejects.toMatchObject({
          code: 'INVALID_INPUT',
        });
        expect(await snapshot(kb)).toEqual(before);
        const done = await kb.completeTasks([
          { id: first.task.id, runId: first.runId, result: 'one' },
          { id: second.task.id, runId: second.runId, summary: 'two' },
        ]);
        expect(done.map((task) => [task.id, task.status])).toEqual([
          [first.task.id, 'done'],
          [second.task.id, 'done'],
        ]);
        expect(new Set([first.task.id, second.task.id])).toEqual(new Set([parent.id, other.id]));
        // The parent's completion promoted its child, as one completeTask does.
        expect((await kb.getTask(child.id)).status).toBe('ready');
        expect(await kb.listEvents({ kinds: ['completed'] })).toHaveLength(2);
        expect(await kb.completeTasks([])).toEqual([]);
      });
    });

    it('heartbeat extends the lease of a running task only', async () => {
      await withBoard(engine, async (kb, clock) => {
        const task = await kb.createTask({ title: 't' });
        await expect(kb.heartbeat(task.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
        const claim = await kb.claimTask(task.id);
        clock.advance(100);
        const beat = await kb.heartbeat(task.id, { runId: claim?.runId, ttlSeconds: 30 });
        expect(beat).toMatchObject({ claimExpires: clock.seconds + 30, lastHeartbeatAt: clock.seconds });
        expect((await kb.listRuns(task.id))[0]).toMatchObject({
          claimExpires: clock.seconds + 30,
          lastHeartbeatAt: clock.seconds,
        });
      });
    });

    it('releases expired claims to ready with the run closed as reclaimed, not counted as a failure', async () => {
      await withBoard(engine, async (kb, clock) => {
        const task = await kb.createTask({ title: 't' });
        await kb.claimTask(task.id, { ttlSeconds: 10 });
        expect(await kb.releaseStaleClaims()).toEqual([]);
        clock.advance(11);
        expect(await kb.releaseStaleClaims()).toEqual([task.id]);
        expect(await kb.getTask(task.id)).toMatchObject({
          status: 'ready',
          claimLock: null,
          currentRunId: null,
          consecutiveFailures: 0,
        });
        expect((await kb.listRuns(task.id))[0]).toMatchObject({
          status: 'reclaimed',
          outcome: 'reclaimed',
          endedAt: clock.seconds,
        });
      });
    });
  });

  describe('moves', () => {
    it('complete closes the run as completed, stores the result, resets the counter and promotes children', async () => {
      await withBoard(engine, async (kb, clock) => {
        const parent = await kb.createTask({ title: 'p', assignee: 'w' });
        const child = await kb.createTask({ title: 'c', parents: [parent.id] });
        const claim = await kb.claimTask(parent.id);
        await kb.recordFailure(parent.id, { error: 'once' });
        const again = await kb.claimTask(parent.id);
        const done = await kb.completeTask(parent.id, { runId: again?.runId, result: 'all good', summary: 'did it' });
        expect(done).toMatchObject({
          status: 'done',
          completedAt: clock.seconds,
          result: 'all good',
          consecutiveFailures: 0,
          currentRunId: null,
          claimLock: null,
        });
        expect((await kb.listRuns(parent.id)).map((r) => [r.id, r.outcome])).toEqual([
          [claim?.runId, 'crashed'],
          [again?.runId, 'completed'],
        ]);
        expect((await kb.getTask(child.id)).status).toBe('ready');
        expect((await kb.listEvents({ taskId: child.id })).map((e) => e.kind)).toEqual(['created', 'promoted']);
      });
    });

    it('block and unblock, back to todo while a parent is unfinished', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'p' });
        const task = await kb.createTask({ title: 't' });
        const claim = await kb.claimTask(task.id);
        const blocked = await kb.blockTask(task.id, { reason: 'needs a key', runId: claim?.runId });
        expect(blocked).toMatchObject({ status: 'blocked', currentRunId: null });
        expect((await kb.listRuns(task.id))[0]).toMatchObject({ outcome: 'blocked', summary: 'needs a key' });
        expect((await kb.unblockTask(task.id)).status).toBe('ready');
        // Another kind than the first block's, so this one does not count as a loop (see blocks.test.ts).
        await kb.blockTask(task.id, { reason: 'again', kind: 'transient' });
        await kb.linkTasks(parent.id, task.id);
        expect((await kb.unblockTask(task.id)).status).toBe('todo');
      });
    });

    it('archive works from any status, closing an open run as reclaimed', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't' });
        await kb.claimTask(task.id);
        expect((await kb.archiveTask(task.id)).status).toBe('archived');
        expect((await kb.listRuns(task.id))[0]).toMatchObject({ outcome: 'reclaimed' });
        expect(await kb.listTasks()).toEqual([]);
      });
    });

    it.each([
      ['complete a todo task', 'todo', (kb: Kanban, id: string) => kb.completeTask(id)],
      ['block a done task', 'done', (kb: Kanban, id: string) => kb.blockTask(id, { reason: 'x' })],
      ['unblock a ready task', 'ready', (kb: Kanban, id: string) => kb.unblockTask(id)],
      ['reclaim a ready task', 'ready', (kb: Kanban, id: string) => kb.reclaimTask(id)],
      ['archive an archived task', 'archived', (kb: Kanban, id: string) => kb.archiveTask(id)],
      [
        'record a failure of a blocked task',
        'blocked',
        (kb: Kanban, id: string) => kb.recordFailure(id, { error: 'x' }),
      ],
    ])('refuses to %s with INVALID_TRANSITION and changes nothing', async (_what, status, move) => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'p' });
        const task = await kb.createTask({ title: 't', parents: status === 'todo' ? [parent.id] : [] });
        if (status === 'done') await kb.completeTask(task.id);
        if (status === 'archived') await kb.archiveTask(task.id);
        if (status === 'blocked') await kb.blockTask(task.id, { reason: 'r' });
        expect((await kb.getTask(task.id)).status).toBe(status);
        const before = await snapshot(kb);
        await expect(move(kb, task.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
        expect(await snapshot(kb)).toEqual(before);
      });
    });
  });

  describe('run fencing', () => {
    type Act = (kb: Kanban, id: string, runId: number) => Promise<unknown>;
    /** The moves a worker makes with its run id. */
    const moves: [string, Act][] = [
      ['complete', (kb, id, runId) => kb.completeTask(id, { runId })],
      ['block', (kb, id, runId) => kb.blockTask(id, { runId, reason: 'x' })],
      ['recordFailure', (kb, id, runId) => kb.recordFailure(id, { runId, error: 'x' })],
    ];
    /** A task claimed, its lease run out and handed back, and claimed again: the first claim, and the second. */
    async function reclaimed(kb: Kanban, clock: FakeClock) {
      const task = await kb.createTask({ title: 't' });
      const old = await kb.claimTask(task.id, { ttlSeconds: 5 });
      clock.advance(6);
      await kb.releaseStaleClaims();
      return { task, old, current: await kb.claimTask(task.id) };
    }

    it.each([...moves, ['heartbeat', (kb, id, runId) => kb.heartbeat(id, { runId })] satisfies [string, Act]])(
      'refuses %s from a holder of an older run with STALE_RUN',
      async (_what, act) => {
        await withBoard(engine, async (kb, clock) => {
          const { task, old, current } = await reclaimed(kb, clock);
          expect(current?.runId).not.toBe(old?.runId);
          const before = await snapshot(kb);
          await expect(act(kb, task.id, old?.runId ?? 0)).rejects.toMatchObject({ code: 'STALE_RUN' });
          expect(await snapshot(kb)).toEqual(before);
        });
      },
    );

    it.each(moves)('refuses a late %s with STALE_RUN once another attempt finished the task', async (_what, act) => {
      await withBoard(engine, async (kb, clock) => {
        const { task, old, current } = await reclaimed(kb, clock);
        await kb.completeTask(task.id, { runId: current?.runId ?? 0 });
        const before = await snapshot(kb);
        // The run is checked before the status: the late worker is told its attempt is over, not that done tasks cannot move.
        await expect(act(kb, task.id, old?.runId ?? 0)).rejects.toMatchObject({ code: 'STALE_RUN' });
        expect(await snapshot(kb)).toEqual(before);
      });
    });
  });
});
