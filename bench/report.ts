import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths';
import type { Sample } from './stats';

/** One line of the results table. The ratio is always ours ÷ baseline, of the medians. */
export interface Row {
  readonly id: string;
  readonly what: string;
  readonly unit: string;
  readonly ours: Sample;
  readonly baseline?: { readonly name: string; readonly sample: Sample };
  readonly target?: { readonly text: string; readonly met: boolean };
  readonly notes?: string;
}

const digits = (value: number) =>
  Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
export const fmt = (value: number) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits(value), minimumFractionDigits: 0 });
const cell = (s: Sample, unit: string) => `${fmt(s.median)} ${unit} (${fmt(s.p10)}–${fmt(s.p90)}, n=${s.n})`;

export function renderTable(rows: readonly Row[]): string {
  const lines = [
    '| # | measurement | kanban-db: median (p10–p90, runs) | baseline | baseline: median (p10–p90, runs) | ratio | target | notes |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const ratio = row.baseline ? `${fmt(row.ours.median / row.baseline.sample.median)}×` : '—';
    const target = row.target ? `${row.target.text}: ${row.target.met ? 'met' : '**missed**'}` : '—';
    lines.push(
      `| ${row.id} | ${row.what} | ${cell(row.ours, row.unit)} | ${row.baseline?.name ?? '—'} | ${row.baseline ? cell(row.baseline.sample, row.unit) : '—'} | ${ratio} | ${target} | ${row.notes ?? ''} |`,
    );
  }
  return lines.join('\n');
}

const versionOf = (pkg: string) =>
  String(JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version);

export function machine(sqliteVersion: string, seconds: number): string {
  const cpu = cpus();
  const packages = ['drizzle-orm', 'drizzle-kit', '@libsql/client', 'libsql', 'async-mutex', 'zod'].map(
    (p) => `${p} ${versionOf(p)}`,
  );
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30)} GiB, Linux ${release()}`,
    `- Node ${process.versions.node}, SQLite ${sqliteVersion} (libSQL), ${packages.join(', ')}`,
    `- The whole run took ${fmt(seconds)} s.`,
  ].join('\n');
}
