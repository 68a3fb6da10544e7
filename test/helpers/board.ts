import { type FileKanban, type Kanban, openKanban, type OpenKanbanOptions } from '../../src/kanban';
import { withTempDir } from './temp';

/** A settable clock in epoch seconds, so lease and time rules are tested without sleeping. */
export class FakeClock {
  constructor(public seconds = 1_800_000_000) {}
  readonly now = (): number => this.seconds;
  advance(by: number): void {
    this.seconds += by;
  }
}

/** Opens a board in a new temporary home with a fake clock; closes it and removes the folder afterwards. */
export async function withTempBoard<T>(
  fn: (kb: FileKanban, clock: FakeClock, home: string) => Promise<T>,
  options: OpenKanbanOptions = {},
): Promise<T> {
  return withTempDir(async (home) => {
    const clock = new FakeClock();
    const kb = await openKanban({ home, board: 'default', now: clock.now, ...options });
    try {
      return await fn(kb, clock, home);
    } finally {
      kb.close();
    }
  });
}

/** Every row count of the board, to show that a refused call wrote nothing. */
export async function snapshot(kb: Kanban) {
  return {
    tasks: await kb.listTasks({ includeArchived: true }),
    events: await kb.listEvents(),
  };
}

/** Input outside the declared types, as untyped JavaScript callers send it (JSON.parse yields an untyped value). */
export function untyped(value: object) {
  return Object.assign(JSON.parse('{}'), value);
}
