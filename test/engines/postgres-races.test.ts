/**
 * The rules under concurrency on PostgreSQL, in real processes: READ COMMITTED does not serialise
 * writers as SQLite's `BEGIN IMMEDIATE` does, so these races prove the row locks each rule takes.
 */
import type { ServerKanban } from '../../src/kanban';
import { openKanban } from '../../src/kanban';
import { newServerBoard, testServerUrl } from '../helpers/board';
import { type LineChild, startChildren } from '../helpers/children';

const TRIALS = 20;

interface Answer {
  readonly ok: boolean;
  /** What the call returned; the notifier's claims are the only values read here. */
  readonly value?: { readonly events?: readonly { readonly id: number }[] } | null;
  readonly code?: string | null;
}

/** Sends each child its own calls at the same moment and returns every child's answers. */
async function together(
  children: readonly LineChild[],
  url: string,
  board: string,
  calls: readonly { method: string; args: unknown[] }[][],
): Promise<Answer[][]> {
  for (const [i, child] of children.entries()) child.send({ url, board, calls: calls[i] });
  return Promise.all(children.map(async (child) => JSON.parse(await child.next())));
}

describe('races on a PostgreSQL board, in real processes', () => {
  let children: LineChild[] = [];
  let kb: ServerKanban;
  let board: string;
  const url = () => testServerUrl();

  beforeAll(async () => {
    children = await startChildren(2, 'board-call-child.js');
    board = newServerBoard();
    kb = await openKanban({ url: url(), board });
    // Each child opens the board before the races, so the races are the calls alone.
    await together(children, url(), board, [[], []]);
  });
  afterAll(() => {
    kb?.close();
    for (const child of children) child.stop();
  });

  it(`two parents completed at the same moment by two processes: their child becomes ready, every time (${TRIALS} trials)`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const a = await kb.createTask({ title: `a${trial}` });
      const b = await kb.createTask({ title: `b${trial}` });
      const child = await kb.createTask({ title: `c${trial}`, parents: [a.id, b.id] });
      expect(child.status).toBe('todo');
      const answers = await together(children, url(), board, [
        [{ method: 'completeTask', args: [a.id] }],
        [{ method: 'completeTask', args: [b.id] }],
      ]);
      expect(answers.flat().map((answer) => answer.ok)).toEqual([true, true]);
      expect((await kb.getTask(child.id)).status).toBe('ready');
      expect(await kb.listEvents({ taskId: child.id, kinds: ['promoted'] })).toHaveLength(1);
    }
  });

  it(`a block and a completion of one task at once: one wins, the other is refused, nothing half-written (${TRIALS} trials)`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const task = await kb.createTask({ title: `t${trial}` });
      const claim = await kb.claimTask(task.id);
      const runId = claim?.runId;
      const answers = (
        await together(children, url(), board, [
          [{ method: 'completeTask', args: [task.id, { runId }] }],
          [{ method: 'blockTask', args: [task.id, { reason: 'stop', runId }] }],
        ])
      ).flat();
      expect(answers.filter((answer) => answer.ok)).toHaveLength(1);
      const refusal = answers.find((answer) => !answer.ok);
      expect(['INVALID_TRANSITION', 'STALE_RUN']).toContain(refusal?.code);
      const after = await kb.getTask(task.id);
      const winner = answers[0]?.ok ? 'done' : 'blocked';
      expect(after.status).toBe(winner);
      const runs = await kb.listRuns(task.id);
      expect(runs.map((run) => [run.id, run.outcome])).toEqual([[runId, winner === 'done' ? 'completed' : 'blocked']]);
      const ends = await kb.listEvents({ taskId: task.id, kinds: ['completed', 'blocked'] });
      expect(ends.map((event) => event.kind)).toEqual([winner === 'done' ? 'completed' : 'blocked']);
    }
  });

  it('two notifiers claiming the same subscribers at once deliver every event exactly once', async () => {
    const keys = [];
    for (let i = 0; i < 15; i++) {
      const task = await kb.createTask({ title: `watched${i}` });
      const key = { taskId: task.id, platform: 'telegram', chatId: `chat${i}` };
      await kb.subscribe(key);
      for (let j = 0; j < 3; j++) await kb.addComment(task.id, { author: 'a', body: `note ${j}` });
      keys.push(key);
    }
    const claims = keys.map((key) => ({ method: 'claimUnseenEvents', args: [key, ['commented']] }));
    const answers = await together(children, url(), board, [claims, claims]);
    const delivered = answers
      .flat()
      .flatMap((answer) => answer.value?.events ?? [])
      .map((event) => event.id);
    const all = (await kb.listEvents({ kinds: ['commented'] })).map((event) => event.id);
    expect(delivered.sort((x, y) => x - y)).toEqual(all);
  });
});
