import { performance } from 'node:perf_hooks';

/** A measurement repeated `n` times: its median and the 10th–90th percentile range. */
export interface Sample {
  readonly median: number;
  readonly p10: number;
  readonly p90: number;
  readonly n: number;
}

function percentile(sorted: readonly number[], p: number): number {
  const at = (sorted.length - 1) * p;
  const low = sorted[Math.floor(at)] ?? NaN;
  const high = sorted[Math.ceil(at)] ?? NaN;
  return low + (high - low) * (at - Math.floor(at));
}

export function summarise(values: readonly number[]): Sample {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: percentile(sorted, 0.5),
    p10: percentile(sorted, 0.1),
    p90: percentile(sorted, 0.9),
    n: sorted.length,
  };
}

/** A measurement: microseconds per call of `op`, over `calls` calls. */
export const perCall = (calls: number, op: (i: number) => Promise<unknown>) => async (): Promise<number> => {
  const start = performance.now();
  for (let i = 0; i < calls; i++) await op(i);
  return ((performance.now() - start) * 1000) / calls;
};

/** Milliseconds `fn` takes. */
export async function elapsed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** One contender of a comparison: how to measure it once, and what it measured so far. */
export interface Series {
  readonly run: () => Promise<number>;
  readonly values: number[];
}

export const series = (run: () => Promise<number>): Series => ({ run, values: [] });

/**
 * Measures every series `reps` times, taking turns (A B C A B C …), so a slow spell of a noisy
 * machine falls on all of them alike. Each run returns its own measurement, leaving its setup untimed.
 */
export async function interleave(reps: number, contenders: readonly Series[]): Promise<void> {
  for (let rep = 0; rep < reps; rep++) {
    for (const contender of contenders) contender.values.push(await contender.run());
  }
}

export const sampleOf = (contender: Series): Sample => summarise(contender.values);

/** One untimed round, so module caches and the JIT are warm before anything counts. */
export async function warmUp(contenders: readonly Series[]): Promise<void> {
  await interleave(1, contenders);
  for (const contender of contenders) contender.values.length = 0;
}
