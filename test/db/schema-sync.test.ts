import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { withTempDir } from '../helpers/temp';

const ROOT = join(__dirname, '..', '..');

describe('the generated migrations', () => {
  it('match src/db/schema.ts: drizzle-kit generates nothing new into a copy of drizzle/', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'drizzle');
      cpSync(join(ROOT, 'drizzle'), out, { recursive: true });
      const before = readdirSync(out).sort();
      // `generate` exits 0 even when it fails, so its output is read as well as the folder.
      const run = spawnSync(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'drizzle-kit', 'bin.cjs'),
          'generate',
          '--dialect',
          'sqlite',
          '--schema',
          join(ROOT, 'src', 'db', 'schema.ts'),
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
