/** `kanban copy`: every row and id of a board, from a file to a server and back, into an empty target only. */
import { join } from 'node:path';
import { asc } from 'drizzle-orm';
import * as schema from '../../src/core/schema';
import { type FileKanban, openKanban } from '../../src/kanban';
import { newServerBoard, testServerUrl } from '../helpers/board';
import { kanban } from '../helpers/cli';
import { LEGACY_SHAPES, writeLegacyBoard } from '../helpers/legacy';
import { withTempDir } from '../helpers/temp';

/** Every table of a file board as the library reads it, in id order. */
function rowsOf(kb: FileKanban) {
  const { db } = kb;
  return {
    tasks: db.select().from(schema.tasks).orderBy(asc(schema.tasks.id)).all(),
    links: db.select().from(schema.taskLinks).all(),
    comments: db.select().from(schema.taskComments).all(),
    events: db.select().from(schema.taskEvents).all(),
    runs: db.select().from(schema.taskRuns).all(),
    subscriptions: db.select().from(schema.kanbanNotifySubs).all(),
    recipes: db.select().from(schema.recipeInstances).all(),
    recipeTasks: db.select().from(schema.recipeInstanceTasks).all(),
  };
}

async function rowsOfFile(path: string) {
  const kb = await openKanban({ dbPath: path });
  try {
    return rowsOf(kb);
  } finally {
    kb.close();
  }
}

describe.each(LEGACY_SHAPES)('kanban copy of a file of shape $name', (shape) => {
  it('goes to a server and back with every row and id', async () => {
    await withTempDir(async (home) => {
      const source = join(home, 'source.db');
      const back = join(home, 'back.db');
      await writeLegacyBoard(source, shape);
      const url = testServerUrl();
      const board = newServerBoard();
      const there = kanban(home, '--db', source, '--json', 'copy', url, '--to-board', board);
      expect(there.status).toBe(0);
      expect(there.json().rows.tasks).toBe(12);
      const again = kanban(home, '--db', url, '--board', board, '--json', 'copy', back);
      expect(again.status).toBe(0);
      expect(again.json().rows).toEqual(there.json().rows);
      const copied = await rowsOfFile(back);
      expect(copied).toEqual(await rowsOfFile(source));
      expect(copied.events.length).toBeGreaterThan(0);
    });
  });
});

describe('kanban copy', () => {
  it('refuses a target that holds tasks (TARGET_NOT_EMPTY) and writes nothing; the server numbers new rows past the copied ids', async () => {
    await withTempDir(async (home) => {
      const source = join(home, 'source.db');
      const kb = await openKanban({ dbPath: source });
      const first = await kb.createTask({ title: 'first' });
      await kb.addComment(first.id, { author: 'ana', body: 'hi' });
      kb.close();
      const url = testServerUrl();
      const board = newServerBoard();
      expect(kanban(home, '--db', source, 'copy', url, '--to-board', board).status).toBe(0);
      const refused = kanban(home, '--db', source, 'copy', url, '--to-board', board);
      expect([refused.status, refused.stderr.includes('TARGET_NOT_EMPTY')]).toEqual([1, true]);
      const onServer = await openKanban({ url, board });
      try {
        expect(await onServer.listTasks()).toHaveLength(1);
        const lastCopied = await onServer.lastEventId();
        const second = await onServer.createTask({ title: 'second' });
        const events = await onServer.listEvents({ taskId: second.id });
        expect(events.every((event) => event.id > lastCopied)).toBe(true);
        const comment = await onServer.addComment(second.id, { author: 'bo', body: 'next' });
        expect(comment.id).toBe(2);
      } finally {
        onServer.close();
      }
    });
  });
});
