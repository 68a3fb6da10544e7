import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { listBoards, readBoardMeta } from '../../src/boards';
import { listServerBoards } from '../../src/engines/postgres/boards';
import { openKanban } from '../../src/kanban';
import { startServer, type BoardServer } from '../../src/web/server';
import { kanban } from '../helpers/cli';
import { startTestServer } from '../helpers/postgres';
import { chromiumPath, launchChromium } from '../helpers/browser';
import { query, withTempDir } from '../helpers/temp';

const CHROMIUM = chromiumPath();
const SCREENSHOT = join(__dirname, '..', '..', 'docs', 'board.png');
const XSS = '<img src=x onerror="window.__pwned = 1">';

// A machine without Chromium fails here instead of passing with the suite skipped; CI installs it (.ci/run).
test('Chromium is installed (apt-get install -y chromium)', () => {
  expect(CHROMIUM).toEqual(expect.any(String));
});

(CHROMIUM ? describe : describe.skip)('the web board in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium(CHROMIUM ?? '');
  });
  afterAll(async () => {
    await browser.close();
  });

  async function withBoard(
    fn: (page: Page, server: BoardServer, home: string) => Promise<void>,
    options: BrowserContextOptions = {},
  ): Promise<void> {
    await withTempDir(async (home) => {
      const kb = await openKanban({ home, board: 'default' });
      const parent = await kb.createTask({ title: 'Design the feature', assignee: 'builder', priority: 3 });
      await kb.createTask({ title: 'Build the feature', assignee: 'builder', priority: 2, parents: [parent.id] });
      await kb.createTask({ title: 'Write the docs', assignee: 'writer', body: 'Usage and examples' });
      const failing = await kb.createTask({ title: 'Call the flaky model', assignee: 'flaky' });
      const claim = await kb.claimTask(failing.id);
      await kb.recordFailure(failing.id, { runId: claim?.runId, error: 'exit 3: model overloaded', limit: 1 });
      kb.close();
      const server = await startServer({ home, port: 0 });
      const page = await browser.newPage({ viewport: { width: 1500, height: 800 }, ...options });
      try {
        await page.goto(server.url);
        await page.locator('[data-testid=live]', { hasText: 'live' }).waitFor();
        await fn(page, server, home);
      } finally {
        await page.close();
        await server.close();
      }
    });
  }
  const card = (page: Page, title: string) => page.locator('.card', { hasText: title });
  const column = (page: Page, status: string) => page.locator(`.column[data-status=${status}]`);

  it('shows the columns and cards, and makes a screenshot for the README', async () => {
    await withBoard(async (page) => {
      await card(page, 'Design the feature').waitFor();
      expect(await page.locator('.column h2').allTextContents()).toEqual([
        'triage · 0',
        'todo · 1',
        'scheduled · 0',
        'ready · 2',
        'running · 0',
        'blocked · 1',
        'review · 0',
        'done · 0',
      ]);
      expect(await column(page, 'blocked').locator('.card').textContent()).toContain('1 failed');
      await page.screenshot({ path: SCREENSHOT });
    });
  });

  it('creates a task in the page and shows it', async () => {
    await withBoard(async (page, _server, home) => {
      await page.fill('[data-testid=create-title]', 'Made in the browser');
      await page.fill('[data-testid=create-assignee]', 'web');
      await page.click('[data-testid=create-form] button');
      await column(page, 'ready').locator('.card', { hasText: 'Made in the browser' }).waitFor();
      expect(
        await query(join(home, 'kanban.db'), "SELECT assignee FROM tasks WHERE title = 'Made in the browser'"),
      ).toEqual([{ assignee: 'web' }]);
    });
  });

  it('updates without a reload when another process changes the board', async () => {
    await withBoard(async (page, _server, home) => {
      await page.evaluate(() => Reflect.set(globalThis, '__sameDocument', true));
      const { id } = kanban(home, '--json', 'create', 'Created by the CLI').json();
      await card(page, 'Created by the CLI').waitFor();
      kanban(home, 'complete', id);
      await column(page, 'done').locator('.card', { hasText: 'Created by the CLI' }).waitFor();
      expect(await page.evaluate(() => Reflect.get(globalThis, '__sameDocument'))).toBe(true);
    });
  });

  it('moves a card by drag and drop and by the drawer’s buttons, and adds a comment', async () => {
    await withBoard(async (page, _server, home) => {
      const db = join(home, 'kanban.db');
      await card(page, 'Write the docs').dragTo(column(page, 'done'));
      await column(page, 'done').locator('.card', { hasText: 'Write the docs' }).waitFor();
      expect(await query(db, "SELECT status FROM tasks WHERE title = 'Write the docs'")).toEqual([{ status: 'done' }]);
      await card(page, 'Call the flaky model').click();
      await page.locator('#drawer', { hasText: 'exit 3: model overloaded' }).waitFor();
      await page.click('#drawer button[data-action=unblock]');
      await column(page, 'ready').locator('.card', { hasText: 'Call the flaky model' }).waitFor();
      await page.locator('#drawer p', { hasText: '· ready ·' }).waitFor();
      await page.fill('#drawer textarea[name=comment]', 'Retried after the outage');
      await page.click('#drawer button[data-action=comment]');
      await page.locator('#drawer .comments li', { hasText: 'web: Retried after the outage' }).waitFor();
      expect(await query(db, 'SELECT author, body FROM task_comments')).toEqual([
        { author: 'web', body: 'Retried after the outage' },
      ]);
    });
  });

  it('shows a title holding HTML as text, and runs none of it', async () => {
    await withBoard(async (page, _server, home) => {
      kanban(home, 'create', XSS);
      await card(page, XSS).waitFor();
      expect(await card(page, XSS).locator('.title').textContent()).toBe(XSS);
      expect(await page.locator('.card img').count()).toBe(0);
      await card(page, XSS).click();
      await page.locator('#drawer h2', { hasText: XSS }).waitFor();
      expect(await page.evaluate(() => Reflect.get(globalThis, '__pwned'))).toBeUndefined();
    });
  });

  it('refuses a write that a page of another site sends, and writes nothing', async () => {
    await withBoard(async (page, server, home) => {
      // The same board under another loopback name is another site to the browser.
      await page.goto(server.url.replace('127.0.0.1', 'localhost'));
      const status = await page.evaluate(async (target) => {
        const response = await fetch(`${target}api/boards/default/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify({ title: 'forged' }),
        }).catch(() => undefined);
        return response ? response.status : 0;
      }, server.url);
      // Either the server answered 403, or the browser did not let the page read the answer (opaque): both leave no task.
      expect([403, 0]).toContain(status);
      expect(await query(join(home, 'kanban.db'), "SELECT COUNT(*) AS n FROM tasks WHERE title = 'forged'")).toEqual([
        { n: 0 },
      ]);
    });
  });
  it('shows lanes by assignee when asked, and remembers the choice', async () => {
    await withBoard(async (page) => {
      await page.check('[data-testid=lanes]');
      const lane = (name: string) => page.locator(`.lane[data-assignee="${name}"]`);
      await lane('builder').waitFor();
      expect(await lane('builder').locator('.card').count()).toBe(2);
      expect(await lane('writer').locator('.column[data-status=ready] .card').allTextContents()).toEqual([
        expect.stringContaining('Write the docs'),
      ]);
      expect(await lane('flaky').locator('.column[data-status=blocked] .card').count()).toBe(1);
      await page.reload();
      await lane('writer').waitFor();
      await page.uncheck('[data-testid=lanes]');
      await page.locator('.lane').first().waitFor({ state: 'detached' });
    });
  });

  it('moves, assigns and archives selected cards together', async () => {
    await withBoard(async (page, _server, home) => {
      const db = join(home, 'kanban.db');
      expect(await page.locator('input.pick').count()).toBe(0);
      await page.check('[data-testid=select-mode]');
      for (const title of ['Design the feature', 'Write the docs'])
        await card(page, title).locator('input.pick').check();
      await page.locator('[data-testid=bulk]', { hasText: '2 selected' }).waitFor();
      await page.fill('[data-testid=bulk-assignee]', 'reviewer');
      await page.click('[data-testid=bulk] button[type=submit]');
      await column(page, 'ready').locator('.card', { hasText: '@reviewer' }).nth(1).waitFor();
      for (const title of ['Design the feature', 'Write the docs'])
        await card(page, title).locator('input.pick').check();
      await page.selectOption('[data-testid=bulk-move]', 'done');
      await column(page, 'done').locator('.card').nth(1).waitFor();
      expect(await query(db, "SELECT title, assignee FROM tasks WHERE status = 'done' ORDER BY title")).toEqual([
        { title: 'Design the feature', assignee: 'reviewer' },
        { title: 'Write the docs', assignee: 'reviewer' },
      ]);
      await card(page, 'Write the docs').locator('input.pick').check();
      await page.click('[data-testid=bulk-archive]');
      await card(page, 'Write the docs').waitFor({ state: 'detached' });
      expect(await query(db, "SELECT status FROM tasks WHERE title = 'Write the docs'")).toEqual([
        { status: 'archived' },
      ]);
    });
  });

  it('renders bodies and comments as Markdown, with raw HTML shown as text and nothing run', async () => {
    await withBoard(async (page, _server, home) => {
      const body = `**Bold** and a [link](https://example.org).\n\n<script>window.__pwned = 1</script>\n\n${XSS}`;
      const { id } = kanban(home, '--json', 'create', 'Markdown task', '--body', body).json();
      kanban(home, 'comment', id, '_quiet_ [x](javascript:alert(1))');
      await card(page, 'Markdown task').click();
      const rendered = page.locator('#drawer .body-md');
      await rendered.locator('strong', { hasText: 'Bold' }).waitFor();
      expect(await rendered.locator('a').getAttribute('href')).toBe('https://example.org');
      expect(await rendered.textContent()).toContain('<script>window.__pwned = 1</script>');
      expect(await page.locator('#drawer script, #drawer img').count()).toBe(0);
      const comment = page.locator('#drawer .comments li');
      await comment.locator('em', { hasText: 'quiet' }).waitFor();
      expect(await comment.locator('a').getAttribute('href')).toBeNull();
      expect(await page.evaluate(() => Reflect.get(globalThis, '__pwned'))).toBeUndefined();
      await page.screenshot({ path: join(__dirname, '..', '..', 'docs', 'drawer.png') });
    });
  });

  it('edits a task’s dependencies in the drawer', async () => {
    await withBoard(async (page, _server, home) => {
      const db = join(home, 'kanban.db');
      await card(page, 'Build the feature').click();
      await page.locator('#drawer li', { hasText: 'Design the feature' }).waitFor();
      await page.click('#drawer button[data-action=unlink]');
      await page.locator('#drawer li', { hasText: 'Design the feature' }).waitFor({ state: 'detached' });
      expect(await query(db, 'SELECT COUNT(*) AS n FROM task_links')).toEqual([{ n: 0 }]);
      const [docs] = await query(db, "SELECT id FROM tasks WHERE title = 'Write the docs'");
      await page.fill('#drawer input[name=parent]', String(docs?.id));
      await page.click('#drawer button[data-action=link]');
      await page.locator('#drawer li', { hasText: 'Write the docs' }).waitFor();
      expect(await query(db, 'SELECT COUNT(*) AS n FROM task_links')).toEqual([{ n: 1 }]);
    });
  });

  it('colours a running task whose heartbeat is older than half its lease', async () => {
    await withBoard(async (page, _server, home) => {
      const db = join(home, 'kanban.db');
      const kb = await openKanban({ home, board: 'default' });
      const [docs] = await kb.listTasks({ assignee: 'writer' });
      if (!docs) throw new Error('no task for writer');
      await kb.claimTask(docs.id, { ttlSeconds: 600 });
      await column(page, 'running').locator('.card', { hasText: 'Write the docs' }).waitFor();
      expect(await page.locator('.card.stale').count()).toBe(0);
      const now = Math.floor(Date.now() / 1000);
      // Its last heartbeat 500 s ago, its lease ending in 100: more than half the lease without a beat.
      await kb.heartbeat(docs.id);
      kb.close();
      await query(db, 'UPDATE tasks SET last_heartbeat_at = ?, claim_expires = ? WHERE id = ?', [
        now - 500,
        now + 100,
        docs.id,
      ]);
      kanban(home, 'comment', docs.id, 'poke the page');
      await page.locator('.card.stale', { hasText: 'Write the docs' }).waitFor();
      expect(await page.locator('.card.stale .stale-note').textContent()).toBe('no heartbeat');
    });
  });

  it('follows the system’s dark mode', async () => {
    const background = (page: Page) => page.evaluate('getComputedStyle(document.documentElement).backgroundColor');
    let light: unknown;
    await withBoard(async (page) => {
      light = await background(page);
    });
    await withBoard(
      async (page) => {
        expect(await background(page)).not.toBe(light);
        expect(await background(page)).toBe('rgb(17, 20, 24)');
      },
      { colorScheme: 'dark' },
    );
  });
  it('moves focus between cards and columns with the arrows, opens with Enter, and moves a card with shift', async () => {
    await withBoard(async (page, _server, home) => {
      const focused = () => page.locator(':focus').textContent();
      await card(page, 'Design the feature').locator('.title').focus();
      await page.keyboard.press('ArrowDown');
      expect(await focused()).toBe('Write the docs');
      await page.keyboard.press('ArrowUp');
      expect(await focused()).toBe('Design the feature');
      await page.keyboard.press('ArrowLeft');
      expect(await focused()).toBe('Build the feature');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      expect(await focused()).toBe('Call the flaky model');
      await page.keyboard.press('Enter');
      await page.locator('#drawer h2', { hasText: 'Call the flaky model' }).waitFor();
      await card(page, 'Write the docs').locator('.title').focus();
      // Right of ready: running cannot be entered from the board, blocked can.
      await page.keyboard.press('Shift+ArrowRight');
      await column(page, 'blocked').locator('.card', { hasText: 'Write the docs' }).waitFor();
      expect(await query(join(home, 'kanban.db'), "SELECT status FROM tasks WHERE title = 'Write the docs'")).toEqual([
        { status: 'blocked' },
      ]);
      await page.locator('.card .title:focus', { hasText: 'Write the docs' }).waitFor();
    });
  });
  it('has no serious or critical accessibility violation (axe-core), in light and dark, with the drawer, lanes and charts open', async () => {
    const AXE = require.resolve('axe-core/axe.min.js');
    const serious = `axe.run({ resultTypes: ['violations'] }).then((result) => result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')))`;
    for (const colorScheme of ['light', 'dark'] as const)
      await withBoard(
        async (page) => {
          await card(page, 'Design the feature').waitFor();
          await page.addScriptTag({ path: AXE });
          expect(await page.evaluate(serious)).toEqual([]);
          await card(page, 'Call the flaky model').click();
          await page.locator('#drawer', { hasText: 'exit 3: model overloaded' }).waitFor();
          await page.check('[data-testid=select-mode]');
          await card(page, 'Write the docs').locator('input.pick').check();
          expect(await page.evaluate(serious)).toEqual([]);
          await page.click('#drawer .close');
          await page.check('[data-testid=lanes]');
          await page.locator('.lane').first().waitFor();
          await page.check('[data-testid=charts-toggle]');
          await page.locator('[data-testid=charts] canvas').first().waitFor();
          expect(await page.evaluate(serious)).toEqual([]);
        },
        // The check is a script the page's own policy would refuse; the page under test is unchanged.
        { colorScheme, bypassCSP: true },
      );
  });
  it('deletes a task from the drawer, and refuses one another task waits for', async () => {
    await withBoard(async (page, _server, home) => {
      const db = join(home, 'kanban.db');
      page.on('dialog', (dialog) => void dialog.accept());
      await card(page, 'Design the feature').click();
      await page.locator('#drawer h2', { hasText: 'Design the feature' }).waitFor();
      await page.click('#drawer button[data-action=delete]');
      await page.locator('[data-testid=error]', { hasText: 'REFERENCED' }).waitFor();
      await card(page, 'Write the docs').click();
      await page.locator('#drawer h2', { hasText: 'Write the docs' }).waitFor();
      await page.click('#drawer button[data-action=delete]');
      await card(page, 'Write the docs').waitFor({ state: 'detached' });
      await page.locator('#drawer').waitFor({ state: 'detached' });
      expect(await query(db, 'SELECT title FROM tasks ORDER BY title')).toEqual([
        { title: 'Build the feature' },
        { title: 'Call the flaky model' },
        { title: 'Design the feature' },
      ]);
    });
  });
  it('makes, renames and removes boards from the page', async () => {
    await withBoard(async (page, _server, home) => {
      const answers = ['ops', 'Ops team'];
      page.on('dialog', (dialog) => void dialog.accept(dialog.type() === 'prompt' ? answers.shift() : undefined));
      await page.click('[data-testid=board-new]');
      await page.waitForURL(/board=ops/);
      expect(await page.locator('[data-testid=board-select]').inputValue()).toBe('ops');
      await page.locator('[data-testid=live]', { hasText: 'live' }).waitFor();
      // Made by another process: the page merges its card into what it shows.
      kanban(home, '--board', 'ops', 'create', 'First on ops');
      await card(page, 'First on ops').waitFor();
      // Only the new board's card: no read of the board shown before the switch lands on this one.
      expect(await page.locator('.card').allTextContents()).toEqual([expect.stringContaining('First on ops')]);
      await page.click('[data-testid=board-rename]');
      await page.locator('[data-testid=board-select] option', { hasText: 'Ops team' }).waitFor({ state: 'attached' });
      expect(readBoardMeta(home, 'ops').name).toBe('Ops team');
      await page.click('[data-testid=board-remove]');
      await page.waitForURL(/board=default/);
      await card(page, 'Design the feature').waitFor();
      expect(await page.locator('[data-testid=board-select] option').allTextContents()).toEqual(['Default']);
      expect(listBoards(home).map((b) => b.slug)).toEqual(['default']);
    });
  });
  it('shows the board’s diagnostics in a strip, each opening its task', async () => {
    await withBoard(async (page, _server, home) => {
      const strip = page.locator('[data-testid=diagnostics]');
      await strip.locator('span', { hasText: 'nothing wrong' }).waitFor();
      const [docs] = await query(join(home, 'kanban.db'), "SELECT id FROM tasks WHERE title = 'Write the docs'");
      const id = String(docs?.id);
      kanban(home, 'claim', id);
      // Its lease ran out a minute ago, and no dispatcher has handed it back yet.
      await query(join(home, 'kanban.db'), 'UPDATE tasks SET claim_expires = ? WHERE id = ?', [
        Math.floor(Date.now() / 1000) - 60,
        id,
      ]);
      kanban(home, 'comment', id, 'poke the page');
      await strip.locator('summary', { hasText: '1 error, 0 warnings' }).click();
      await strip.locator('li', { hasText: 'lease_expired' }).locator('button').click();
      await page.locator('#drawer h2', { hasText: 'Write the docs' }).waitFor();
      kanban(home, 'reclaim', id);
      await strip.locator('span', { hasText: 'nothing wrong' }).waitFor();
    });
  });
  it('draws the cumulative flow and the lead and cycle times from a known event log', async () => {
    await withBoard(async (page, server, home) => {
      const HOUR = 3600;
      let clock = Math.floor(Date.now() / 1000 / 86_400) * 86_400 - 2 * 86_400 + 9 * HOUR;
      const kb = await openKanban({ home, board: 'flow', now: () => clock });
      const a1 = await kb.createTask({ title: 'a1', assignee: 'ana' });
      const b1 = await kb.createTask({ title: 'b1', assignee: 'bo' });
      await kb.createTask({ title: 'c1', assignee: 'bo' });
      clock += 24 * HOUR;
      const first = await kb.claimTask(a1.id);
      clock += 2 * HOUR;
      await kb.completeTask(a1.id, { runId: first?.runId });
      clock += 24 * HOUR;
      const second = await kb.claimTask(b1.id);
      clock += 3 * HOUR;
      await kb.completeTask(b1.id, { runId: second?.runId });
      kb.close();
      await page.goto(`${server.url}?board=flow`);
      await page.check('[data-testid=charts-toggle]');
      const rows = page.locator('[data-testid=flow-table] tbody tr');
      await rows.first().waitFor();
      expect(await rows.count()).toBe(14);
      const last = async (n: number) =>
        (
          await rows
            .nth(14 - n)
            .locator('td')
            .allTextContents()
        ).map(Number);
      expect([await last(3), await last(2), await last(1)]).toEqual([
        [3, 0, 0],
        [3, 1, 1],
        [3, 2, 2],
      ]);
      expect(await page.locator('[data-testid=times-table] tbody tr').allInnerTexts()).toEqual([
        'ana\t1\t26.0\t2.0',
        'bo\t1\t53.0\t3.0',
      ]);
      expect(await page.locator('[data-testid=charts] .plot canvas').count()).toBe(2);
      await page
        .locator('[data-testid=charts]')
        .screenshot({ path: join(__dirname, '..', '..', 'docs', 'charts.png') });
    });
  });
  it('moves a card on a touch screen by dragging its grip to another column', async () => {
    await withBoard(async (page, _server, home) => {
      const grip = card(page, 'Write the docs').locator('.grip');
      const from = await grip.boundingBox();
      const to = await column(page, 'done').boundingBox();
      if (!from || !to) throw new Error('the grip or the done column is not on the page');
      const at = (box: { x: number; y: number; width: number; height: number }) => ({
        clientX: box.x + box.width / 2,
        clientY: box.y + box.height / 2,
        pointerType: 'touch',
        pointerId: 7,
        isPrimary: true,
      });
      await grip.dispatchEvent('pointerdown', at(from));
      await page.locator('.card.dragging').waitFor();
      await grip.dispatchEvent('pointermove', at(to));
      await column(page, 'done').and(page.locator('.over')).waitFor();
      await grip.dispatchEvent('pointerup', at(to));
      await column(page, 'done').locator('.card', { hasText: 'Write the docs' }).waitFor();
      expect(await query(join(home, 'kanban.db'), "SELECT status FROM tasks WHERE title = 'Write the docs'")).toEqual([
        { status: 'done' },
      ]);
    });
  });
  it('works a board on a PostgreSQL server the same way: live changes, a move, a new board', async () => {
    const url = await (await startTestServer()).database('browser_board');
    const kb = await openKanban({ url, board: 'default' });
    const server = await startServer({ url, port: 0 });
    const page = await browser.newPage({ viewport: { width: 1500, height: 800 } });
    try {
      await kb.createTask({ title: 'On the server', assignee: 'w' });
      await page.goto(server.url);
      await page.locator('[data-testid=live]', { hasText: 'live' }).waitFor();
      await card(page, 'On the server').waitFor();
      const later = await kb.createTask({ title: 'Made by another host', assignee: 'w' });
      await column(page, 'ready').locator('.card', { hasText: 'Made by another host' }).waitFor();
      await card(page, 'Made by another host').dragTo(column(page, 'done'));
      await column(page, 'done').locator('.card', { hasText: 'Made by another host' }).waitFor();
      expect((await kb.getTask(later.id)).status).toBe('done');
      page.on('dialog', (dialog) => void dialog.accept('ops'));
      await page.click('[data-testid=board-new]');
      await page.waitForURL(/board=ops/);
      expect((await listServerBoards(url)).map((b) => b.slug)).toEqual(['default', 'ops']);
    } finally {
      await page.close();
      await server.close();
      kb.close();
    }
  });
});
