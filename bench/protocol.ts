/** What the bench's child processes are asked and answer, one JSON line each. */
import { z } from 'zod';

export const request = z.object({
  /**
   * `open`: openKanban + close; `migrate`: drizzle's migrate(); `claim-*`: claim and complete up to
   * `limit` tasks: `ours` with claimNextTask + completeTask, `pair` with completeAndClaimNext,
   * `prepared` by hand on libsql; `pg-open`: ensurePgMigrated of the URL in `file`; `pg-migrate`:
   * drizzle's node-postgres migrate() on it.
   */
  op: z.enum(['open', 'migrate', 'claim-ours', 'claim-pair', 'claim-prepared', 'pg-open', 'pg-migrate']),
  file: z.string(),
  limit: z.int().min(1).default(1),
});
export type Request = z.input<typeof request>;

export const reply = z.object({
  ok: z.boolean(),
  /** Time the operation took inside the child. */
  ms: z.number(),
  /** Wall clock (epoch ms) when it finished, to tell whether it waited for a lock held elsewhere. */
  finishedAt: z.number(),
  claimed: z.array(z.string()).default([]),
  code: z.string().optional(),
  message: z.string().optional(),
});
export type Reply = z.output<typeof reply>;

/** The innermost message of an error: drizzle wraps the driver's error in "Failed query: …". */
export const rootMessage = (error: unknown): string =>
  error instanceof Error ? (error.cause === undefined ? error.message : rootMessage(error.cause)) : String(error);
