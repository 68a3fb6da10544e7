import { ENGINES, raw, snapshot, withBoard } from '../helpers/board';

describe.each(ENGINES)('on %s', (engine) => {
  describe('dependencies', () => {
    it('refuses self-links and cycles with CYCLE, writing nothing', async () => {
      await withBoard(engine, async (kb) => {
        const a = await kb.createTask({ title: 'a' });
        const b = await kb.createTask({ title: 'b', parents: [a.id] });
        const c = await kb.createTask({ title: 'c', parents: [b.id] });
        const before = await snapshot(kb);
        await expect(kb.linkTasks(a.id, a.id)).rejects.toMatchObject({ code: 'CYCLE' });
        await expect(kb.linkTasks(c.id, a.id)).rejects.toMatchObject({ code: 'CYCLE' });
        expect(await snapshot(kb)).toEqual(before);
      });
    });

    it('drops a ready child of an unfinished parent to todo, and unlinking promotes it again', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'p' });
        const child = await kb.createTask({ title: 'c' });
        await kb.linkTasks(parent.id, child.id);
        expect((await kb.getTask(child.id)).status).toBe('todo');
        await kb.unlinkTasks(parent.id, child.id);
        expect((await kb.getTask(child.id)).status).toBe('ready');
        expect((await kb.listEvents({ taskId: child.id })).map((e) => e.kind)).toEqual([
          'created',
          'linked',
          'unlinked',
          'promoted',
        ]);
      });
    });

    it('waits for every parent on fan-in, and promotes down a chain one finished step at a time', async () => {
      await withBoard(engine, async (kb) => {
        const left = await kb.createTask({ title: 'left' });
        const right = await kb.createTask({ title: 'right' });
        const join = await kb.createTask({ title: 'join', parents: [left.id, right.id] });
        const after = await kb.createTask({ title: 'after', parents: [join.id] });
        await kb.completeTask(left.id);
        expect((await kb.getTask(join.id)).status).toBe('todo');
        await kb.completeTask(right.id);
        expect((await kb.getTask(join.id)).status).toBe('ready');
        expect((await kb.getTask(after.id)).status).toBe('todo');
        await kb.completeTask(join.id);
        expect((await kb.getTask(after.id)).status).toBe('ready');
      });
    });

    it('promoteReady promotes todo tasks whose parents were finished by another writer', async () => {
      await withBoard(engine, async (kb) => {
        const parent = await kb.createTask({ title: 'p' });
        const child = await kb.createTask({ title: 'c', parents: [parent.id] });
        await raw(kb, "UPDATE tasks SET status = 'done' WHERE id = ?", [parent.id]);
        expect(await kb.promoteReady()).toEqual([child.id]);
        expect(await kb.promoteReady()).toEqual([]);
      });
    });
  });
});
