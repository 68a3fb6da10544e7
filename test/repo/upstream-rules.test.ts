import { isKanbanError } from '../../src/errors';
import type { Kanban } from '../../src/kanban';
import { ENGINES, rawScript, snapshot, withBoard } from '../helpers/board';

describe.each(ENGINES)('on %s', (engine) => {
  const payloads = async (kb: Kanban, taskId: string, kind: string) =>
    (await kb.listEvents({ taskId, kinds: [kind] })).map((e) => e.payload);

  async function refused(call: Promise<unknown>, code: string): Promise<void> {
    const error = await call.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    expect(isKanbanError(error) ? error.code : error).toBe(code);
  }

  /** A task its implementer has handed to review, and the reviewer's claim of it. */
  async function inReview(kb: Kanban) {
    const task = await kb.createTask({ title: 'write the parser', assignee: 'coder' });
    const work = await kb.claimTask(task.id);
    await kb.requestReview(task.id, { runId: work?.runId, summary: 'parser done\nwith tests', reviewer: 'Critic' });
    const review = await kb.claimReviewTask();
    return { task, work, review };
  }

  describe('the review workflow (upstream request_review, request_changes, reopen_review_task)', () => {
    it('request review hands the task to the reviewer, closing the worker’s run as review_requested', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'write the parser', assignee: 'coder' });
        const work = await kb.claimTask(task.id);
        // A running task is its worker's to hand over: without the run id (or force) it is refused.
        const before = await snapshot(kb);
        await refused(kb.requestReview(task.id, { summary: 'done' }), 'INVALID_TRANSITION');
        expect(await snapshot(kb)).toEqual(before);
        const reviewed = await kb.requestReview(task.id, {
          runId: work?.runId,
          summary: 'parser done\nwith tests',
          reviewer: 'Critic',
        });
        expect(reviewed).toMatchObject({ status: 'review', assignee: 'critic', claimLock: null, currentRunId: null });
        expect((await kb.listRuns(task.id))[0]).toMatchObject({ status: 'review', outcome: 'review_requested' });
        expect(await payloads(kb, task.id, 'review_requested')).toEqual([
          { summary: 'parser done', implementer: 'coder', reviewer: 'critic' },
        ]);
      });
    });

    it('changes requested by the reviewer go back to the implementer; the next request goes to the same reviewer', async () => {
      await withBoard(engine, async (kb) => {
        const { task, review } = await inReview(kb);
        expect(review?.task).toMatchObject({ id: task.id, assignee: 'critic' });
        const back = await kb.requestChanges(task.id, { runId: review?.runId, reason: 'handle empty input' });
        expect(back).toMatchObject({ status: 'ready', assignee: 'coder' });
        expect((await kb.listRuns(task.id)).at(-1)).toMatchObject({
          status: 'ready',
          outcome: 'changes_requested',
          summary: 'handle empty input',
        });
        expect(await payloads(kb, task.id, 'changes_requested')).toEqual([
          { reason: 'handle empty input', implementer: 'coder', reviewer: 'critic', status: 'ready' },
        ]);
        // The implementer's own run cannot request changes: it was not claimed from review.
        const again = await kb.claimTask(task.id);
        await refused(kb.requestChanges(task.id, { reason: 'no' }), 'INVALID_TRANSITION');
        expect((await kb.requestReview(task.id, { runId: again?.runId })).assignee).toBe('critic');
      });
    });

    it('a person approves a review by completing it: a zero-length run says so', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'x', assignee: 'coder' });
        await kb.requestReview(task.id, { reviewer: 'critic' });
        expect((await kb.completeTask(task.id)).status).toBe('done');
        expect((await kb.listRuns(task.id)).at(-1)).toMatchObject({
          status: 'completed',
          outcome: 'completed',
          summary: 'Review approved without additional evidence.',
          metadata: { source_status: 'review', approval: 'manual' },
        });
        expect(await payloads(kb, task.id, 'completed')).toEqual([
          { result_len: 0, summary: 'Review approved without additional evidence.' },
        ]);
      });
    });

    it('reopening a review sends it back to its implementer with the reason as a comment', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'x', assignee: 'coder' });
        await kb.requestReview(task.id, { reviewer: 'critic' });
        const reopened = await kb.reopenReview(task.id, { reason: 'wrong branch', author: 'ana' });
        expect(reopened).toMatchObject({ status: 'ready', assignee: 'coder' });
        expect(await payloads(kb, task.id, 'review_reopened')).toEqual([{ status: 'ready', implementer: 'coder' }]);
        expect((await kb.listComments(task.id)).map((c) => [c.author, c.body])).toEqual([
          ['ana', 'CHANGES REQUESTED: wrong branch'],
        ]);
        await refused(kb.reopenReview(task.id), 'INVALID_TRANSITION');
      });
    });

    it('a reviewer’s run that crashes, expires or is reclaimed goes back to review, not ready', async () => {
      await withBoard(engine, async (kb, clock) => {
        const { task, review } = await inReview(kb);
        const crashed = await kb.recordFailure(task.id, { runId: review?.runId, error: 'exit 1', limit: 5 });
        expect(crashed.task.status).toBe('review');
        expect((await payloads(kb, task.id, 'crashed'))[0]).toMatchObject({ retry_status: 'review' });
        await kb.claimReviewTask({ ttlSeconds: 60 });
        clock.advance(61);
        expect(await kb.releaseStaleClaims()).toEqual([task.id]);
        expect((await kb.getTask(task.id)).status).toBe('review');
        await kb.claimReviewTask();
        expect((await kb.reclaimTask(task.id, { reason: 'reassigning' })).status).toBe('review');
        expect((await payloads(kb, task.id, 'reclaimed')).at(-1)).toMatchObject({
          manual: true,
          reason: 'reassigning',
          retry_status: 'review',
        });
      });
    });

    it('a reviewer’s run blocked and unblocked lands in review again; behind an unfinished parent it waits in todo and is promoted into review', async () => {
      await withBoard(engine, async (kb) => {
        const { task, review } = await inReview(kb);
        await kb.blockTask(task.id, { runId: review?.runId, reason: 'which spec?' });
        expect((await payloads(kb, task.id, 'blocked'))[0]).toMatchObject({ source_status: 'review' });
        expect((await kb.unblockTask(task.id)).status).toBe('review');
        expect((await payloads(kb, task.id, 'unblocked'))[0]).toEqual({ status: 'review', resume_status: 'review' });

        const again = await kb.claimReviewTask();
        await kb.blockTask(task.id, { runId: again?.runId, reason: 'needs the schema', kind: 'capability' });
        const parent = await kb.createTask({ title: 'the schema' });
        await rawScript(kb, `INSERT INTO task_links VALUES ('${parent.id}', '${task.id}')`);
        expect((await kb.unblockTask(task.id)).status).toBe('todo');
        expect((await payloads(kb, task.id, 'unblocked')).at(-1)).toEqual({ status: 'todo', resume_status: 'review' });
        await kb.completeTask(parent.id);
        expect((await kb.getTask(task.id)).status).toBe('review');
      });
    });

    it('completing is refused while a parent is unfinished, and writes nothing', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent' });
        const child = await kb.createTask({ title: 'child', parents: [parent.id] });
        await rawScript(kb, `UPDATE tasks SET status = 'blocked' WHERE id = '${child.id}'`);
        const before = await snapshot(kb);
        await refused(kb.completeTask(child.id), 'INVALID_TRANSITION');
        expect(await snapshot(kb)).toEqual(before);
        await kb.archiveTask(parent.id);
        expect((await kb.completeTask(child.id)).status).toBe('done');
      });
    });
  });

  describe('other upstream rules', () => {
    it('a task created blocked stays blocked through promotion until it is unblocked', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'later', initialStatus: 'blocked', createdBy: 'ana' });
        expect(task.status).toBe('blocked');
        expect((await kb.listEvents({ taskId: task.id })).map((e) => [e.kind, e.payload])).toEqual([
          ['created', expect.objectContaining({ status: 'blocked' })],
          ['blocked', { reason: 'initial_status', status: 'blocked', actor: 'ana' }],
        ]);
        expect(await kb.promoteReady()).toEqual([]);
        expect((await kb.unblockTask(task.id)).status).toBe('ready');
      });
    });

    it('unblocking lands in ready when a parent is archived', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent' });
        const child = await kb.createTask({ title: 'child', parents: [parent.id], initialStatus: 'blocked' });
        await kb.archiveTask(parent.id);
        expect((await kb.unblockTask(child.id)).status).toBe('ready');
      });
    });

    it('a parent’s subscribers are subscribed to children on create and link, from their next event on', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent' });
        await kb.subscribe({ taskId: parent.id, platform: 'slack', chatId: 'c1' });
        const child = await kb.createTask({ title: 'child', parents: [parent.id] });
        const other = await kb.createTask({ title: 'other' });
        await kb.linkTasks(parent.id, other.id);
        const subs = await kb.listSubscriptions();
        expect(subs.map((s) => [s.taskId, s.platform, s.chatId, s.chatType, s.deliveryMode])).toEqual([
          [parent.id, 'slack', 'c1', 'dm', 'notify'],
          [child.id, 'slack', 'c1', 'dm', 'notify'],
          [other.id, 'slack', 'c1', 'dm', 'notify'],
        ]);
        const childSub = subs.find((s) => s.taskId === child.id);
        expect(childSub && (await kb.unseenEvents(childSub))).toEqual([]);
        await kb.completeTask(parent.id);
        await kb.completeTask(child.id);
        expect(childSub && (await kb.unseenEvents(childSub)).map((e) => e.kind)).toEqual(['completed']);
      });
    });

    it('sets a model with its provider and a reasoning effort, with their events; not on archived tasks', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'x' });
        expect(
          await kb.setModelOverride(task.id, { modelOverride: 'big-model', providerOverride: 'acme' }),
        ).toMatchObject({
          modelOverride: 'big-model',
          providerOverride: 'acme',
        });
        expect((await kb.setReasoningEffort(task.id, 'HIGH')).reasoningEffort).toBe('high');
        await refused(kb.setReasoningEffort(task.id, 'extreme'), 'INVALID_INPUT');
        await refused(kb.setModelOverride(task.id, { modelOverride: null, providerOverride: 'acme' }), 'INVALID_INPUT');
        expect((await kb.setModelOverride(task.id, { modelOverride: '' })).providerOverride).toBeNull();
        expect(await payloads(kb, task.id, 'model_override_set')).toEqual([
          { model: 'big-model', provider: 'acme' },
          { model: null, provider: null },
        ]);
        expect(await payloads(kb, task.id, 'reasoning_effort_set')).toEqual([{ reasoning_effort: 'high' }]);
        await kb.archiveTask(task.id);
        await refused(kb.setReasoningEffort(task.id, 'low'), 'INVALID_TRANSITION');
      });
    });

    it('edits any one field, and several in one commit: a refused one writes none of them', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'x', assignee: 'a' });
        expect((await kb.editTask(task.id, { priority: 5 })).priority).toBe(5);
        const before = await snapshot(kb);
        await refused(kb.editTask(task.id, { title: 'y', reasoningEffort: 'extreme' }), 'INVALID_INPUT');
        await kb.claimTask(task.id);
        const running = await snapshot(kb);
        await refused(kb.editTask(task.id, { title: 'y', assignee: 'b' }), 'INVALID_TRANSITION');
        expect(await snapshot(kb)).toEqual(running);
        expect(before.tasks[0]?.title).toBe('x');
        const edited = await kb.editTask(task.id, { title: 'y', modelOverride: 'm', reasoningEffort: 'none' });
        expect(edited).toMatchObject({ title: 'y', modelOverride: 'm', reasoningEffort: 'none', status: 'running' });
      });
    });

    it('a person promotes a todo task once its parents are finished; a dry run writes nothing', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent' });
        const child = await kb.createTask({ title: 'child', parents: [parent.id] });
        await refused(kb.promoteTask(child.id), 'INVALID_TRANSITION');
        await rawScript(kb, `UPDATE tasks SET status = 'done' WHERE id = '${parent.id}'`);
        const before = await snapshot(kb);
        expect((await kb.promoteTask(child.id, { dryRun: true })).status).toBe('ready');
        expect(await snapshot(kb)).toEqual(before);
        expect((await kb.promoteTask(child.id, { reason: 'go', actor: 'ana' })).status).toBe('ready');
        expect(await payloads(kb, child.id, 'promoted_manual')).toEqual([{ actor: 'ana', reason: 'go' }]);
        await refused(kb.promoteTask(child.id), 'INVALID_TRANSITION');
      });
    });

    it('a reason to unblock, and a new assignee on reclaim, are written in the same commit as the move, or not at all', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'x', assignee: 'a' });
        await refused(kb.unblockTask(task.id, { reason: 'too early' }), 'INVALID_TRANSITION');
        expect(await kb.listComments(task.id)).toEqual([]);
        await kb.claimTask(task.id);
        await refused(kb.reclaimTask(task.id, { assignee: '  ' }), 'INVALID_INPUT');
        expect((await kb.getTask(task.id)).status).toBe('running');
        expect(await kb.reclaimTask(task.id, { assignee: 'B' })).toMatchObject({ status: 'ready', assignee: 'b' });
        expect((await kb.listEvents({ taskId: task.id })).map((e) => e.kind).slice(-2)).toEqual([
          'reclaimed',
          'assigned',
        ]);
      });
    });

    it('an edit naming only undefined fields is refused as input, and undefined fields are ignored', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'x' });
        await refused(kb.editTask(task.id, { title: undefined }), 'INVALID_INPUT');
        expect(await kb.editTask(task.id, { title: undefined, priority: 3 })).toMatchObject({
          title: 'x',
          priority: 3,
        });
        expect((await kb.listEvents({ taskId: task.id, kinds: ['edited'] }))[0]?.payload).toEqual({
          fields: ['priority'],
        });
      });
    });

    it('a closed handle refuses every call with CLOSED', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'x' });
        kb.close();
        await refused(kb.getTask(task.id), 'CLOSED');
        await refused(kb.createTask({ title: 'y' }), 'CLOSED');
      });
    });
  });
});
