import { isKanbanError } from '../../src/errors';
import { execScript, query } from '../helpers/temp';
import { snapshot, withTempBoard } from '../helpers/board';

describe('completeAndClaimNext', () => {
  it('completes the task and claims the next one of the filter, in one transaction', async () => {
    await withTempBoard(async (kb) => {
      const first = await kb.createTask({ title: 'first', assignee: 'w', priority: 2 });
      await kb.createTask({ title: 'someone else’s', assignee: 'other', priority: 5 });
      const second = await kb.createTask({ title: 'second', assignee: 'w', priority: 1 });
      const claim = await kb.claimNextTask({ assignee: 'w' });
      expect(claim?.task.id).toBe(first.id);
      const { completed, next } = await kb.completeAndClaimNext(first.id, {
        runId: claim?.runId,
        result: 'ok',
        claimNext: { assignee: 'w' },
      });
      expect(completed).toEqual(await kb.getTask(first.id));
      expect(completed).toMatchObject({ status: 'done', result: 'ok', currentRunId: null });
      expect(next?.task).toEqual(await kb.getTask(second.id));
      expect(next?.task).toMatchObject({ status: 'running', currentRunId: next?.runId });
      expect((await kb.listRuns(second.id)).map((r) => r.status)).toEqual(['running']);
      // Nothing of `w` is left: the completion still lands and `next` is undefined.
      const last = await kb.completeAndClaimNext(second.id, { runId: next?.runId, claimNext: { assignee: 'w' } });
      expect(last.completed.status).toBe('done');
      expect(last.next).toBeUndefined();
    });
  });

  it('writes neither half when the claim half fails: the task stays running under the caller’s run', async () => {
    await withTempBoard(async (kb) => {
      const first = await kb.createTask({ title: 'first', assignee: 'w', priority: 2 });
      await kb.createTask({ title: 'second', assignee: 'w', priority: 1 });
      const claim = await kb.claimNextTask();
      // Another program's trigger refuses every new run, so the claim half fails inside SQLite.
      await execScript(
        kb.path,
        "CREATE TRIGGER no_runs BEFORE INSERT ON task_runs BEGIN SELECT RAISE(ABORT, 'runs are frozen'); END;",
      );
      const before = await snapshot(kb);
      const error = await kb.completeAndClaimNext(first.id, { runId: claim?.runId }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(isKanbanError(error)).toBe(false);
      expect(await snapshot(kb)).toEqual(before);
      expect(await kb.getTask(first.id)).toMatchObject({ status: 'running', currentRunId: claim?.runId });
      await execScript(kb.path, 'DROP TRIGGER no_runs;');
      expect((await kb.completeTask(first.id, { runId: claim?.runId })).status).toBe('done');
    });
  });

  it('refuses a stale run id without claiming anything', async () => {
    await withTempBoard(async (kb) => {
      const first = await kb.createTask({ title: 'first' });
      await kb.createTask({ title: 'second' });
      const claim = await kb.claimTask(first.id);
      const before = await snapshot(kb);
      await expect(kb.completeAndClaimNext(first.id, { runId: (claim?.runId ?? 0) + 1 })).rejects.toMatchObject({
        code: 'STALE_RUN',
      });
      expect(await snapshot(kb)).toEqual(before);
      expect(await query(kb.path, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'running'")).toEqual([{ n: 1 }]);
    });
  });
});
