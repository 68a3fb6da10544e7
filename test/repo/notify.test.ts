import { withTempBoard } from '../helpers/board';

describe('notification subscriptions', () => {
  it('hands out unseen terminal events and moves the cursor forward only', async () => {
    await withTempBoard(async (kb) => {
      const task = await kb.createTask({ title: 't' });
      const key = { taskId: task.id, platform: 'slack', chatId: 'c1' };
      const sub = await kb.subscribe({ ...key, userId: 'u1' });
      expect(sub).toMatchObject({ threadId: '', lastEventId: 0 });
      expect(await kb.unseenEvents(key)).toEqual([]);
      await kb.claimTask(task.id);
      await kb.blockTask(task.id, { reason: 'needs input' });
      await kb.unblockTask(task.id);
      await kb.completeTask(task.id);
      const unseen = await kb.unseenEvents(key);
      expect(unseen.map((e) => e.kind)).toEqual(['blocked', 'completed']);
      await kb.advanceCursor(key, unseen[0]?.id ?? 0);
      expect((await kb.unseenEvents(key)).map((e) => e.kind)).toEqual(['completed']);
      await kb.advanceCursor(key, 1);
      expect((await kb.unseenEvents(key)).map((e) => e.kind)).toEqual(['completed']);
    });
  });

  it('keeps the first subscription and its cursor when subscribing again, and unsubscribes', async () => {
    await withTempBoard(async (kb) => {
      const task = await kb.createTask({ title: 't' });
      const key = { taskId: task.id, platform: 'slack', chatId: 'c1', threadId: 'th' };
      await kb.subscribe(key);
      await kb.completeTask(task.id);
      const [event] = await kb.unseenEvents(key);
      await kb.advanceCursor(key, event?.id ?? 0);
      expect((await kb.subscribe(key)).lastEventId).toBe(event?.id);
      expect(await kb.unsubscribe(key)).toBe(true);
      expect(await kb.listSubscriptions(task.id)).toEqual([]);
    });
  });

  it('refuses a subscription to an unknown task', async () => {
    await withTempBoard(async (kb) => {
      await expect(kb.subscribe({ taskId: 't_00000000', platform: 'p', chatId: 'c' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });
});
