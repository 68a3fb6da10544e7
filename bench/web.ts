/** Row 11: the web board on a 5,000-task board: the API's task list and the page's first load in Chromium, each under 1 s. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer } from 'kanban-db';
import { chromiumPath, launchChromium } from '../test/helpers/browser';
import { readyBoard } from './board';
import { fmt, type Row } from './report';
import { elapsed, interleave, sampleOf, series, warmUp } from './stats';

const TASKS = 5_000;
const RUNS = 7;

export async function webRows(dir: string): Promise<Row[]> {
  const home = join(dir, 'web');
  mkdirSync(home);
  await readyBoard(join(home, 'kanban.db'), TASKS);
  const server = await startServer({ home, port: 0 });
  try {
    const list = series(() => elapsed(async () => (await fetch(`${server.url}api/boards/default/tasks`)).json()));
    await warmUp([list]);
    await interleave(RUNS, [list]);
    const rows: Row[] = [
      {
        id: '11a',
        what: `\`GET /api/boards/default/tasks\` on a ${fmt(TASKS)}-task board (all of them, as JSON)`,
        unit: 'ms',
        ours: sampleOf(list),
        target: { text: '< 1,000 ms', met: sampleOf(list).median < 1000 },
      },
    ];
    const executable = chromiumPath();
    if (!executable) {
      process.stderr.write('bench: no chromium on PATH; row 11b (first page load) did not run\n');
      return rows;
    }
    const browser = await launchChromium(executable);
    try {
      const load = series(async () => {
        const page = await browser.newPage();
        const start = performance.now();
        await page.goto(server.url);
        await page
          .locator('.card')
          .nth(TASKS - 1)
          .waitFor({ state: 'attached' });
        const ms = performance.now() - start;
        await page.close();
        return ms;
      });
      await warmUp([load]);
      await interleave(RUNS, [load]);
      rows.push({
        id: '11b',
        what: `first load of the board page in headless Chromium until all ${fmt(TASKS)} cards are in the page`,
        unit: 'ms',
        ours: sampleOf(load),
        target: { text: '< 500 ms', met: sampleOf(load).median < 500 },
      });
    } finally {
      await browser.close();
    }
    return rows;
  } finally {
    await server.close();
  }
}
