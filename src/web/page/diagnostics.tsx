/** The diagnostics strip: what `kanban diagnostics` says of the board, read again on every change. */
import { useEffect, useState } from 'preact/hooks';
import type { Diagnostic } from '../wire';
import { boardPath, call } from './api';
import { READ_AT_MOST_EVERY_MS, useSettled } from './settled';

export function Diagnostics({ board, version, open }: { board: string; version: number; open(id: string): void }) {
  const settled = useSettled(version, READ_AT_MOST_EVERY_MS);
  const [found, setFound] = useState<Diagnostic[] | undefined>();
  useEffect(() => {
    let current = true;
    call<Diagnostic[]>('GET', boardPath(board, '/diagnostics')).then(
      (read) => current && setFound(read),
      () => current && setFound(undefined),
    );
    return () => {
      current = false;
    };
  }, [board, settled]);
  if (!found) return null;
  const errors = found.filter((d) => d.severity === 'error').length;
  const summary =
    found.length === 0
      ? 'Diagnostics: nothing wrong'
      : `Diagnostics: ${errors} error${errors === 1 ? '' : 's'}, ${found.length - errors} warning${found.length - errors === 1 ? '' : 's'}`;
  return (
    <section
      class={`diagnostics ${errors ? 'bad' : found.length ? 'warn' : 'ok'}`}
      aria-label="Diagnostics"
      data-testid="diagnostics"
    >
      {found.length === 0 ? (
        <span>{summary}</span>
      ) : (
        <details>
          <summary>{summary}</summary>
          <ul>
            {found.map((d) => (
              <li key={`${d.kind}:${d.taskId}`} class={d.severity}>
                <span class="kind">{d.kind}</span>{' '}
                {d.taskId ? (
                  <button type="button" class="link" onClick={() => open(d.taskId)}>
                    {d.taskId}
                  </button>
                ) : null}{' '}
                {d.message}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
