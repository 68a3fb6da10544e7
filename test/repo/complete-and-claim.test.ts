import { isKanbanError } from '../../src/errors';
import { ENGINES, raw, rawScript, snapshot, withBoard } from '../helpers/board';

/** A trigger that refuses every new run, in each engine's dialect, and its removal. */
const FREEZE_RUNS = {
  sqlite: "CREATE TRIGGER no_runs BEFORE INSERT ON task_runs BEGIN SELECT RAISE(ABORT, 'runs are frozen'); END;",
  postgres: `CREATE FUNCTION no_runs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'runs are frozen'; END $$;
    CREATE TRIGGER no_runs BEFORE INSERT ON task_runs FOR EACH ROW EXECUTE FUNCTION no_runs();`,
};
const THAW_RUNS = { sqlite: 'DROP TRIGGER no_runs;', postgres: 'DROP TRIGGER no_runs ON task_runs;' };

describe.each(ENGINES)('on %s', (engine) => {
  describe('completeAndClaimNext', () => {
    it('completes the task and claims the next one of the filter, in one transaction', async () => {
      await withBoard(engine, async (kb) => {
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
      await withBoard(engine, async (kb) => {
        const first = await kb.createTask({ title: 'first', assignee: 'w', priority: 2 });
        await kb.createTask({ title: 'second', assignee: 'w', priority: 1 });
        const claim = await kb.claimNextTask();
        // Another program's trigger refuses every new run, so the claim half fails inside the database.
        await rawScript(kb, FREEZE_RUNS[engine]);
        const before = await snapshot(kb);
        const error = await kb.completeAndClaimNext(first.id, { runId: claim?.runId }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect(isKanbanError(error)).toBe(false);
        expect(await snapshot(kb)).toEqual(before);
        expect(await kb.getTask(first.id)).toMatchObject({ status: 'running', currentRunId: claim?.runId });
        await rawScript(kb, THAW_RUNS[engine]);
        expect((await kb.completeTask(first.id, { runId: claim?.runId })).status).toBe('done');
      });
    });

    it('refuses a stale run id without claiming anything', async () => {
      await withBoard(engine, async (kb) => {
        const first = await kb.createTask({ title: 'first' });
        await kb.createTask({ title: 'second' });
        const claim = await kb.claimTask(first.id);
        const before = await snapshot(kb);
        await expect(kb.completeAndClaimNext(first.id, { runId: (claim?.runId ?? 0) + 1 })).rejects.toMatchObject({
          code: 'STALE_RUN',
        });
        expect(await snapshot(kb)).toEqual(before);
        expect(await raw(kb, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'running'")).toEqual([{ n: 1 }]);
      });
    });
  });
});
