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

/**
 * Follows the board's event stream with fetch (it carries the token header, which EventSource
 * cannot) until `signal` aborts: `changed` after each burst of events, `live` as the stream comes
 * and goes; a lost stream is opened again a second later.
 */
export async function follow(
  board: string,
  changed: () => void,
  live: (on: boolean) => void,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const response = await fetch(`/api${boardPath(board, '/stream')}`, { headers: headers(), signal });
      const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
      if (!response.ok || !reader) throw new Error(`stream: ${response.status}`);
      live(true);
      let buffer = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        buffer += chunk.value;
        const messages = buffer.split('\n\n');
        buffer = messages.pop() ?? '';
        if (messages.some((m) => m.includes('event: change'))) changed();
      }
    } catch {
      if (signal.aborted) return;
    }
    live(false);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
