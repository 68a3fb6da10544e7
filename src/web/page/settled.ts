import { useEffect, useRef, useState } from 'preact/hooks';

/** How often the views that read much follow a busy board. */
export const READ_AT_MOST_EVERY_MS = 2_000;

/**
 * `version`, passed on at most once every `ms`: a view that reads much (the diagnostics, the
 * flow from the whole event log) follows a busy board at its own pace instead of on every change.
 * The first change after a quiet spell passes at once; later ones within `ms` fold into one at
 * its end.
 */
export function useSettled(version: number, ms: number): number {
  const [settled, setSettled] = useState(version);
  const last = useRef(0);
  useEffect(() => {
    const pass = () => {
      last.current = Date.now();
      setSettled(version);
    };
    const wait = last.current + ms - Date.now();
    if (wait <= 0) {
      pass();
      return undefined;
    }
    const timer = setTimeout(pass, wait);
    return () => clearTimeout(timer);
  }, [version, ms]);
  return settled;
}
