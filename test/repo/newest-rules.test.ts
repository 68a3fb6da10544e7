import { ENGINES, raw, rawScript, withBoard } from '../helpers/board';

describe.each(ENGINES)('on %s', (engine) => {
  describe('archived parents (recompute_ready, claim_task)', () => {
    it('count as finished for claims and promotion; creation, links and unblocking still wait in todo first', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent' });
        const child = await kb.createTask({ title: 'child', parents: [parent.id] });
        expect(child.status).toBe('todo');
        await kb.archiveTask(parent.id);
        // Archiving promotes the children that waited only for it.
        expect((await kb.getTask(child.id)).status).toBe('ready');
        expect((await kb.claimTask(child.id))?.task.id).toBe(child.id);
        expect(await kb.listEvents({ taskId: child.id, kinds: ['claim_rejected'] })).toEqual([]);

        const late = await kb.createTask({ title: 'late', parents: [parent.id] });
        expect(late.status).toBe('todo');
        expect(await kb.promoteReady()).toEqual([late.id]);
        const linked = await kb.createTask({ title: 'linked' });
        await kb.linkTasks(parent.id, linked.id);
        expect((await kb.getTask(linked.id)).status).toBe('todo');
        expect((await kb.claimNextTask())?.task.id).toBe(late.id);
      });
    });

    it('a ready task another program promoted past an archived parent is claimed, not sent back to todo', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent' });
        const child = await kb.createTask({ title: 'child', parents: [parent.id] });
        await rawScript(
          kb,
          `UPDATE tasks SET status = 'archived' WHERE id = '${parent.id}'; UPDATE tasks SET status = 'ready' WHERE id = '${child.id}';`,
        );
        expect((await kb.claimNextTask())?.task.id).toBe(child.id);
      });
    });
  });

  describe('scheduled (schedule_task)', () => {
    it('parks a task with its reason until unblocked; it is neither claimed, promoted nor completed meanwhile', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'after the freeze' });
        const scheduled = await kb.scheduleTask(task.id, { reason: 'after the release on Monday' });
        expect(scheduled.status).toBe('scheduled');
        const [run] = await kb.listRuns(task.id);
        expect(run).toMatchObject({
          status: 'scheduled',
          outcome: 'scheduled',
          summary: 'after the release on Monday',
        });
        expect(run?.startedAt).toBe(run?.endedAt);
        expect((await kb.listEvents({ taskId: task.id, kinds: ['scheduled'] }))[0]).toMatchObject({
          payload: { reason: 'after the release on Monday' },
          runId: run?.id,
        });
        expect(await kb.claimNextTask()).toBeUndefined();
        expect(await kb.promoteReady()).toEqual([]);
        await expect(kb.completeTask(task.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
        await expect(kb.scheduleTask(task.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
        expect((await kb.stats()).byStatus.scheduled).toBe(1);
        expect((await kb.unblockTask(task.id)).status).toBe('ready');
        expect((await kb.listEvents({ taskId: task.id, kinds: ['unblocked'] }))[0]?.payload).toBeNull();
      });
    });

    it('closes a running task’s run as scheduled, and unblocks to todo with {status: todo} while a parent is not done', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'parent' });
        const task = await kb.createTask({ title: 'child' });
        const claim = await kb.claimTask(task.id);
        await kb.scheduleTask(task.id, { runId: claim?.runId, reason: 'tomorrow' });
        expect((await kb.listRuns(task.id)).map((r) => [r.id, r.status])).toEqual([[claim?.runId, 'scheduled']]);
        await kb.linkTasks(parent.id, task.id);
        expect((await kb.unblockTask(task.id)).status).toBe('todo');
        expect((await kb.listEvents({ taskId: task.id, kinds: ['unblocked'] }))[0]?.payload).toEqual({
          status: 'todo',
          resume_status: 'ready',
        });
        expect((await kb.archiveTask(task.id)).status).toBe('archived');
      });
    });
  });

  describe('review (claim_review_task)', () => {
    it('claims review tasks in priority order unless their budget is spent; one whose parent is unfinished waits in todo and returns to review', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'unfinished parent' });
        const low = await kb.createTask({ title: 'low', priority: 1, parents: [parent.id] });
        const high = await kb.createTask({ title: 'high', priority: 5 });
        const spent = await kb.createTask({ title: 'spent', priority: 9 });
        await rawScript(
          kb,
          `UPDATE tasks SET status = 'review' WHERE id IN ('${low.id}', '${high.id}', '${spent.id}');
           UPDATE tasks SET budget_usd = 1.0, budget_spent_usd = 1.5 WHERE id = '${spent.id}';`,
        );
        // The ready pass takes only the ready parent, never a review task.
        expect((await kb.claimNextTask())?.task.id).toBe(parent.id);
        expect(await kb.claimNextTask()).toBeUndefined();
        const first = await kb.claimReviewTask();
        expect(first?.task).toMatchObject({ id: high.id, status: 'running' });
        expect((await kb.listEvents({ taskId: high.id, kinds: ['claimed'] }))[0]?.payload).toMatchObject({
          run_id: first?.runId,
          source_status: 'review',
        });
        // The upstream's claim_review_task: a parent reopened (unfinished) sends the task to todo instead.
        expect(await kb.claimReviewTask()).toBeUndefined();
        expect((await kb.getTask(low.id)).status).toBe('todo');
        expect((await kb.listEvents({ taskId: low.id, kinds: ['dependency_wait'] }))[0]?.payload).toEqual({
          reason: 'parent_reopened',
          source_status: 'review',
        });
        expect((await kb.completeTask(high.id)).status).toBe('done');
        // Its parent done, promotion puts it back in review, not ready.
        expect((await kb.completeTask(parent.id)).status).toBe('done');
        expect((await kb.getTask(low.id)).status).toBe('review');
        expect((await kb.listEvents({ taskId: low.id, kinds: ['promoted'] })).map((e) => e.payload)).toEqual([
          { status: 'review' },
        ]);
        expect((await kb.claimReviewTask())?.task.id).toBe(low.id);
      });
    });
  });

  describe('typed blocks (block_task)', () => {
    it('dependency waits in todo; the same kind twice goes to triage; another kind starts again; completion clears the count', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't' });
        const waiting = await kb.blockTask(task.id, { reason: 'waits for the API', kind: 'dependency' });
        expect(waiting).toMatchObject({ status: 'todo', blockKind: 'dependency', blockRecurrences: 0 });
        expect((await kb.listEvents({ taskId: task.id, kinds: ['dependency_wait'] }))[0]?.payload).toEqual({
          reason: 'waits for the API',
          kind: 'dependency',
          source_status: 'ready',
        });
        await kb.promoteReady();
        expect(await kb.blockTask(task.id, { reason: 'which key?', kind: 'needs_input' })).toMatchObject({
          status: 'blocked',
          blockKind: 'needs_input',
          blockRecurrences: 1,
        });
        expect((await kb.listEvents({ taskId: task.id, kinds: ['blocked'] }))[0]?.payload).toEqual({
          reason: 'which key?',
          kind: 'needs_input',
          recurrences: 1,
          source_status: 'ready',
        });
        // Unblocking keeps the kind and its count; the same kind again is a loop.
        expect(await kb.unblockTask(task.id)).toMatchObject({
          status: 'ready',
          blockKind: 'needs_input',
          blockRecurrences: 1,
        });
        expect(await kb.blockTask(task.id, { reason: 'which key, again?', kind: 'needs_input' })).toMatchObject({
          status: 'triage',
          blockRecurrences: 2,
        });
        expect((await kb.listEvents({ taskId: task.id, kinds: ['block_loop_detected'] }))[0]?.payload).toEqual({
          reason: 'which key, again?',
          kind: 'needs_input',
          recurrences: 2,
          source_status: 'ready',
          limit: 2,
        });

        const other = await kb.createTask({ title: 'other' });
        await kb.blockTask(other.id, { reason: 'flaky network', kind: 'transient' });
        await kb.unblockTask(other.id);
        expect(await kb.blockTask(other.id, { reason: 'no permission', kind: 'capability' })).toMatchObject({
          status: 'blocked',
          blockRecurrences: 1,
        });
        await kb.unblockTask(other.id);
        expect(await kb.completeTask(other.id)).toMatchObject({ status: 'done', blockKind: null, blockRecurrences: 0 });
      });
    });

    it('refuses an unknown kind with INVALID_INPUT and writes nothing', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't' });
        await expect(kb.blockTask(task.id, { reason: 'x', kind: JSON.parse('"tired"') })).rejects.toMatchObject({
          code: 'INVALID_INPUT',
        });
        expect(await kb.getTask(task.id)).toMatchObject({ status: 'ready', blockKind: null });
      });
    });
  });

  describe('promotion of blocked tasks (recompute_ready)', () => {
    it('promotes a blocked task whose block is not sticky, and keeps sticky and breaker blocks', async () => {
      await withBoard(engine, async (kb) => {
        const loose = await kb.createTask({ title: 'created blocked by the original' });
        const sticky = await kb.createTask({ title: 'blocked by a person' });
        const broken = await kb.createTask({ title: 'the breaker gave up', maxRetries: 1 });
        await rawScript(kb, `UPDATE tasks SET status = 'blocked' WHERE id = '${loose.id}'`);
        await kb.blockTask(sticky.id, { reason: 'needs a decision' });
        const claim = await kb.claimTask(broken.id);
        await kb.recordFailure(broken.id, { runId: claim?.runId, error: 'boom' });
        expect(await kb.promoteReady()).toEqual([loose.id]);
        expect((await kb.getTask(sticky.id)).status).toBe('blocked');
        expect((await kb.getTask(broken.id)).status).toBe('blocked');
      });
    });
  });

  describe('claim gates (the fork’s claim_task)', () => {
    it('does not claim a task awaiting plan-audit approval or over its budget, and claims it once approved or within budget', async () => {
      await withBoard(engine, async (kb) => {
        const audited = await kb.createTask({ title: 'audited', priority: 2 });
        const budgeted = await kb.createTask({ title: 'budgeted', priority: 1 });
        await rawScript(
          kb,
          `UPDATE tasks SET plan_audit_required = 1 WHERE id = '${audited.id}';
           INSERT INTO task_events (task_id, kind, payload, created_at) VALUES ('${audited.id}', 'plan_audit_requested', '{"rejected_rounds":0,"limit":2}', 1);
           UPDATE tasks SET budget_usd = 2.0, budget_spent_usd = 2.0 WHERE id = '${budgeted.id}';`,
        );
        expect(await kb.claimNextTask()).toBeUndefined();
        expect(await kb.claimTask(audited.id)).toBeUndefined();
        expect((await kb.getTask(audited.id)).status).toBe('ready');
        await rawScript(
          kb,
          `INSERT INTO task_events (task_id, kind, created_at) VALUES ('${audited.id}', 'plan_audit_approved', 2)`,
        );
        expect((await kb.claimNextTask())?.task.id).toBe(audited.id);
        await raw(kb, 'UPDATE tasks SET budget_spent_usd = 1.5 WHERE id = ?', [budgeted.id]);
        expect((await kb.claimNextTask())?.task.id).toBe(budgeted.id);
      });
    });
  });

  describe('event payloads the original’s notifier reads', () => {
    it('timed_out carries limit_seconds, completed its summary, blocked its reason, gave_up its error', async () => {
      await withBoard(engine, async (kb, clock) => {
        const slow = await kb.createTask({ title: 'slow', maxRuntimeSeconds: 60, maxRetries: 1 });
        const claim = await kb.claimTask(slow.id);
        clock.advance(61);
        await kb.recordFailure(slow.id, { runId: claim?.runId, error: 'ran past 60s', outcome: 'timed_out' });
        const [timedOut] = await kb.listEvents({ taskId: slow.id, kinds: ['timed_out'] });
        expect(timedOut?.payload).toMatchObject({ limit_seconds: 60, elapsed_seconds: 61 });
        expect((await kb.listEvents({ taskId: slow.id, kinds: ['gave_up'] }))[0]?.payload).toMatchObject({
          error: 'ran past 60s',
        });
        const quick = await kb.createTask({ title: 'quick' });
        await kb.completeTask(quick.id, { result: 'all good', summary: 'shipped it\nand more detail' });
        expect((await kb.listEvents({ taskId: quick.id, kinds: ['completed'] }))[0]?.payload).toEqual({
          result_len: 8,
          summary: 'shipped it',
        });
      });
    });
  });
});
