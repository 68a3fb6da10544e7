import stringWidth from 'string-width';
import { kanban } from '../helpers/cli';
import { withTempDir } from '../helpers/temp';

const EVIL = 'evil \u001b[31mRED\u001b[0m\nsecond line\u0007 \u009b2J';
const WIDE = '漢字のタイトルはとても長いです🎉';

describe('the board view', () => {
  it('fits 100 columns by default, measures wide characters in cells, and keeps escape sequences and newlines off the terminal', async () => {
    await withTempDir(async (home) => {
      const [evil, wide] = [EVIL, WIDE, 'plain'].map(
        (title) => kanban(home, '--json', 'create', title, '--assignee', 'w').json().id,
      );
      kanban(home, 'block', evil, '--reason', 'on purpose');
      kanban(home, 'schedule', wide);
      const lines = kanban(home, 'board').stdout.replace(/\n$/, '').split('\n');
      // A header, a rule, one row (a card in each of three columns) and the names of the empty statuses.
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(/^SCHEDULED \(1\) +│ READY \(1\) +│ BLOCKED \(1\)/);
      for (const line of lines) {
        expect(stringWidth(line)).toBeLessThanOrEqual(100);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
        expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }
      // Every row lines up: the separators sit at the same cell offsets on every line.
      const offsets = (line: string) => {
        const chars = [...line];
        return chars.flatMap((ch, i) => (ch === '│' ? [stringWidth(chars.slice(0, i).join(''))] : []));
      };
      expect(new Set(lines.filter((l) => l.includes('│')).map((l) => offsets(l).join(','))).size).toBe(1);
      expect(kanban(home, 'list').stdout).toContain('evil RED second line');
    });
  });

  it('takes --width for the whole board, and --json gives every title byte for byte', async () => {
    await withTempDir(async (home) => {
      kanban(home, 'create', EVIL);
      kanban(home, 'create', WIDE);
      for (const line of kanban(home, 'board', '--width', '60').stdout.trimEnd().split('\n'))
        expect(stringWidth(line)).toBeLessThanOrEqual(60);
      expect(
        kanban(home, '--json', 'board')
          .json()
          .map((t: { title: string }) => t.title)
          .sort(),
      ).toEqual([EVIL, WIDE].sort());
      expect(kanban(home, 'list').stdout).not.toContain('\u001b');
    });
  });
});
