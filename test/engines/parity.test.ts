/**
 * One scenario of library calls, run on a file board and on a server board with the same clock
 * and task ids: every task, run, event, comment and subscription comes out the same on both.
 */
import type { Kanban } from '../../src/kanban';
import { type FakeClock, withBoard } from '../helpers/board';

/** Task ids t_00000001, t_00000002, … on both engines. */
function sequentialIds(): () => string {
  let n = 0;
  return () => `t_${String(++n).padStart(8, '0')}`;
}

async function scenario(kb: Kanban, clock: FakeClock): Promise<unknown[]> {
  const answers: unknown[] = [];
  const note = async <T>(call: Promise<T>) => {
    const value = await call.then(
      (v) => v,
      (error: { code?: string }) => ({ refused: error.code }),
    );
    answers.push(value ?? null);
    return value;
  };
  const a = await kb.createTask({ title: 'a', assignee: 'worker', priority: 2 });
  const b = await kb.createTask({ title: 'b', assignee: 'worker' });
  const c = await kb.createTask({ title: 'c', parents: [a.id, b.id], body: 'waits for a and b' });
  const flaky = await kb.createTask({ title: 'flaky', maxRetries: 2 });
  const reviewed = await kb.createTask({ title: 'reviewed', assignee: 'dev' });
  await kb.subscribe({ taskId: c.id, platform: 'telegram', chatId: 'chat' });
  await kb.subscribe({ taskId: a.id, platform: 'api_server', chatId: 'bot' });
  const first = await note(kb.claimNextTask({ assignee: 'worker' }));
  clock.advance(5);
  if (first && 'runId' in first) await note(kb.completeTask(first.task.id, { runId: first.runId, result: 'ok' }));
  await note(kb.completeTask(c.id));
  const second = await note(kb.completeAndClaimNext(b.id, { claimNext: {} }));
  answers.push(await kb.getTask(c.id));
  for (let i = 0; i < 2; i++) {
    clock.advance(60);
    const claim = await note(kb.claimTask(flaky.id));
    if (claim && 'runId' in claim) await note(kb.recordFailure(flaky.id, { runId: claim.runId, error: `boom ${i}` }));
  }
  await note(kb.promoteReady());
  await note(kb.unblockTask(flaky.id, { reason: 'fixed' }));
  await note(kb.scheduleTask(flaky.id, { reason: 'tomorrow' }));
  await note(kb.unblockTask(flaky.id));
  const review = await note(kb.claimTask(reviewed.id));
  if (review && 'runId' in review) {
    await note(kb.requestReview(reviewed.id, { runId: review.runId, reviewer: 'boss', summary: 'please look' }));
  }
  const reviewer = await note(kb.claimReviewTask());
  if (reviewer && 'runId' in reviewer) {
    await note(kb.requestChanges(reviewed.id, { runId: reviewer.runId, reason: 'more tests' }));
  }
  await note(kb.editTask(reviewed.id, { title: 'reviewed twice', priority: 4, reasoningEffort: 'high' }));
  await note(kb.setModelOverride(reviewed.id, { modelOverride: 'big', providerOverride: 'acme' }));
  await note(kb.blockTask(reviewed.id, { reason: 'waiting', kind: 'needs_input' }));
  await note(kb.blockTask(reviewed.id, { reason: 'already blocked' }));
  const d = await kb.createTask({ title: 'd' });
  await note(kb.linkTasks(d.id, flaky.id));
  await note(kb.linkTasks(flaky.id, d.id));
  await note(kb.unlinkTasks(d.id, flaky.id));
  const stale = await note(kb.claimTask(d.id, { ttlSeconds: 10 }));
  clock.advance(11);
  await note(kb.releaseStaleClaims());
  if (stale && 'runId' in stale) await note(kb.heartbeat(d.id, { runId: stale.runId }));
  await note(kb.assignUnassigned('fallback'));
  await note(kb.addComment(a.id, { author: 'ana', body: 'looks good' }));
  await note(kb.claimUnseenEvents({ taskId: c.id, platform: 'telegram', chatId: 'chat' }));
  await note(kb.archiveTask(a.id));
  clock.advance(86_400 * 31);
  await note(kb.purgeArchived({ olderThanDays: 30 }));
  await note(kb.diagnostics());
  answers.push(second, await kb.stats(), await kb.lastEventId());
  const tasks = await kb.listTasks({ includeArchived: true });
  const perTask = await Promise.all(
    tasks.map(async (t) => ({ runs: await kb.listRuns(t.id), comments: await kb.listComments(t.id) })),
  );
  return [answers, tasks, perTask, await kb.listEvents(), await kb.listSubscriptions()];
}

describe('a scenario of library calls', () => {
  it('gives the same tasks, runs, events, comments and subscriptions on a file and on a server', async () => {
    const onFile = await withBoard('sqlite', scenario, { newTaskId: sequentialIds() });
    const onServer = await withBoard('postgres', scenario, { newTaskId: sequentialIds() });
    expect(JSON.stringify(onFile).length).toBeGreaterThan(10_000);
    expect(onServer).toEqual(onFile);
  });
});
