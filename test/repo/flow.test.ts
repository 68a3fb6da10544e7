/** The board's flow read from its event log: cumulative stages per day, lead and cycle times per assignee. */
import { ENGINES, withBoard } from '../helpers/board';

const HOUR = 3600;
const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);

describe.each(ENGINES)('flow (%s)', (engine) => {
  it('counts the tasks created, started and done by each day’s end, and the median times per assignee', async () => {
    await withBoard(engine, async (kb, clock) => {
      const start = clock.seconds;
      const a1 = await kb.createTask({ title: 'a1', assignee: 'a' });
      const a2 = await kb.createTask({ title: 'a2', assignee: 'a' });
      const b1 = await kb.createTask({ title: 'b1', assignee: 'b' });
      clock.advance(24 * HOUR);
      const first = await kb.claimTask(a1.id);
      clock.advance(HOUR);
      await kb.completeTask(a1.id, { runId: first?.runId });
      clock.advance(24 * HOUR);
      const second = await kb.claimTask(b1.id);
      clock.advance(2 * HOUR);
      await kb.completeTask(b1.id, { runId: second?.runId });
      // Completed by hand, never claimed: a lead time and no cycle time.
      await kb.completeTask(a2.id);

      const flow = await kb.flow({ days: 3 });
      expect(flow.days).toEqual([
        { day: day(start), created: 3, started: 0, done: 0 },
        { day: day(start + 24 * HOUR), created: 3, started: 1, done: 1 },
        { day: day(start + 48 * HOUR), created: 3, started: 2, done: 3 },
      ]);
      expect(flow.assignees).toEqual([
        { assignee: 'a', done: 2, leadSeconds: (25 * HOUR + 51 * HOUR) / 2, cycleSeconds: HOUR },
        { assignee: 'b', done: 1, leadSeconds: 51 * HOUR, cycleSeconds: 2 * HOUR },
      ]);
      expect((await kb.flow()).days).toHaveLength(14);
      await expect(kb.flow({ days: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });
  });
});
