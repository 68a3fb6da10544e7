import { ENGINES, rawScript, withBoard } from '../helpers/board';
import type { Kanban } from '../../src/kanban';

describe.each(ENGINES)('on %s', (engine) => {
  async function failNext(kb: Kanban): Promise<string> {
    const claim = await kb.claimNextTask();
    if (!claim) throw new Error('expected a claimable task');
    await kb.recordFailure(claim.task.id, { runId: claim.runId, error: 'crashed', limit: 10 });
    return claim.task.id;
  }

  describe('retry backoff', () => {
    it('holds a failed task back 30 s, then 60 s after the second failure in a row, before claimNextTask takes it again', async () => {
      await withBoard(engine, async (kb, clock) => {
        const task = await kb.createTask({ title: 'flaky' });
        await failNext(kb);
        clock.advance(29);
        expect(await kb.claimNextTask()).toBeUndefined();
        clock.advance(1);
        expect((await kb.getTask(task.id)).status).toBe('ready');
        await failNext(kb);
        clock.advance(59);
        expect(await kb.claimNextTask()).toBeUndefined();
        clock.advance(1);
        expect((await kb.claimNextTask())?.task.id).toBe(task.id);
      });
    });

    it('caps the wait at maxSeconds and lets a task without failures past one that waits', async () => {
      await withBoard(
        engine,
        async (kb, clock) => {
          const flaky = await kb.createTask({ title: 'flaky', priority: 9 });
          for (let i = 0; i < 4; i++) {
            await failNext(kb);
            clock.advance(100);
          }
          const fresh = await kb.createTask({ title: 'fresh' });
          // Four failures: 10 × 2^3 = 80 s, capped at 50 s, and 100 s passed; a fifth makes it wait again.
          await failNext(kb);
          expect((await kb.claimNextTask())?.task.id).toBe(fresh.id);
          clock.advance(50);
          expect((await kb.claimNextTask())?.task.id).toBe(flaky.id);
        },
        { retryBackoff: { baseSeconds: 10, maxSeconds: 50 } },
      );
    });

    it('retries at once with baseSeconds 0, and claimTask by id never waits', async () => {
      await withBoard(
        engine,
        async (kb) => {
          const task = await kb.createTask({ title: 'flaky' });
          await failNext(kb);
          expect((await kb.claimNextTask())?.task.id).toBe(task.id);
        },
        { retryBackoff: { baseSeconds: 0 } },
      );
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 'flaky' });
        await failNext(kb);
        expect(await kb.claimNextTask()).toBeUndefined();
        expect((await kb.claimTask(task.id))?.task.id).toBe(task.id);
      });
    });

    it('waits after a failure another program recorded in the file', async () => {
      await withBoard(engine, async (kb, clock) => {
        const task = await kb.createTask({ title: 'flaky' });
        await rawScript(
          kb,
          `INSERT INTO task_runs (task_id, status, started_at, ended_at, outcome) VALUES ('${task.id}', 'crashed', ${clock.seconds - 5}, ${clock.seconds - 1}, 'crashed');
           UPDATE tasks SET consecutive_failures = 1 WHERE id = '${task.id}';`,
        );
        expect(await kb.claimNextTask()).toBeUndefined();
        clock.advance(29);
        expect((await kb.claimNextTask())?.task.id).toBe(task.id);
      });
    });

    it('refuses a negative or fractional backoff with INVALID_INPUT', async () => {
      await expect(
        withBoard(engine, async () => undefined, { retryBackoff: { baseSeconds: -1 } }),
      ).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(
        withBoard(engine, async () => undefined, { retryBackoff: { baseSeconds: 1, maxSeconds: 0.5 } }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });
  });
});
