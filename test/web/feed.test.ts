/** A board's one reader of its event log, shared by every open page. */
import type { TaskEvent } from '../../src/core/schema';
import type { Kanban } from '../../src/kanban';
import { boardFeed, type Feed } from '../../src/web/feed';
import { ENGINES, withBoard } from '../helpers/board';

/** Polls `condition` until it holds (a wake-up arrives on the server's schedule). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** `count` listeners from `after`, each collecting the ids it is handed. */
function listen(feed: Feed, count: number, after: number) {
  const got = Array.from({ length: count }, () => [] as number[]);
  const stops = got.map((ids) =>
    feed.subscribe(after, async (events: readonly TaskEvent[]) => void ids.push(...events.map((e) => e.id))),
  );
  return {
    got,
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}

/** A feed that reads only when poked (its poll is an hour): the test decides when it looks. */
const pokedFeed = (kb: Kanban) => boardFeed(kb, 3_600_000, () => undefined);

describe.each(ENGINES)('the board feed (%s)', (engine) => {
  /** What `count` listeners got of three new tasks, and how many reads of the log it took. */
  async function follow(kb: Kanban, count: number) {
    const feed = pokedFeed(kb);
    const start = await kb.lastEventId();
    const { got, stop } = listen(feed, count, start);
    await feed.poke();
    // Triage tasks wake no one: the reads below are the poke's alone.
    for (let i = 0; i < 3; i++) await kb.createTask({ title: `t${i}`, triage: true });
    const expected = (await kb.listEvents({ afterId: start })).map((e) => e.id);
    const reads = jest.spyOn(kb, 'listEvents');
    await feed.poke();
    const calls = reads.mock.calls.length;
    reads.mockRestore();
    stop();
    return { got, expected, reads: calls };
  }

  it('hands every listener the same new events once, in id order, with one read for all of them', async () => {
    await withBoard(engine, async (kb) => {
      const one = await follow(kb, 1);
      const many = await follow(kb, 20);
      expect(many.expected).toHaveLength(3);
      expect(one.got).toEqual([one.expected]);
      expect(many.got).toEqual(Array.from({ length: 20 }, () => many.expected));
      expect(one.reads).toBe(1);
      expect(many.reads).toBe(1);
    });
  });

  it('brings a listener that joins from an older event up to date, then feeds it with the others', async () => {
    await withBoard(engine, async (kb) => {
      const feed = pokedFeed(kb);
      await kb.createTask({ title: 'old', triage: true });
      const live = listen(feed, 1, await kb.lastEventId());
      await feed.poke();
      const late = listen(feed, 1, 0);
      await kb.createTask({ title: 'new', triage: true });
      await feed.poke();
      const all = (await kb.listEvents({})).map((e) => e.id);
      expect(all).toHaveLength(2);
      expect(late.got[0]).toEqual(all);
      expect(live.got[0]).toEqual(all.slice(1));
      live.stop();
      late.stop();
    });
  });
});

describe('the board feed on a server', () => {
  it('reads at once when the board says a task became ready, without waiting for its poll', async () => {
    await withBoard('postgres', async (kb) => {
      const feed = pokedFeed(kb);
      const { got, stop } = listen(feed, 1, await kb.lastEventId());
      await feed.poke();
      const task = await kb.createTask({ title: 'woken', assignee: 'w' });
      const [created] = await kb.listEvents({ taskId: task.id });
      await until(() => got[0]?.at(-1) === created?.id);
      stop();
    });
  });
});
