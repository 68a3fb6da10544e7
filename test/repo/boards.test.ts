import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentBoard, listBoards, removeBoard, setCurrentBoard } from '../../src/boards';
import { openKanban } from '../../src/kanban';
import { withTempBoard } from '../helpers/board';
import { withTempDir } from '../helpers/temp';

describe('boards', () => {
  it.each(['../x', '/abs', 'a b', 'x'.repeat(65), 'nul\u0000byte', '_hidden', '-dash'])(
    'refuses the slug %j with INVALID_BOARD and creates nothing anywhere',
    async (slug) => {
      await withTempDir(async (home) => {
        await expect(openKanban({ home, board: slug })).rejects.toMatchObject({ code: 'INVALID_BOARD' });
        expect(readdirSync(home)).toEqual([]);
      });
    },
  );

  it('keeps the default board at <home>/kanban.db and others under kanban/boards/<slug>, isolated', async () => {
    await withTempDir(async (home) => {
      const main = await openKanban({ home, board: '' });
      const other = await openKanban({ home, board: '  Side-Project ' });
      try {
        expect(main.path).toBe(join(home, 'kanban.db'));
        expect(other.path).toBe(join(home, 'kanban', 'boards', 'side-project', 'kanban.db'));
        expect(
          JSON.parse(readFileSync(join(home, 'kanban', 'boards', 'side-project', 'board.json'), 'utf8')),
        ).toMatchObject({ name: 'Side Project', archived: false });
        await main.createTask({ title: 'only on main' });
        expect(await other.listTasks()).toEqual([]);
        expect(listBoards(home).map((b) => b.slug)).toEqual(['default', 'side-project']);
      } finally {
        main.close();
        other.close();
      }
    });
  });

  it('follows the current board, and an explicit file wins over any board', async () => {
    await withTempDir(async (home) => {
      (await openKanban({ home, board: 'alpha' })).close();
      expect(currentBoard(home)).toBe('default');
      setCurrentBoard(home, 'alpha');
      const kb = await openKanban({ home });
      const pinned = await openKanban({ home, board: 'alpha', dbPath: join(home, 'pinned.db') });
      try {
        expect(kb.board).toBe('alpha');
        expect(pinned.path).toBe(join(home, 'pinned.db'));
      } finally {
        kb.close();
        pinned.close();
      }
      expect(() => setCurrentBoard(home, 'missing')).toThrow(expect.objectContaining({ code: 'BOARD_NOT_FOUND' }));
    });
  });

  it('archives or deletes a board, never the default one', async () => {
    await withTempDir(async (home) => {
      for (const slug of ['keep', 'drop']) (await openKanban({ home, board: slug })).close();
      setCurrentBoard(home, 'keep');
      const archived = removeBoard(home, 'keep', { now: 42 });
      expect(archived.newPath).toBe(join(home, 'kanban', 'boards', '_archived', 'keep-42'));
      expect(existsSync(join(archived.newPath ?? '', 'kanban.db'))).toBe(true);
      expect(currentBoard(home)).toBe('default');
      expect(removeBoard(home, 'drop', { delete: true, now: 43 }).action).toBe('deleted');
      expect(listBoards(home).map((b) => b.slug)).toEqual(['default']);
      expect(() => removeBoard(home, 'default', { now: 44 })).toThrow(
        expect.objectContaining({ code: 'INVALID_BOARD' }),
      );
    });
  });
});

describe('comments', () => {
  it('are kept in order with a commented event; empty bodies are refused', async () => {
    await withTempBoard(async (kb) => {
      const task = await kb.createTask({ title: 't' });
      await kb.addComment(task.id, { author: 'ana', body: 'first' });
      await kb.addComment(task.id, { author: 'bo', body: 'second' });
      await expect(kb.addComment(task.id, { author: 'ana', body: '  ' })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      expect((await kb.listComments(task.id)).map((c) => c.body)).toEqual(['first', 'second']);
      expect((await kb.listEvents({ taskId: task.id, kinds: ['commented'] })).length).toBe(2);
    });
  });
});
