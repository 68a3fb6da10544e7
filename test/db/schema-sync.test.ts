import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { withTempDir } from '../helpers/temp';

const ROOT = join(__dirname, '..', '..');

describe('the generated migrations', () => {
  it.each([
    ['sqlite', 'src/core/schema.ts', 'drizzle'],
    ['postgresql', 'src/engines/postgres/schema.ts', 'drizzle-pg'],
  ])('of %s match %s: drizzle-kit generates nothing new into a copy of %s/', async (dialect, schema, folder) => {
    await withTempDir(async (dir) => {
      const out = join(dir, folder);
      cpSync(join(ROOT, folder), out, { recursive: true });
      const before = readdirSync(out).sort();
      // `generate` exits 0 even when it fails, so its output is read as well as the folder.
      const run = spawnSync(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'drizzle-kit', 'bin.cjs'),
          'generate',
          '--dialect',
          dialect,
          '--schema',
          join(ROOT, schema),
          '--out',
          relative(ROOT, out),
        ],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(run.status).toBe(0);
      expect(run.stdout + run.stderr).toContain('No schema changes');
      expect(readdirSync(out).sort()).toEqual(before);
    });
  });
});
