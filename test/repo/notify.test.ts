import { ENGINES, withBoard } from '../helpers/board';

describe.each(ENGINES)('on %s', (engine) => {
  describe('notification subscriptions', () => {
    it('hands out unseen terminal events and moves the cursor forward only', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't' });
        const key = { taskId: task.id, platform: 'slack', chatId: 'c1' };
        const sub = await kb.subscribe({ ...key, userId: 'u1' });
        // As the upstream's `add_notify_sub`: caught up to the task's events so far, a dm, notified.
        const [created] = await kb.listEvents({ taskId: task.id });
        expect(sub).toMatchObject({ threadId: '', lastEventId: created?.id, chatType: 'dm', deliveryMode: 'notify' });
        expect(await kb.unseenEvents(key)).toEqual([]);
        await kb.claimTask(task.id);
        await kb.blockTask(task.id, { reason: 'needs input' });
        await kb.unblockTask(task.id);
        await kb.completeTask(task.id);
        const unseen = await kb.unseenEvents(key);
        // The newest original's kinds: `unblocked` is claimed too, though the gateway sends nothing for it.
        expect(unseen.map((e) => e.kind)).toEqual(['blocked', 'unblocked', 'completed']);
        await kb.advanceCursor(key, unseen[0]?.id ?? 0);
        expect((await kb.unseenEvents(key)).map((e) => e.kind)).toEqual(['unblocked', 'completed']);
        await kb.advanceCursor(key, 1);
        expect((await kb.unseenEvents(key)).map((e) => e.kind)).toEqual(['unblocked', 'completed']);
      });
    });

    it('keeps the first subscription and its cursor when subscribing again, and unsubscribes', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't' });
        const key = { taskId: task.id, platform: 'slack', chatId: 'c1', threadId: 'th' };
        await kb.subscribe(key);
        await kb.completeTask(task.id);
        const [event] = await kb.unseenEvents(key);
        await kb.advanceCursor(key, event?.id ?? 0);
        expect((await kb.subscribe(key)).lastEventId).toBe(event?.id);
        // Again with routing: chat type and delivery mode follow the newest call, an alternate id fills an empty one.
        const again = await kb.subscribe({ ...key, chatType: 'group', deliveryMode: 'wake', userIdAlt: 'uuid-1' });
        expect(again).toMatchObject({
          lastEventId: event?.id,
          chatType: 'group',
          deliveryMode: 'wake',
          userIdAlt: 'uuid-1',
        });
        expect((await kb.subscribe({ ...key, userIdAlt: 'uuid-2' })).userIdAlt).toBe('uuid-1');
        expect(await kb.unsubscribe(key)).toBe(true);
        expect(await kb.listSubscriptions(task.id)).toEqual([]);
        const server = await kb.subscribe({ taskId: task.id, platform: 'api_server', chatId: 'session' });
        expect(server.deliveryMode).toBe('notify+wake');
      });
    });

    it('claims unseen events by moving the cursor before anything is sent, and gives the range back after a failed send', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't' });
        const key = { taskId: task.id, platform: 'slack', chatId: 'c1' };
        await kb.subscribe(key);
        expect(await kb.claimUnseenEvents(key)).toBeUndefined();
        await kb.claimTask(task.id);
        await kb.completeTask(task.id);
        const claimed = await kb.claimUnseenEvents(key);
        expect(claimed?.events.map((e) => e.kind)).toEqual(['completed']);
        // The cursor started past the task's `created` event, where subscribing put it.
        expect(claimed?.from).toBe((await kb.listEvents({ taskId: task.id, kinds: ['created'] }))[0]?.id);
        expect((await kb.listSubscriptions(task.id))[0]?.lastEventId).toBe(claimed?.to);
        // A second notifier finds nothing: the claim already moved the cursor.
        expect(await kb.claimUnseenEvents(key)).toBeUndefined();
        expect(await kb.rewindCursor(key, claimed ?? { from: 0, to: 0 })).toBe(true);
        expect((await kb.claimUnseenEvents(key))?.events.map((e) => e.id)).toEqual(claimed?.events.map((e) => e.id));
      });
    });

    it('does not rewind a cursor that moved on since the claim', async () => {
      await withBoard(engine, async (kb) => {
        const task = await kb.createTask({ title: 't' });
        const key = { taskId: task.id, platform: 'slack', chatId: 'c1' };
        await kb.subscribe(key);
        await kb.completeTask(task.id);
        const claimed = await kb.claimUnseenEvents(key);
        await kb.archiveTask(task.id);
        const later = await kb.claimUnseenEvents(key);
        expect(later?.events.map((e) => e.kind)).toEqual(['archived']);
        expect(await kb.rewindCursor(key, claimed ?? { from: 0, to: 0 })).toBe(false);
        expect((await kb.listSubscriptions(task.id))[0]?.lastEventId).toBe(later?.to);
      });
    });

    it('refuses a subscription to an unknown task', async () => {
      await withBoard(engine, async (kb) => {
        await expect(kb.subscribe({ taskId: 't_00000000', platform: 'p', chatId: 'c' })).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
      });
    });
  });
});
