import { ENGINES, withBoard } from '../helpers/board';
import type { Kanban } from '../../src/kanban';

describe.each(ENGINES)('on %s', (engine) => {
  async function failOnce(kb: Kanban, id: string, error = 'worker crashed', limit?: number) {
    const claim = await kb.claimTask(id);
    expect(claim).toBeDefined();
    return kb.recordFailure(id, { error, runId: claim?.runId, ...(limit === undefined ? {} : { limit }) });
  }

  describe('the failure breaker', () => {
    it('sends a task back to ready below the limit of 2 and blocks it with gave_up at the limit', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't' });
        const first = await failOnce(kb, task.id);
        expect(first).toMatchObject({
          failures: 1,
          gaveUp: false,
          task: { status: 'ready', consecutiveFailures: 1, lastFailureError: 'worker crashed' },
        });
        const second = await failOnce(kb, task.id, 'timed out', undefined);
        expect(second).toMatchObject({ failures: 2, gaveUp: true, limit: 2, task: { status: 'blocked' } });
        const gaveUp = await kb.listEvents({ taskId: task.id, kinds: ['gave_up'] });
        expect(gaveUp).toHaveLength(1);
        expect(gaveUp[0]?.payload).toMatchObject({
          failures: 2,
          effective_limit: 2,
          limit_source: 'dispatcher',
          trigger_outcome: 'crashed',
        });
        expect(gaveUp[0]?.runId).not.toBeNull();
      });
    });

    it('takes the task’s max_retries over the caller’s limit, and the caller’s over the default', async () => {
      await withBoard(engine, async (kb) => {
        const own = await kb.createTask({ title: 'own', maxRetries: 1 });
        expect(await failOnce(kb, own.id, 'x', 5)).toMatchObject({ gaveUp: true, limit: 1 });
        expect((await kb.listEvents({ taskId: own.id, kinds: ['gave_up'] }))[0]?.payload).toMatchObject({
          limit_source: 'task',
        });
        const caller = await kb.createTask({ title: 'caller' });
        for (let i = 1; i < 3; i++)
          expect(await failOnce(kb, caller.id, 'x', 3)).toMatchObject({ gaveUp: false, failures: i });
        expect(await failOnce(kb, caller.id, 'x', 3)).toMatchObject({ gaveUp: true, failures: 3 });
      });
    });

    it('keeps at most 500 characters of the error, on the task and on the run', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't' });
        const result = await failOnce(kb, task.id, 'e'.repeat(2000));
        expect(result.task.lastFailureError).toHaveLength(500);
        expect((await kb.listRuns(task.id))[0]?.error).toHaveLength(500);
      });
    });

    it.each([
      ['completing', (kb: Kanban, id: string) => kb.claimTask(id).then(() => kb.completeTask(id))],
      ['an operator’s reclaim', (kb: Kanban, id: string) => kb.claimTask(id).then(() => kb.reclaimTask(id))],
      ['assigning it to another worker', (kb: Kanban, id: string) => kb.assignTask(id, 'someone-else')],
    ])('is reset by %s', async (_what, reset) => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't', assignee: 'w' });
        await failOnce(kb, task.id);
        const after = await reset(kb, task.id);
        expect(after.consecutiveFailures).toBe(0);
      });
    });

    it('is not reset by a successful claim', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't' });
        await failOnce(kb, task.id);
        expect((await kb.claimTask(task.id))?.task.consecutiveFailures).toBe(1);
      });
    });
  });
});
