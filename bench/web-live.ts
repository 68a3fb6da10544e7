/**
 * Rows 11c and 11d: the page live on a 5,000-task board. 11c: a change made by the `kanban`
 * command shown in an open page, from the command's exit (its commit done) to the card in the
 * page. 11d: the CPU a `kanban serve` process spends over an idle window with 50 open event
 * streams of one board, against one stream: every stream of a board shares one reader.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromiumPath, launchChromium } from '../test/helpers/browser';
import { readyBoard } from './board';
import { CLI } from './paths';
import { fmt, type Row } from './report';
import { sampleOf, series, summarise } from './stats';

const TASKS = 5_000;
const CHANGES = 21;
const STREAMS = 50;
/** The idle window whose CPU 11d counts, long enough for many of the reader's 100 ms polls. */
const WINDOW_MS = 5_000;
const ENV = { ...process.env, KANBAN_DB: '', KANBAN_BOARD: '' };

/** User and system CPU of a process so far, in milliseconds (Linux `/proc`). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  return ((Number(fields[11]) + Number(fields[12])) / ticks) * 1000;
}

/** `kanban serve` on the home in a process of its own; its page's address once it listens. */
async function serve(home: string) {
  const child = spawn(process.execPath, [CLI, '--home', home, 'serve', '--port', '0'], { env: ENV });
  let said = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      const found = /at (http:\/\/\S+?\/)[;?#]/.exec(said);
      if (found?.[1]) resolve(found[1]);
    });
    child.once('exit', () => reject(new Error(`kanban serve ended: ${said}`)));
  });
  return { url, pid: child.pid ?? 0, stop: () => child.kill('SIGTERM') };
}

/** CPU of the server over an idle window with `count` streams open. */
async function idleCpu(server: { url: string; pid: number }, count: number): Promise<number> {
  const stop = new AbortController();
  const streams = Array.from({ length: count }, () =>
    fetch(`${server.url}api/boards/default/stream`, { signal: stop.signal }).then(async (response) => {
      const reader = response.body?.getReader();
      while (reader && !(await reader.read()).done);
    }),
  );
  // Every stream has been answered and joined the reader before the window opens.
  await sleep(500);
  const before = cpuMs(server.pid);
  await sleep(WINDOW_MS);
  const used = cpuMs(server.pid) - before;
  stop.abort();
  await Promise.allSettled(streams);
  return used;
}

export async function webLiveRows(dir: string): Promise<Row[]> {
  const home = join(dir, 'web-live');
  mkdirSync(home);
  await readyBoard(join(home, 'kanban.db'), TASKS);
  const server = await serve(home);
  try {
    const one = series(() => idleCpu(server, 1));
    const many = series(() => idleCpu(server, STREAMS));
    for (let i = 0; i < 3; i++) {
      one.values.push(await one.run());
      many.values.push(await many.run());
    }
    const rows: Row[] = [
      {
        id: '11d',
        what: `CPU of a \`kanban serve\` process over ${fmt(WINDOW_MS / 1000)} idle seconds with ${STREAMS} open streams of one ${fmt(TASKS)}-task board`,
        unit: 'ms',
        ours: sampleOf(many),
        baseline: { name: 'the same with 1 open stream', sample: sampleOf(one) },
        target: { text: '≤ 2× one stream', met: sampleOf(many).median <= 2 * sampleOf(one).median },
        notes:
          'every stream of a board shares its one reader of the event log (a read every 100 ms while anyone watches)',
      },
    ];
    const executable = chromiumPath();
    if (!executable) throw new Error('bench: row 11c needs Chromium on the PATH (apt-get install -y chromium)');
    const browser = await launchChromium(executable);
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.locator('[data-testid=live]', { hasText: 'live' }).waitFor();
      await page
        .locator('.card')
        .nth(TASKS - 1)
        .waitFor({ state: 'attached' });
      const shown: number[] = [];
      for (let i = 0; i < CHANGES; i++) {
        const title = `changed by the CLI ${i}`;
        execFileSync(process.execPath, [CLI, '--home', home, 'create', title], { env: ENV });
        const exited = performance.now();
        await page.locator('.card', { hasText: title }).waitFor({ state: 'attached' });
        if (i > 0) shown.push(performance.now() - exited);
      }
      const sample = summarise(shown);
      rows.push({
        id: '11c',
        what: `a task created by \`kanban create\` shown in an open page of a ${fmt(TASKS)}-task board, from the command's exit to the card in the page`,
        unit: 'ms',
        ours: sample,
        target: { text: 'p50 < 300 ms', met: sample.median < 300 },
        notes: 'the board’s reader polls every 100 ms; the page then reads the changed task’s card only',
      });
    } finally {
      await browser.close();
    }
    return rows;
  } finally {
    server.stop();
  }
}
