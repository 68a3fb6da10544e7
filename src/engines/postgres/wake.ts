/**
 * Waking idle gateways on a server: a write transaction after which a task may be claimable (a
 * task created or moved into `ready` or `review`, promoted, handed back, assigned) sends one
 * `NOTIFY` on the board's channel as it commits; a completion that makes nothing ready sends none.
 * Listeners hold one dedicated connection per board that listens again on its own when it breaks.
 */
import { Client } from 'pg';
import type { Store } from '../../core/port';

const LANES: readonly string[] = ['ready', 'review'];

/** The store of a write transaction, calling `wake` whenever a call may have made a task claimable. */
export function waking(store: Store, wake: () => void): Store {
  const after =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>, woke: (result: R, ...args: A) => boolean) =>
    async (...args: A): Promise<R> => {
      const result = await call(...args);
      if (woke(result, ...args)) wake();
      return result;
    };
  const some = (list: readonly unknown[]) => list.length > 0;
  return {
    ...store,
    insertTask: after(store.insertTask, (task) => task !== undefined && LANES.includes(task.status)),
    updateTask: after(store.updateTask, (_, _id, edit) => edit.status === 'ready' || edit.assignee !== undefined),
    endAttempt: after(store.endAttempt, (_, end) => LANES.includes(end.task.status)),
    promoteChildren: after(store.promoteChildren, some),
    promoteOne: after(store.promoteOne, some),
    promoteAll: after(store.promoteAll, some),
    assignUnassignedReady: after(store.assignUnassignedReady, some),
  };
}

/** How long a broken listening connection waits before it connects again, at most. */
const MAX_RECONNECT_MS = 5_000;

/**
 * One listening connection for a board's channel, shared by its listeners; opened with the first
 * and ended with the last. When it breaks it connects again with a growing pause, and tells every
 * listener once it listens again (something may have happened meanwhile).
 */
export function channelListener(url: string, channel: string) {
  const listeners = new Set<() => void>();
  let client: Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let pause = 100;
  const tell = () => {
    for (const listener of listeners) listener();
  };

  function connect(): void {
    retry = undefined;
    const current = new Client({ connectionString: url, application_name: 'kanban-db listener' });
    client = current;
    const broken = () => {
      if (client !== current) return;
      client = undefined;
      void current.end().catch(() => undefined);
      if (listeners.size === 0) return;
      retry = setTimeout(connect, pause);
      pause = Math.min(pause * 2, MAX_RECONNECT_MS);
    };
    current.on('error', broken);
    current.on('end', broken);
    current.on('notification', tell);
    current
      .connect()
      .then(() => current.query(`LISTEN "${channel.replaceAll('"', '""')}"`))
      .then(() => {
        pause = 100;
        tell();
      })
      .catch(broken);
  }

  return {
    /** Calls `listener` on every wake-up of the board until the returned function is called. */
    listen(listener: () => void): () => void {
      listeners.add(listener);
      if (!client && !retry) connect();
      return () => {
        listeners.delete(listener);
        if (listeners.size > 0) return;
        clearTimeout(retry);
        retry = undefined;
        const last = client;
        client = undefined;
        void last?.end().catch(() => undefined);
      };
    },
  };
}
