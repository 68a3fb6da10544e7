/**
 * One reader of a board's event log for every open page of it. The reader runs while a page
 * listens: it reads what is new once, in id order, and hands the same events to every stream, so
 * 50 open pages of a board cost what one does. It reads again at each poll, and at once when the
 * board says a task may have become claimable (a server's `LISTEN`; a file never says).
 *
 * Why not a `NOTIFY` for every event on a server: PostgreSQL queues notifications under one lock
 * of the whole database at commit, so every writer of the board would commit one at a time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskEvent } from '../core/schema';
import type { Kanban } from '../kanban';

/** Events a page reads in one go; a longer backlog is read page by page at once. */
const PAGE = 500;

export interface Feed {
  /**
   * Hands `deliver` every event after `after`, in id order, until the returned function is called.
   * Deliveries to one listener never overlap; a slow one holds back no other.
   */
  subscribe(after: number, deliver: (events: readonly TaskEvent[]) => Promise<void>): () => void;
  /** Reads now instead of at the next poll; resolves once that read was handed out (at once when no one listens). */
  poke(): Promise<void>;
}

interface Listener {
  after: number;
  readonly deliver: (events: readonly TaskEvent[]) => Promise<void>;
  /** The listener's deliveries, one after another. */
  queue: Promise<void>;
}

/** The feed of `kb`, reading every `pollMs` while anyone listens; `log` hears a read that failed. */
export function boardFeed(kb: Kanban, pollMs: number, log: (line: string) => void): Feed {
  const listeners = new Set<Listener>();
  /** Listeners not yet caught up with the reader: the loop brings each up to `head` before it joins. */
  const joining: Listener[] = [];
  let head: number | undefined;
  let running = false;
  let wake = new AbortController();
  let unwatch: (() => void) | undefined;
  /** Pokes waiting for the next pass to end. */
  let poked: (() => void)[] = [];

  const send = (listener: Listener, events: readonly TaskEvent[]) => {
    const fresh = events.filter((event) => event.id > listener.after);
    if (fresh.length === 0) return;
    listener.after = fresh.at(-1)?.id ?? listener.after;
    listener.queue = listener.queue.then(() => listener.deliver(fresh)).catch(() => undefined);
  };

  /** Events after `from`, up to `to` when given, page by page. */
  async function readAfter(from: number, to?: number): Promise<TaskEvent[]> {
    const all: TaskEvent[] = [];
    for (let after = from; ; ) {
      const events = await kb.listEvents({ afterId: after, limit: PAGE });
      all.push(...events.filter((event) => to === undefined || event.id <= to));
      after = events.at(-1)?.id ?? after;
      if (events.length < PAGE || (to !== undefined && after >= to)) return all;
    }
  }

  async function pass(): Promise<void> {
    // A joiner leaves `joining` only once caught up: a failed read leaves it there for the next pass.
    for (let listener = joining[0]; listener; listener = joining[0]) {
      head ??= listener.after;
      if (listener.after < head) send(listener, await readAfter(listener.after, head));
      const at = joining.indexOf(listener);
      // Gone meanwhile (its stream closed): it is not fed.
      if (at < 0) continue;
      joining.splice(at, 1);
      listeners.add(listener);
    }
    if (head === undefined || listeners.size === 0) return;
    const events = await readAfter(head);
    head = events.at(-1)?.id ?? head;
    for (const listener of listeners) send(listener, events);
  }

  async function run(): Promise<void> {
    running = true;
    unwatch = kb.watchReady(() => wake.abort());
    let failing = false;
    while (listeners.size > 0 || joining.length > 0) {
      const served = poked;
      poked = [];
      try {
        await pass();
        failing = false;
      } catch (error) {
        if (!failing) log(`serve: reading the events of ${kb.location} failed: ${String(error)}; retrying`);
        failing = true;
      }
      for (const resolve of served) resolve();
      // A joiner waiting to catch up is served at once, unless reads are failing: then at the poll.
      if (joining.length === 0 || failing)
        await sleep(pollMs, undefined, { signal: wake.signal }).catch(() => undefined);
      if (wake.signal.aborted) wake = new AbortController();
    }
    unwatch();
    head = undefined;
    running = false;
    for (const resolve of poked.splice(0)) resolve();
  }

  return {
    subscribe(after, deliver) {
      const listener: Listener = { after, deliver, queue: Promise.resolve() };
      joining.push(listener);
      if (running) wake.abort();
      else void run();
      return () => {
        listeners.delete(listener);
        const at = joining.indexOf(listener);
        if (at >= 0) joining.splice(at, 1);
        // The last one gone: the reader ends now rather than at its next poll.
        if (listeners.size === 0 && joining.length === 0) wake.abort();
      };
    },
    poke() {
      if (!running) return Promise.resolve();
      const done = new Promise<void>((resolve) => poked.push(resolve));
      wake.abort();
      return done;
    },
  };
}
