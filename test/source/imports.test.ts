import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const SRC = join(__dirname, '..', '..', 'src');

/** Every TypeScript file under `dir`. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The files a file imports or re-exports from by relative path, type-only imports included. */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/(?:import|export)[^'"]*?from '(\.[^']+)'/g)].map(([, spec]) => {
    const target = join(dirname(file), spec ?? '');
    return existsSync(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts');
  });
}

describe('the source', () => {
  it('has no import circle, type-only imports included', () => {
    const graph = new Map(files(SRC).map((file) => [file, importsOf(file)]));
    const circles: string[] = [];
    const done = new Set<string>();
    const visit = (file: string, path: string[]): void => {
      if (path.includes(file)) {
        circles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' → '));
        return;
      }
      if (done.has(file)) return;
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      done.add(file);
    };
    for (const file of graph.keys()) visit(file, []);
    expect(circles).toEqual([]);
  });

  it('keeps the rules apart from the engines: nothing in src/core imports src/engines or the Kanban handle', () => {
    const core = files(join(SRC, 'core'));
    expect(core.length).toBeGreaterThan(10);
    const outward = core.flatMap((file) =>
      importsOf(file)
        .map((target) => relative(SRC, target))
        .filter((target) => /^(engines|kanban|gateway|cli|web)\b/.test(target))
        .map((target) => `${relative(SRC, file)} → ${target}`),
    );
    expect(outward).toEqual([]);
  });
});
