/** The page's side of the API: calls carrying the token, and the board's live stream. */
import type { ApiError, CardTask } from '../wire';

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? sessionStorage.getItem('kanban-token');
if (token) sessionStorage.setItem('kanban-token', token);
const headers = (): Record<string, string> => (token ? { 'x-kanban-token': token } : {});

/** Calls the API; a refusal throws with the server's message and code. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/api${path}`, {
    method,
    headers: { ...headers(), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // The server's own JSON: its shapes are the wire types.
  const data: T & Partial<ApiError> = await response.json();
  if (!response.ok) throw new Error(`${data.message ?? response.statusText} [${data.code ?? response.status}]`);
  return data;
}

export const boardPath = (board: string, rest = '') => `/boards/${encodeURIComponent(board)}${rest}`;
export const taskPath = (board: string, id: string, rest = '') =>
  boardPath(board, `/tasks/${encodeURIComponent(id)}${rest}`);
export const cards = (board: string) => call<CardTask[]>('GET', boardPath(board, '/tasks?view=cards'));
/** The cards of some tasks: those that still exist. */
export const someCards = (board: string, ids: readonly string[]) =>
  call<CardTask[]>('GET', boardPath(board, `/cards?${ids.map((id) => `id=${encodeURIComponent(id)}`).join('&')}`));

/** The task each `change` message of a stream chunk is about. */
function changedTasks(messages: readonly string[]): string[] {
  const ids: string[] = [];
  for (const message of messages) {
    if (!message.includes('event: change')) continue;
    const data = message.split('\n').find((line) => line.startsWith('data: '));
    const event: { taskId?: unknown } = data ? JSON.parse(data.slice(6)) : {};
    if (typeof event.taskId === 'string') ids.push(event.taskId);
  }
  return ids;
}

/**
 * Follows the board's event stream with fetch (it carries the token header, which EventSource
 * cannot) until `signal` aborts: `changed` with the tasks of each burst of events (none when the
 * stream was opened again: anything may have changed meanwhile), `live` as the stream comes and
 * goes; a lost stream is opened again a second later.
 */
export async function follow(
  board: string,
  changed: (taskIds: readonly string[] | undefined) => void,
  live: (on: boolean) => void,
  signal: AbortSignal,
): Promise<void> {
  let again = false;
  while (!signal.aborted) {
    try {
      const response = await fetch(`/api${boardPath(board, '/stream')}`, { headers: headers(), signal });
      const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
      if (!response.ok || !reader) throw new Error(`stream: ${response.status}`);
      live(true);
      if (again) changed(undefined);
      again = true;
      let buffer = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        buffer += chunk.value;
        const messages = buffer.split('\n\n');
        buffer = messages.pop() ?? '';
        const ids = changedTasks(messages);
        if (ids.length) changed(ids);
      }
    } catch {
      if (signal.aborted) return;
    }
    live(false);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
